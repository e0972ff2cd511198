#!/usr/bin/env bash
# queue_selfcheck — three rounds of: the agent works part-way and is killed with SIGKILL, then
# queue.db is damaged (garbage over its pages; the header in one round), then `run --once` must
# start anyway: set the file aside as queue.db.damaged-<time>, rebuild the queue from the spool
# (and quarantine notes), report "N items may need re-collection" in its log and in `status`,
# and finish the upload. Never a crash loop. Conservation holds at the end.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/stage" --ct-slices 60 --odd --rows 128 --cols 128 --seed 31
rm -f "$WORK/stage/odd/manifest.json"
fault_manifest "$WORK/stage" "$WORK/manifest.txt"
it_start_hub
TOKEN=$(it_new_agent hosp-q agent-q)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$WORK/agent.jsonc
DATA=$WORK/agent-data
mkdir -p "$WORK/src"
fault_agent_config "$CFG" agent-q "$DATA" "$HUB_URL" "[$(fault_folder_source img "$WORK/src" keep)]" \
  '{"upload":{"bandwidth":{"default_mbps":4}}}'
mapfile -t PENDING < <(cd "$WORK/stage" && find . -type f | sort)
per_round=$(( (${#PENDING[@]} + 2) / 3 ))
AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
rebuilt_total=0 recollect_total=0
for round in 1 2 3; do
  for f in "${PENDING[@]:$(( (round - 1) * per_round )):$per_round}"; do
    mkdir -p "$WORK/src/$(dirname "$f")"
    cp "$WORK/stage/$f" "$WORK/src/$f"
  done
  lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent-$round.log" "$AGENT" run --config "$CFG"
  sleep 3
  lb_stop "$AGENT_PID" KILL 5
  # Fold the WAL into the file (as a checkpoint would have), then damage it.
  sqlite3 "$DATA/queue.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  pages=$(( $(stat -c %s "$DATA/queue.db") / 4096 ))
  case $round in
    1) dd if=/dev/urandom of="$DATA/queue.db" bs=4096 seek=$((pages / 2)) count=2 conv=notrunc status=none ;;  # two pages
    2) dd if=/dev/urandom of="$DATA/queue.db" bs=100 count=1 conv=notrunc status=none ;;                       # the header
    3) dd if=/dev/urandom of="$DATA/queue.db" bs=4096 seek=1 count=$((pages - 1)) conv=notrunc status=none ;;  # all but page 1
  esac
  it_note "round $round: queue.db ($pages pages) damaged"
  rc=0
  "$AGENT" run --once --config "$CFG" </dev/null >"$WORK/once-$round.json" 2>"$WORK/logs/once-$round.log" || rc=$?
  it_eq "$rc" 0 "round $round: run --once exit code on a damaged queue.db"
  grep -q 'items may need re-collection' "$WORK/logs/once-$round.log" || it_fail "round $round: no re-collection count logged"
  "$AGENT" status --config "$CFG" --json >"$WORK/st-$round.json"
  it_eq "$(jq '.self_check.damaged' "$WORK/st-$round.json")" true "round $round: status reports the damaged queue"
  rebuilt=$(jq '.self_check.rebuilt_from_spool' "$WORK/st-$round.json")
  recollect=$(jq '.self_check.may_need_recollection' "$WORK/st-$round.json")
  it_note "round $round: rebuilt from spool $rebuilt, may need re-collection $recollect, set aside $(jq -r '.self_check.moved_to' "$WORK/st-$round.json" | xargs basename)"
  rebuilt_total=$((rebuilt_total + rebuilt))
  if [ "$recollect" -ge 0 ]; then recollect_total=$((recollect_total + recollect)); fi
done
it_eq "$(find "$DATA" -maxdepth 1 -name 'queue.db.damaged-*' ! -name '*-wal' ! -name '*-shm' | wc -l)" 3 "damaged databases set aside"
fault_conservation "$CFG" "$TOKEN" "$WORK/manifest.txt"
fault_figure rounds 3
fault_figure rebuilt_from_spool "$rebuilt_total"
fault_figure may_need_recollection "$recollect_total"
fault_figure items "$FAULT_ITEMS"
fault_figure lost "$FAULT_LOST"
fault_figure duplicates "$FAULT_DUPLICATES"
it_pass "3 damaged queue.db files set aside, $rebuilt_total items rebuilt from the spool, $FAULT_ITEMS items conserved"
