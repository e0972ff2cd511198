#!/usr/bin/env bash
# kill9_conservation — `lightbox-agent run` is killed with SIGKILL at random moments (during
# collection, verification and upload) at least 30 times while files keep arriving at two
# sources (one with after_upload "delete", one "keep"); it is restarted each time. A bandwidth
# cap keeps uploads in flight long enough for kills to land inside them. At the end a clean
# `run --once` settles the queue, and conservation must hold: every source file is at the hub
# byte-identical (or quarantined/failed with a reason), stored once, every deleted source file
# is at the hub, no orphan spool files, nothing left uploading.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

CYCLES=${FAULT_KILL_CYCLES:-32}
IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/stage-a" --ct-slices "${FAULT_SLICES:-120}" --odd --rows 128 --cols 128 --seed 11
it_corpus "$WORK/stage-b" --ct-slices 30 --rows 128 --cols 128 --seed 12
rm -f "$WORK/stage-a/odd/manifest.json"
fault_manifest "$WORK/stage-a" "$WORK/manifest-a.txt"
fault_manifest "$WORK/stage-b" "$WORK/manifest-b.txt"
it_start_hub
TOKEN=$(it_new_agent hosp-k agent-k)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
mkdir -p "$WORK/src-a" "$WORK/src-b"
SOURCES="[$(fault_folder_source del "$WORK/src-a" delete),$(fault_folder_source keep "$WORK/src-b" keep)]"
CFG=$WORK/agent.jsonc
# 6 Mbit/s across 4 transfers: the upload of the whole set spans many cycles.
fault_agent_config "$CFG" agent-k "$WORK/agent-data" "$HUB_URL" "$SOURCES" \
  '{"upload":{"bandwidth":{"default_mbps":6}}}'

# Files arrive in slices: each cycle moves a few more into the sources (rename = atomic arrival).
mapfile -t PENDING_A < <(cd "$WORK/stage-a" && find . -type f | sort -R --random-source=<(yes 11))
mapfile -t PENDING_B < <(cd "$WORK/stage-b" && find . -type f | sort -R --random-source=<(yes 12))
arrive() {  # arrive STAGE SRC N ARRAY_NAME
  local stage=$1 src=$2 n=$3 i f
  local -n arr=$4
  for ((i = 0; i < n && ${#arr[@]} > 0; i++)); do
    f=${arr[0]}
    arr=("${arr[@]:1}")
    mkdir -p "$src/$(dirname "$f")"
    mv "$stage/$f" "$src/$f"
  done
}

AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
per_cycle_a=$(( (${#PENDING_A[@]} + CYCLES / 2) / (CYCLES / 2) ))
per_cycle_b=$(( (${#PENDING_B[@]} + CYCLES / 2) / (CYCLES / 2) ))
kills=0
phases=""
RANDOM=4242
for cycle in $(seq "$CYCLES"); do
  arrive "$WORK/stage-a" "$WORK/src-a" "$per_cycle_a" PENDING_A
  arrive "$WORK/stage-b" "$WORK/src-b" "$per_cycle_b" PENDING_B
  lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent-run.log" "$AGENT" run --config "$CFG" 2>/dev/null
  # 0.3 .. 2.3 s: inside start-up recovery, the first scan (stable wait), intake or uploads.
  sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.3 + (r % 200) / 100}')"
  pid=$(cat "$AGENT_PID")
  if "$AGENT" status --config "$CFG" --json >"$WORK/cycle.json" 2>/dev/null; then
    phases+="$(jq -r '"c\(.queue.collected)v\(.queue.verified)u\(.queue.uploading)d\(.queue.done)"' "$WORK/cycle.json") "
  fi
  kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
  lb_stop "$AGENT_PID" KILL 5 2>/dev/null
done
it_note "kill -9 cycles: $kills (queue at each kill: $phases)"
[ "$kills" -ge 30 ] || it_fail "only $kills kills landed"
arrive "$WORK/stage-a" "$WORK/src-a" 100000 PENDING_A
arrive "$WORK/stage-b" "$WORK/src-b" 100000 PENDING_B
stuck=$(sqlite3 -readonly "$WORK/agent-data/queue.db" "SELECT COUNT(*) FROM items WHERE state='uploading'")
it_note "items left 'uploading' by the last kill (reset at the next start): $stuck"

# A clean final run without the cap settles everything.
fault_agent_config "$CFG" agent-k "$WORK/agent-data" "$HUB_URL" "$SOURCES"
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/final.json" 2>"$WORK/logs/agent-final.log" ||
  it_fail "final run --once failed"
it_note "final run: $(cat "$WORK/final.json")"

fault_conservation "$CFG" "$TOKEN" "$WORK/manifest-a.txt" "$WORK/manifest-b.txt"
# Every file deleted from the "delete" source is at the hub.
deleted=0
while read -r sha rel; do
  [ -e "$WORK/src-a/$rel" ] && continue
  deleted=$((deleted + 1))
  grep -qx "$sha" "$WORK/at-hub.txt" || it_fail "deleted from the source but not at the hub: $rel"
done <"$WORK/manifest-a.txt"
it_note "source files deleted after the hub's receipt: $deleted (all at the hub)"
[ "$deleted" -gt 0 ] || it_fail "after_upload delete never ran"
fault_figure cycles "$kills"
fault_figure items "$FAULT_ITEMS"
fault_figure at_hub "$FAULT_AT_HUB"
fault_figure quarantined "$FAULT_QUARANTINED"
fault_figure failed "$FAULT_FAILED"
fault_figure deleted_at_source "$deleted"
fault_figure lost "$FAULT_LOST"
fault_figure duplicates "$FAULT_DUPLICATES"
it_pass "$kills kill -9 cycles, $FAULT_ITEMS items: $FAULT_AT_HUB at the hub, $FAULT_QUARANTINED quarantined, $FAULT_FAILED failed, lost 0, duplicates 0"
