#!/usr/bin/env bash
# poison — items that can never go through do not block the ones behind them:
#   * files that fail the agent's verification (the corpus' odd files: truncated, not DICOM,
#     lossy while allow_lossy=false, ...) end `quarantined` with their reason;
#   * one DICOM file the hub refuses (over the hub's limits.max_body_bytes: 413) ends `failed`
#     with the hub's reason, while every other file is delivered in the same run.
# Then the operator fixes the causes (hub limit raised, allow_lossy=true) and runs
# `lightbox-agent requeue --all-failed` (failed and quarantined) and `requeue --id N`: the next run
# delivers the fixed ones; the truly broken files are quarantined again, with reasons.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

it_corpus "$WORK/src" --ct-slices 20 --odd --rows 64 --cols 64 --seed 61
rm -f "$WORK/src/odd/manifest.json"
it_corpus "$WORK/big" --ct-slices 1 --rows 1200 --cols 1200 --seed 62
big=$(find "$WORK/big" -name 'ct_0001.dcm' | head -1)
cp "$big" "$WORK/src/big_ct_over_hub_limit.dcm"
big_sha=$(it_sha "$big")
fault_manifest "$WORK/src" "$WORK/manifest.txt"
it_write_hub_config
sed -i 's/"max_body_bytes": [0-9]*/"max_body_bytes": 2500000/' "$HUB_CONFIG"
it_start_hub
TOKEN=$(it_new_agent hosp-p agent-p)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$WORK/agent.jsonc
SOURCES="[$(fault_folder_source img "$WORK/src" keep)]"
fault_agent_config "$CFG" agent-p "$WORK/agent-data" "$HUB_URL" "$SOURCES"

"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run1.json" 2>"$WORK/logs/agent-1.log" || it_fail "run 1 failed"
"$AGENT" status --config "$CFG" --json >"$WORK/st1.json"
total=$(wc -l <"$WORK/manifest.txt")
q1=$(jq '.queue.quarantined' "$WORK/st1.json")
it_eq "$(jq '.queue.failed' "$WORK/st1.json")" 1 "failed items (the one the hub refuses)"
it_eq "$(jq '.queue.collected + .queue.verified + .queue.uploading' "$WORK/st1.json")" 0 "items left waiting behind the poison"
# (collection_task records the agent sends about its own scans are items too: not counted here)
it_eq "$(sqlite3 -readonly "$WORK/agent-data/queue.db" "SELECT COUNT(*) FROM items WHERE state='done' AND kind != 'records'")" \
  "$((total - q1 - 1))" "files delivered in the same run"
reason=$(sqlite3 -readonly "$WORK/agent-data/queue.db" "SELECT last_error_code || ': ' || last_error FROM items WHERE sha256='$big_sha'")
it_note "failed with: $reason"
[[ $reason == payload_too_large* || $reason == *413* || $reason == *limit* ]] || it_fail "failed item's reason: $reason"
it_note "quarantined: $(jq -c '[.quarantined[] | .reason_code] | group_by(.) | map({(.[0]): length}) | add' "$WORK/st1.json")"
lossy=$(jq '[.quarantined[] | select(.reason_code | test("lossy"))] | length' "$WORK/st1.json")
[ "$lossy" -ge 1 ] || it_fail "no lossy file quarantined (corpus changed?)"

# The operator fixes both causes and requeues.
it_stop_hub TERM 20
sed -i 's/"max_body_bytes": [0-9]*/"max_body_bytes": 4294967296/' "$HUB_CONFIG"
it_start_hub
fault_agent_config "$CFG" agent-p "$WORK/agent-data" "$HUB_URL" "$SOURCES" '{"verify":{"allow_lossy":true}}'
first_q=$(sqlite3 -readonly "$WORK/agent-data/queue.db" "SELECT id FROM items WHERE state='quarantined' ORDER BY id LIMIT 1")
out=$("$AGENT" requeue --config "$CFG" --id "$first_q") || it_fail "requeue --id $first_q failed"
it_note "requeue --id $first_q: $out"
out=$("$AGENT" requeue --config "$CFG" --all-failed) || it_fail "requeue --all-failed failed"
it_note "requeue --all-failed: $out"
it_eq "$(echo "$out" | grep -o '[0-9]*' | head -1)" "$q1" "items requeued by --all-failed (1 failed + the other quarantined)"
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run2.json" 2>"$WORK/logs/agent-2.log" || it_fail "run 2 failed"
"$AGENT" status --config "$CFG" --json >"$WORK/st2.json"
q2=$(jq '.queue.quarantined' "$WORK/st2.json")
it_eq "$(jq '.queue.failed' "$WORK/st2.json")" 0 "failed items after requeue"
it_eq "$(sqlite3 -readonly "$WORK/agent-data/queue.db" "SELECT state FROM items WHERE sha256='$big_sha'")" done "the refused file after requeue"
[ "$q2" -lt "$q1" ] || it_fail "requeue delivered no quarantined item ($q1 -> $q2)"
it_note "quarantined after requeue: $q2 (was $q1): $(jq -c '[.quarantined[] | .reason_code]' "$WORK/st2.json")"
fault_conservation "$CFG" "$TOKEN" "$WORK/manifest.txt"
fault_figure items "$FAULT_ITEMS"
fault_figure quarantined_first_run "$q1"
fault_figure failed_first_run 1
fault_figure quarantined_after_requeue "$q2"
fault_figure lost "$FAULT_LOST"
it_pass "1 refused + $q1 quarantined never blocked $((total - q1 - 1)) others; after requeue: failed 0, quarantined $q2 (with reasons)"
