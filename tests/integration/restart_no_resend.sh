#!/usr/bin/env bash
# restart_no_resend — kill -9 the agent in the middle of an upload, restart it with --once:
#   * nothing is missing at the hub and nothing is indexed twice (instance totals = DICOM files),
#   * nothing is left in flight or failed in the queue,
#   * a further `run --once` over the same folder collects and sends nothing.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

it_corpus "$WORK/corpus" --ct-slices "${IT_SLICES:-300}"
IT_HUB_LOG_LEVEL=debug  # every request with its status goes to hub.log
it_start_hub
TOKEN=$(it_new_agent hosp-a agent-a)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
# One upload at a time so that the kill lands between receipts.
CFG=$(it_agent_config agent-a "$WORK/corpus" 1)
total=$(find "$WORK/corpus" -type f | wc -l)

# 1. run (the service loop) and kill -9 once some, but not all, items are done.
AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent-1.log" "$AGENT" run --config "$CFG"
done_at_kill=-1
threshold=$(( total / 5 > 0 ? total / 5 : 1 ))   # well into the upload, far from its end
for _ in $(seq 600); do
  if "$AGENT" status --config "$CFG" --json >"$WORK/poll.json" 2>/dev/null; then
    d=$(jq '.queue.done' "$WORK/poll.json" 2>/dev/null || echo 0)
    if [ "$d" -ge "$threshold" ]; then
      kill -KILL "$(cat "$AGENT_PID")"
      done_at_kill=$d
      break
    fi
  fi
  sleep 0.05
done
lb_stop "$AGENT_PID" KILL 5
[ "$done_at_kill" -ge 1 ] || it_fail "the agent uploaded nothing within 30 s"
it_status "$CFG" "$WORK/status-killed.json"
done_after_kill=$(jq '.queue.done' "$WORK/status-killed.json")
it_note "kill -9 after $done_at_kill receipts ($done_after_kill done in the queue, $total files)"
if [ "$done_after_kill" -ge "$((total - 1))" ]; then
  echo "WARNING: the kill landed after (almost) every upload; the restart path was barely exercised" >&2
fi

# 2. restart with --once: finishes the rest.
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run2.json" 2>"$WORK/logs/agent-2.log" || it_fail "run --once after kill -9 failed"
it_status "$CFG" "$WORK/status-2.json"
S=$WORK/status-2.json
quar=$(jq '.queue.quarantined' "$S")
it_eq "$(jq '.queue.failed' "$S")" 0 "failed items after restart"
it_eq "$(jq '.queue.uploading + .queue.collected + .queue.verified' "$S")" 0 "items left in flight after restart"
it_eq "$(jq '.queue.done' "$S")" "$((total - quar))" "done items after restart"
it_eq "$(jq '[.queue[]] | add' "$S")" "$total" "queue items (one per file, no duplicates)"

# The restart sent only what had no receipt yet; a re-sent item got 200 AlreadyStored, not 201.
remaining=$((total - quar - done_after_kill))
it_eq "$(jq '.uploaded + .already_stored' "$WORK/run2.json")" "$remaining" "items sent after the restart (Stored + AlreadyStored)"
it_eq "$(it_hub_puts 201)" "$((total - quar))" "PUTs answered 201 Stored by the hub (once per object)"
it_note "PUTs answered 200 AlreadyStored (re-sent after the kill): $(it_hub_puts 200)"

# 3. the hub holds every file once: instance totals equal the DICOM files accepted.
dicom=0
bad=$(jq -r '.quarantined[].path | split("/") | last' "$S")
while IFS= read -r -d '' f; do
  b=$(basename "$f")
  grep -qxF "$b" <<<"$bad" && continue
  sha=$(it_sha "$f")
  code=$(it_api "$TOKEN" GET "/api/v1/objects/$sha")
  [ "$code" = 200 ] || it_fail "missing at the hub after restart: $f ($code)"
  if dcmdump -q +P 0020,000d "$f" >/dev/null 2>&1; then dicom=$((dicom + 1)); fi
done < <(find "$WORK/corpus" -type f -print0)
code=$(it_api "$TOKEN" GET "/api/v1/studies?limit=1000")
it_eq "$code" 200 "GET /api/v1/studies"
it_eq "$(jq '[.studies[].instance_count] | add' "$WORK/body")" "$dicom" "instances indexed at the hub (= accepted DICOM files)"

# 4. run --once again on the same folder: nothing new is collected and nothing is sent.
puts_before=$(( $(it_hub_puts 201) + $(it_hub_puts 200) ))
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run3.json" 2>"$WORK/logs/agent-3.log" || it_fail "third run --once failed"
it_eq "$(jq '.collected' "$WORK/run3.json")" 0 "files collected by the re-run"
it_eq "$(jq '.uploaded + .already_stored' "$WORK/run3.json")" 0 "files sent by the re-run"
it_status "$CFG" "$WORK/status-3.json"
it_eq "$(jq '[.queue[]] | add' "$WORK/status-3.json")" "$total" "queue items after a re-run (collected 0 new)"
it_eq "$(jq '.uploaded_bytes' "$WORK/status-3.json")" "$(jq '.uploaded_bytes' "$S")" "uploaded_bytes after a re-run"
puts_after=$(( $(it_hub_puts 201) + $(it_hub_puts 200) ))
it_eq "$puts_after" "$puts_before" "PUTs the hub received during the re-run"

it_pass "killed at $done_after_kill/$total, all $total accounted for, re-run sent nothing"
