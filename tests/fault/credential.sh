#!/usr/bin/env bash
# credential — the hub revokes a running agent's token in the middle of its uploads: the agent
# pauses (401 is about the agent, not the items), fails nothing and drops nothing; the operator
# issues a new token into the agent's secret file and sends SIGHUP; the agent reloads and
# delivers everything that waited, each object stored once, without any requeue.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/src" --ct-slices 24 --seed 93
rm -rf "$WORK/src/odd"
fault_manifest "$WORK/src" "$WORK/manifest.txt"
it_start_hub
TOKEN=$(it_new_agent hosp-c agent-c)
TOKEN_FILE=$WORK/agent.token
install -m 0600 /dev/null "$TOKEN_FILE"
printf '%s\n' "$TOKEN" >"$TOKEN_FILE"
CFG=$WORK/agent.jsonc
SOURCES="[$(fault_folder_source img "$WORK/src" keep)]"
# 4 Mbit/s: the revocation lands while most of the corpus still waits.
fault_agent_config "$CFG" agent-c "$WORK/agent-data" "$HUB_URL" "$SOURCES" \
  "$(jq -nc --arg t "\${file:$TOKEN_FILE}" '{hub: {token: $t}, upload: {bandwidth: {default_mbps: 4}}}')"
AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent.log" "$AGENT" run --config "$CFG"

status() { "$AGENT" status --config "$CFG" --json >"$WORK/st.json" 2>/dev/null; }
for _ in $(seq 300); do
  status && [ "$(jq '.queue.done' "$WORK/st.json")" -ge 3 ] && break
  sleep 0.1
done
[ "$(jq '.queue.done' "$WORK/st.json")" -ge 3 ] || it_fail "the agent did not start delivering"

# 1. Revoked mid-run.
it_admin revoke-agent --agent agent-c >/dev/null
for _ in $(seq 100); do
  grep -q "refused this agent's credential" "$WORK/logs/agent.log" && break
  sleep 0.1
done
grep -q "refused this agent's credential" "$WORK/logs/agent.log" || it_fail "the agent never logged the refusal"
sleep 3  # transfers in flight at the revocation finish or are refused; then nothing moves
status
done_at_pause=$(jq '.queue.done' "$WORK/st.json")
waiting=$(jq '.queue.verified + .queue.collected' "$WORK/st.json")
it_eq "$(jq '.queue.failed' "$WORK/st.json")" 0 "items failed by the revocation"
[ "$waiting" -ge 1 ] || it_fail "nothing left waiting: the revocation came too late to test anything"
sleep 3
status
it_eq "$(jq '.queue.done' "$WORK/st.json")" "$done_at_pause" "items delivered while revoked"
jq -r '.recent_errors[].message' "$WORK/st.json" | grep -q "revoked" ||
  it_fail "status does not show why the items wait: $(jq -c .recent_errors "$WORK/st.json")"
it_note "revoked after $done_at_pause deliveries; $waiting items wait, 0 failed"

# 2. A new token in the secret file, SIGHUP: the waiting items go up by themselves.
NEW_TOKEN=$(it_admin create-agent --institution hosp-c --agent agent-c)
printf '%s\n' "$NEW_TOKEN" >"$TOKEN_FILE.new" && chmod 0600 "$TOKEN_FILE.new" && mv "$TOKEN_FILE.new" "$TOKEN_FILE"
kill -HUP "$(cat "$AGENT_PID")"
settled=0
for _ in $(seq 600); do
  if status && [ "$(jq '.queue.collected + .queue.verified + .queue.uploading' "$WORK/st.json")" = 0 ] &&
     [ "$(jq '.queue.done' "$WORK/st.json")" -gt "$done_at_pause" ]; then
    settled=1
    break
  fi
  sleep 0.1
done
[ "$settled" = 1 ] || it_fail "the queue did not drain after the new token: $(jq -c .queue "$WORK/st.json")"
grep -q '"config reloaded"' "$WORK/logs/agent.log" || it_fail "the agent did not reload its config"
lb_stop "$AGENT_PID" TERM 15
it_eq "$LB_STOP_RC" 0 "agent exit code after SIGTERM"

fault_conservation "$CFG" "$NEW_TOKEN" "$WORK/manifest.txt"
it_eq "$FAULT_FAILED" 0 "failed items at the end"
fault_figure waiting_at_revocation "$waiting"
fault_figure lost "$FAULT_LOST"
fault_figure duplicates "$FAULT_DUPLICATES"
it_pass "revoked mid-run: $waiting items waited, 0 failed; new token + SIGHUP delivered all $FAULT_ITEMS, lost 0, stored once"
