#!/usr/bin/env bash
# reload — SIGHUP re-reads the agent's config without a restart (issue 4, part D):
#   * while uploads are in flight, a reload that adds a source: the new source's files are
#     collected, and every file reaches the hub exactly once (no PUT answered 200 AlreadyStored);
#   * an invalid config: the agent keeps running the old one, the log names the key, and the old
#     source still collects; a changed agent.data_dir / agent.id is refused (restart required);
#   * the metrics port (metrics.listen) answers with queue numbers equal to `status --json`;
#   * `check` refuses a non-loopback metrics.listen naming the key.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

it_corpus "$WORK/src-a" --ct-slices "${IT_SLICES:-120}" --seed 11
it_corpus "$WORK/src-b" --ct-slices 20 --seed 22
it_corpus "$WORK/late" --ct-slices 5 --seed 33
# Queue items are keyed by content: a file equal to one already queued (the corpora share their
# attachments) is a duplicate, not a new item. So count distinct contents.
uniq_files() { find "$@" -type f -exec sha256sum {} + | cut -d' ' -f1 | sort -u | wc -l; }
n_a=$(uniq_files "$WORK/src-a")
n_ab=$(uniq_files "$WORK/src-a" "$WORK/src-b")
n_all=$(uniq_files "$WORK/src-a" "$WORK/src-b" "$WORK/late")
IT_HUB_LOG_LEVEL=debug  # every request with its status goes to hub.log
it_start_hub
export LIGHTBOX_AGENT_TOKEN
LIGHTBOX_AGENT_TOKEN=$(it_new_agent hosp-a agent-a)
MPORT=$(lb_free_port)
CFG=$WORK/agent.jsonc
DATA=$WORK/agent-data

# write_cfg SOURCES_JSON [DATA_DIR] [AGENT_ID] [UPLOAD_JSON] [METRICS_LISTEN] — rewrites $CFG.
write_cfg() {
  local upload=${4:-}
  [ -n "$upload" ] || upload='{"concurrency": 1, "retry_initial_seconds": 1, "retry_max_seconds": 5, "stop_grace_seconds": 20}'
  cat >"$CFG.new" <<JSON
// reload.sh
{
  "agent": {"id": "${3:-agent-a}", "data_dir": "${2:-$DATA}"},
  "hub": {"url": "$HUB_URL", "ca_file": "$CA", "token": "\${LIGHTBOX_AGENT_TOKEN}"},
  "upload": $upload,
  "sources": $1,
  "metrics": {"listen": "${5:-127.0.0.1:$MPORT}"},
  "log": {"level": "info"}
}
JSON
  mv "$CFG.new" "$CFG"
}
src() { printf '{"name": "%s", "kind": "folder", "path": "%s", "stable_seconds": 1, "poll_seconds": 1}' "$1" "$2"; }
ONE="[$(src images "$WORK/src-a")]"
TWO="[$(src images "$WORK/src-a"), $(src second "$WORK/src-b")]"

# check: a non-loopback metrics.listen is refused, naming the key.
write_cfg "$ONE" "" "" "" "0.0.0.0:$MPORT"
if "$AGENT" check --config "$CFG" >"$WORK/check.out" 2>&1; then it_fail "check accepted metrics.listen 0.0.0.0"; fi
grep -q "metrics.listen" "$WORK/check.out" || it_fail "check did not name metrics.listen: $(cat "$WORK/check.out")"
it_note "check refuses metrics.listen 0.0.0.0 naming the key"

write_cfg "$ONE"
SCFG=$WORK/status.jsonc  # `status` reads this good copy: it refuses an invalid file like any command
cp "$CFG" "$SCFG"
LOG=$WORK/logs/agent.log
PIDF=$WORK/run/agent.pid
IT_PIDS+=("$PIDF")
lb_start lightbox-agent "$PIDF" "$LOG" "$AGENT" run --config "$CFG"
PID=$(cat "$PIDF")

done_count() { "$AGENT" status --config "$SCFG" --json 2>/dev/null | jq '.queue.done + .queue.quarantined' 2>/dev/null || echo 0; }
wait_done() {  # wait_done N SECONDS
  local d=0
  for _ in $(seq $(( $2 * 10 ))); do
    d=$(done_count)
    [ "$d" -ge "$1" ] && return 0
    lb_pid_alive "$PID" || it_fail "the agent exited (waiting for $1 items)"
    sleep 0.1
  done
  it_fail "only $d of $1 items delivered after $2 s"
}
wait_log() {  # wait_log FIXED_STRING SECONDS — counts matching lines must grow past the current count
  for _ in $(seq $(( $2 * 10 ))); do
    grep -qF -- "$1" "$LOG" && return 0
    sleep 0.1
  done
  it_fail "no log line with '$1' after $2 s"
}

# 1. reload while uploads are in flight: a second source is added.
wait_done 10 60
write_cfg "$TWO"
kill -HUP "$PID"
wait_log "config reloaded" 60
lb_pid_alive "$PID" || it_fail "the agent exited on SIGHUP"
it_note "reloaded with a second source after $(done_count) of $n_a items"
wait_done "$n_ab" 180
it_note "both sources delivered: $n_ab distinct files"

