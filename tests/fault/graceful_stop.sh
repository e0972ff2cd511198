#!/usr/bin/env bash
# graceful_stop — SIGTERM while slow transfers are in flight (1 Mbit/s cap, large files):
# with upload.stop_grace_seconds=2 the in-flight transfers are abandoned cleanly and the agent
# exits 0 on its own long before the transfers could have finished (the test would otherwise
# have to SIGKILL it after 15 s); the abandoned items are uploaded at the next start, nothing is
# lost or stored twice.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/src" --ct-slices 12 --seed 91
rm -rf "$WORK/src/odd"
fault_manifest "$WORK/src" "$WORK/manifest.txt"
it_start_hub
TOKEN=$(it_new_agent hosp-g agent-g)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$WORK/agent.jsonc
SOURCES="[$(fault_folder_source img "$WORK/src" keep)]"
fault_agent_config "$CFG" agent-g "$WORK/agent-data" "$HUB_URL" "$SOURCES" \
  '{"upload":{"stop_grace_seconds":2,"bandwidth":{"default_mbps":1}}}'
AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent.log" "$AGENT" run --config "$CFG"
for _ in $(seq 100); do
  "$AGENT" status --config "$CFG" --json >"$WORK/st.json" 2>/dev/null &&
    [ "$(jq '.queue.uploading' "$WORK/st.json")" -ge 2 ] && break
  sleep 0.1
done
inflight=$(jq '.queue.uploading' "$WORK/st.json")
it_note "SIGTERM with $inflight transfers in flight at 1 Mbit/s"
lb_stop "$AGENT_PID" TERM 15
it_eq "$LB_STOP_RC" 0 "agent exit code after SIGTERM (not killed)"
fault_agent_config "$CFG" agent-g "$WORK/agent-data" "$HUB_URL" "$SOURCES"
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/once.json" 2>"$WORK/logs/agent-2.log" || it_fail "run --once failed"
fault_conservation "$CFG" "$TOKEN" "$WORK/manifest.txt"
fault_figure inflight_at_sigterm "$inflight"
fault_figure lost "$FAULT_LOST"
it_pass "SIGTERM with $inflight slow transfers: clean exit 0 within the grace, all $FAULT_ITEMS items delivered after restart"
