#!/usr/bin/env bash
# bandwidth — the cap holds across concurrent transfers: 4 workers share one token bucket; a
# calendar window covering every day and hour sets the cap to N Mbit/s (default unlimited).
# Throughput is measured at the hub from its request log (first body start to last answer,
# bytes of the objects stored) over at least 5 s, and must be within 10 % of N. The only timing
# assertion in the test suite.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

MBPS=${FAULT_CAP_MBPS:-24}
IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/src" --ct-slices 36 --seed 71
rm -rf "$WORK/src/odd"
fault_manifest "$WORK/src" "$WORK/manifest.txt"
it_start_hub
TOKEN=$(it_new_agent hosp-b agent-b)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$WORK/agent.jsonc
fault_agent_config "$CFG" agent-b "$WORK/agent-data" "$HUB_URL" "[$(fault_folder_source img "$WORK/src" keep)]" \
  "{\"upload\":{\"concurrency\":4,\"bandwidth\":{\"default_mbps\":0,\"windows\":[{\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"],\"start\":\"00:00\",\"end\":\"24:00\",\"mbps\":$MBPS}]}}}"
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run.json" 2>"$WORK/logs/agent.log" || it_fail "run --once failed"
it_note "agent: $(cat "$WORK/run.json")"
# PUTs answered 201: end time (ts) and duration (ms) from the hub log; bytes from the manifest.
jq -R -r 'fromjson? | select(.msg == "request" and .method == "PUT" and .status == 201) |
  [(.ts | sub("\\.[0-9]+Z$"; "Z") | fromdate) + ((.ts | capture("\\.(?<f>[0-9]+)Z$").f | tonumber) / 1000), .ms / 1000,
   (.path | split("/") | last)] | @tsv' "$WORK/logs/hub.log" >"$WORK/puts.tsv"
bytes=0
while read -r _ _ sha; do
  sz=$(grep -m1 "^$sha " "$WORK/manifest.txt" | cut -d' ' -f2- | xargs -I{} stat -c %s "$WORK/src/{}")
  bytes=$((bytes + sz))
done <"$WORK/puts.tsv"
read -r first last < <(awk '{s = $1 - $2; if (NR == 1 || s < a) a = s; if (NR == 1 || $1 > b) b = $1} END {printf "%.3f %.3f\n", a, b}' "$WORK/puts.tsv")
secs=$(awk -v a="$first" -v b="$last" 'BEGIN{printf "%.3f", b - a}')
measured=$(awk -v by="$bytes" -v s="$secs" 'BEGIN{printf "%.2f", by * 8 / s / 1e6}')
dev=$(awk -v m="$measured" -v n="$MBPS" 'BEGIN{d = (m - n) / n * 100; printf "%.1f", d}')
it_note "$(wc -l <"$WORK/puts.tsv") objects, $bytes bytes in $secs s: $measured Mbit/s against a cap of $MBPS (deviation $dev %)"
awk -v s="$secs" 'BEGIN{exit !(s >= 5)}' || it_fail "transfer lasted only $secs s (< 5 s): corpus too small for the cap"
awk -v d="$dev" 'BEGIN{exit !(d <= 10 && d >= -10)}' || it_fail "throughput $measured Mbit/s is not within 10 % of $MBPS"
fault_figure cap_mbps "$MBPS"
fault_figure measured_mbps "$measured"
fault_figure seconds "$secs"
fault_figure deviation_percent "$dev"
it_pass "cap $MBPS Mbit/s, measured $measured Mbit/s over $secs s with 4 transfers ($dev %)"