# 2. an invalid config is refused; the old config keeps running and collecting.
write_cfg "$TWO" "" "" '{"concurrency": 0}'
kill -HUP "$PID"
wait_log "reload refused" 30
grep -F "reload refused" "$LOG" | grep -qF "upload.concurrency" || it_fail "the refusal does not name upload.concurrency"
lb_pid_alive "$PID" || it_fail "the agent exited on an invalid config"
mkdir -p "$WORK/src-a/late"
mv "$WORK/late"/* "$WORK/src-a/late/"
wait_done "$n_all" 120
it_note "invalid config refused (log names upload.concurrency); the old source still collects"

# 3. agent.data_dir and agent.id cannot change on reload.
write_cfg "$TWO" "$WORK/other-data" "agent-b"
kill -HUP "$PID"
for _ in $(seq 300); do grep -F "reload refused" "$LOG" | grep -qF "agent.id" && break; sleep 0.1; done
grep -F "reload refused" "$LOG" | grep -qF "agent.data_dir" || it_fail "a changed data_dir was not refused by name"
grep -F "reload refused" "$LOG" | grep -qF "agent.id" || it_fail "a changed agent.id was not refused by name"
[ ! -e "$WORK/other-data" ] || it_fail "the refused data_dir was created"
lb_pid_alive "$PID" || it_fail "the agent exited on a data_dir change"
write_cfg "$TWO"  # back to a good file for the rest

# Nothing pending in the queue (files and record batches) before the comparison.
for _ in $(seq 300); do
  "$AGENT" status --config "$SCFG" --json >"$WORK/idle.json" 2>/dev/null || true
  [ "$(jq '[.queue.collected, .queue.verified, .queue.uploading, .records.collected, .records.verified, .records.uploading] | add' "$WORK/idle.json" 2>/dev/null)" = 0 ] && break
  sleep 0.1
done

# 4. metrics answer, and match status --json (the agent is idle now: nothing left to do).

# An idle client that sends nothing must not hold up a scrape (one connection never blocks another).
exec 7<>"/dev/tcp/127.0.0.1/$MPORT"
curl -fsS --max-time 3 "http://127.0.0.1:$MPORT/metrics" >"$WORK/metrics.txt" ||
  it_fail "metrics port did not answer (within 3 s, beside an idle connection)"
exec 7>&-
it_status "$SCFG" "$WORK/status.json"
total=$n_all
quar=$(jq '.queue.quarantined' "$WORK/status.json")
metric() { awk -v k="$1" '$1 == k {print $2}' "$WORK/metrics.txt"; }
for st in collected verified uploading done failed quarantined; do
  it_eq "$(metric "lightbox_agent_queue_items{state=\"$st\"}")" "$(jq ".queue.$st" "$WORK/status.json")" "metrics queue_items{$st} = status"
done
it_eq "$(metric lightbox_agent_backlog_bytes)" "$(jq '.backlog_bytes' "$WORK/status.json")" "metrics backlog_bytes = status"
it_eq "$(metric 'lightbox_agent_queue_items{state="done"}')" "$((total - quar))" "done items"
delivered=$(( $(metric 'lightbox_agent_delivered_items_total{result="uploaded"}') + $(metric 'lightbox_agent_delivered_items_total{result="already_stored"}') ))
it_eq "$delivered" "$((total - quar))" "metrics delivered items (this process)"
# Bytes of distinct files, less the quarantined ones (status uploaded_bytes also counts record batches).
file_bytes=$(find "$WORK/src-a" "$WORK/src-b" -type f -exec sha256sum {} + | sort -u -k1,1 | cut -d' ' -f3- |
  while IFS= read -r f; do stat -c %s "$f"; done | awk '{s += $1} END {print s}')
while read -r s p; do
  d=src-a; [ "$s" = second ] && d=src-b
  file_bytes=$((file_bytes - $(stat -c %s "$WORK/$d/$p")))
done < <(jq -r '.quarantined[] | "\(.source) \(.path)"' "$WORK/status.json")
it_eq "$(metric lightbox_agent_delivered_bytes_total)" "$file_bytes" "metrics delivered bytes (distinct files less quarantined)"
# Every delivery was one attempt (records batches of collection tasks too), none failed.
attempts=$(( delivered + $(metric 'lightbox_agent_delivered_items_total{result="records"}') ))
it_eq "$(metric 'lightbox_agent_upload_seconds_count')" "$attempts" "upload latency observations"
it_eq "$(metric 'lightbox_agent_upload_seconds_bucket{le="+Inf"}')" "$attempts" "latency +Inf bucket"
it_eq "$(metric 'lightbox_agent_reloads_total{result="applied"}')" 1 "reloads applied"
it_eq "$(metric 'lightbox_agent_reloads_total{result="refused"}')" 2 "reloads refused"
it_eq "$(metric 'lightbox_agent_source_up{source="second"}')" 1 "source 'second' up"
last_ok=$(metric 'lightbox_agent_source_last_success_timestamp_seconds{source="second"}')
[ "${last_ok%.*}" -ge "$(( $(date +%s) - 60 ))" ] ||
  it_fail "no last-success time for source second"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")
it_eq "$code" 404 "metrics port, other path"

# 5. graceful stop; the queue is intact and the hub got every file exactly once.
lb_stop "$PIDF" TERM 30
it_eq "$LB_STOP_RC" 0 "exit code after SIGTERM"
it_status "$SCFG" "$WORK/status-end.json"
S=$WORK/status-end.json
it_eq "$(jq '.queue.failed + .queue.uploading + .queue.collected + .queue.verified' "$S")" 0 "items not done"
it_eq "$(jq '[.queue[]] | add' "$S")" "$total" "queue items (one per file)"
it_eq "$(it_hub_puts 201)" "$((total - quar))" "PUTs answered 201 Stored"
it_eq "$(it_hub_puts 200)" 0 "PUTs answered 200 AlreadyStored (re-sent)"
it_pass "reload: $total files over 3 reloads (1 applied, 2 refused), metrics match status"
