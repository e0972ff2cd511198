#!/usr/bin/env bash
# hub_kill — the hub is killed with SIGKILL in the middle of ingest several times (bodies are in
# flight: the agent's cap keeps them slow) and restarted on the same port after a pause. The agent
# keeps running and retries on its own. Afterwards: every object file in the hub store hashes to
# its name, no temporary is left once a restarted hub has swept, every indexed instance GETs
# back byte-identical, and conservation holds (each object stored once).
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

KILLS=${FAULT_HUB_KILLS:-6}
IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/src" --ct-slices 80 --rows 256 --cols 256 --seed 21
rm -f "$WORK/src/odd/manifest.json"
fault_manifest "$WORK/src" "$WORK/manifest.txt"
it_start_hub
TOKEN=$(it_new_agent hosp-h agent-h)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$WORK/agent.jsonc
fault_agent_config "$CFG" agent-h "$WORK/agent-data" "$HUB_URL" "[$(fault_folder_source img "$WORK/src" keep)]" \
  '{"upload":{"bandwidth":{"default_mbps":12}}}'
AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent.log" "$AGENT" run --config "$CFG"

RANDOM=2121
kills=0 temps_seen=0
for k in $(seq "$KILLS"); do
  sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.8 + (r % 120) / 100}')"
  temps_seen=$((temps_seen + $(find "$HUB_DATA/tmp" -type f | wc -l)))
  it_stop_hub KILL 5
  kills=$((kills + 1))
  sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.5 + (r % 150) / 100}')"   # hub down
  it_start_hub
done
it_note "hub kill -9 during ingest: $kills times (temporaries in flight seen at the kills: $temps_seen)"

# Let the agent finish on its own (no restart of the agent).
for _ in $(seq 240); do
  "$AGENT" status --config "$CFG" --json >"$WORK/st.json" 2>/dev/null || true
  [ "$(jq '.queue.done + .queue.quarantined + .queue.failed' "$WORK/st.json" 2>/dev/null || echo 0)" -ge \
    "$(wc -l <"$WORK/manifest.txt")" ] && [ "$(jq '.queue.verified + .queue.uploading' "$WORK/st.json")" = 0 ] && break
  sleep 0.5
done
lb_stop "$AGENT_PID" TERM 20
it_eq "$LB_STOP_RC" 0 "agent exit code after SIGTERM"
# A last graceful restart of the hub: its start-up sweep leaves no temporaries.
it_stop_hub TERM 20
it_start_hub
fault_hub_integrity
fault_conservation "$CFG" "$TOKEN" "$WORK/manifest.txt"
retries=$(grep -c 'upload will be retried' "$WORK/logs/agent.log" || true)
fault_figure hub_kills "$kills"
fault_figure items "$FAULT_ITEMS"
fault_figure agent_retries "$retries"
fault_figure lost "$FAULT_LOST"
fault_figure duplicates "$FAULT_DUPLICATES"
it_pass "$kills hub kill -9, $FAULT_ITEMS items, $retries retries by the agent, lost 0, duplicates 0, no partial object"
