#!/usr/bin/env bash
# disk_full — both ends run out of disk, on tmpfs mounts the test makes (root needed, else skip):
#   * the agent's data_dir (spool + queue.db) on a 64 MB tmpfs, the corpus ~110 MB: the agent
#     stops collecting below agent.min_free_mb, keeps uploading, says `disk_full: true` in status,
#     and collects again once uploads have drained the spool;
#   * the hub's data_dir on a 48 MB tmpfs: the hub answers 507 storage_full, the agent backs off
#     (items stay queued, none fails); the test then grows the tmpfs ("space returns") and
#     everything arrives. Nothing half-written: every stored object hashes to its name, no temps.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

[ "$(id -u)" = 0 ] || fault_skip "needs root to mount tmpfs"
IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/src" --ct-slices 220 --seed 41
fault_manifest "$WORK/src" "$WORK/manifest.txt"
it_note "corpus: $(wc -l <"$WORK/manifest.txt") files, $(du -sm "$WORK/src" | cut -f1) MB"
mkdir -p "$WORK/agent-data" "$WORK/hub-data"
mount -t tmpfs -o size=64m lbfault "$WORK/agent-data" || fault_skip "cannot mount tmpfs"
fault_on_exit "umount -l '$WORK/agent-data'"
mount -t tmpfs -o size=48m lbfault "$WORK/hub-data" || fault_skip "cannot mount tmpfs"
fault_on_exit "umount -l '$WORK/hub-data'"
it_write_hub_config
it_start_hub
TOKEN=$(it_new_agent hosp-d agent-d)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$WORK/agent.jsonc
fault_agent_config "$CFG" agent-d "$WORK/agent-data" "$HUB_URL" "[$(fault_folder_source img "$WORK/src" keep)]" \
  '{"agent":{"min_free_mb":12},"upload":{"bandwidth":{"default_mbps":64}}}'
AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent.log" "$AGENT" run --config "$CFG"

total=$(wc -l <"$WORK/manifest.txt")
seen_full=0 seen_507=0 max_failed=0 grown=0
for i in $(seq 400); do
  "$AGENT" status --config "$CFG" --json >"$WORK/st.json" 2>/dev/null || { sleep 0.25; continue; }
  [ "$(jq '.disk_full' "$WORK/st.json")" = true ] && seen_full=$((seen_full + 1))
  f=$(jq '.queue.failed' "$WORK/st.json"); [ "$f" -gt "$max_failed" ] && max_failed=$f
  if [ "$seen_507" = 0 ] && grep -q '"status":507' "$WORK/logs/hub.log"; then seen_507=1; fi
  # Space returns at the hub once both conditions were seen (or after 40 s).
  if [ "$grown" = 0 ] && { { [ "$seen_full" -gt 0 ] && [ "$seen_507" = 1 ]; } || [ "$i" -gt 160 ]; }; then
    it_note "spool disk_full seen in status: $seen_full polls; hub 507 seen: $seen_507; growing the hub's disk"
    mount -o remount,size=512m "$WORK/hub-data"
    grown=1
  fi
  done_n=$(jq '.queue.done + .queue.quarantined + .queue.failed' "$WORK/st.json")
  [ "$grown" = 1 ] && [ "$done_n" -ge "$total" ] && [ "$(jq '.disk_full' "$WORK/st.json")" = false ] && break
  sleep 0.25
done
it_note "hub temporaries before restart: $(find "$HUB_DATA/tmp" -type f | wc -l)"
[ "$seen_full" -gt 0 ] || it_fail "status never reported disk_full while the spool was full"
[ "$seen_507" = 1 ] || it_fail "the hub never answered 507 storage_full"
it_eq "$max_failed" 0 "items failed while a disk was full (must back off, not fail)"
it_eq "$(jq '.disk_full' "$WORK/st.json")" false "disk_full once space returned"
grep -q 'collection paused' "$WORK/logs/agent.log" || it_fail "agent did not log the pause"
grep -q 'collection resumed' "$WORK/logs/agent.log" || it_fail "agent did not log the resume"
n507=$(jq -R 'fromjson? | select(.msg == "request" and .status == 507)' "$WORK/logs/hub.log" | grep -c status || true)
lb_stop "$AGENT_PID" TERM 20
it_stop_hub TERM 20
it_start_hub
fault_hub_integrity
fault_conservation "$CFG" "$TOKEN" "$WORK/manifest.txt"
fault_figure disk_full_polls "$seen_full"
fault_figure hub_507_answers "$n507"
fault_figure items "$FAULT_ITEMS"
fault_figure lost "$FAULT_LOST"
fault_figure duplicates "$FAULT_DUPLICATES"
it_pass "spool full (reported $seen_full polls) and hub full ($n507 answers 507): $FAULT_ITEMS items conserved, none failed"
