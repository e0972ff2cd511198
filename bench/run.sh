#!/usr/bin/env bash
# bench/run.sh — one command, the same 300-slice 512x512 CT series sent three ways on loopback:
#   1. DCMTK storescu → storescp   (C-STORE, one association, TCP_NODELAY=1 on both peers)
#   2. Orthanc REST POST /instances (Debian's Orthanc, default SQLite index + file storage,
#      curl with 2 parallel workers, each on one reused HTTP/1.1 connection)
#   3. lightbox-agent run --once → lightbox-hub (TLS, token, default agent settings)
# Prints instances/s and MB/s (medians of --runs), ratios Lightbox/Orthanc and Lightbox/DCMTK,
# and the agent's peak RSS (/usr/bin/time -v); writes bench/results/latest.json.
# Each measurement runs in its own network namespace (unshare -n) when the kernel allows it,
# because Orthanc 1.10 and storescp listen on 0.0.0.0; otherwise on loopback high ports.
# Usage: bench/run.sh [--no-deps] [--no-build] [--slices N] [--runs N] [--keep]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$BENCH_DIR/../scripts/lib.sh"
export TCP_NODELAY=1

# ---------------------------------------------------------------------------------------------
# Phases: each runs one measurement over $CT_DIR in a fresh state dir and prints one JSON line.
# ---------------------------------------------------------------------------------------------
files_and_bytes() {  # prints "N BYTES" for the files under $1
  find "$1" -type f -printf '%s\n' | awk '{n++; s+=$1} END{printf "%d %d\n", n, s}'
}

phase_dcmtk() {
  local state=$1 port n bytes t0 secs got
  mkdir -p "$state/out"
  read -r n bytes < <(files_and_bytes "$CT_DIR")
  port=$(lb_free_port)
  lb_start storescp "$state/storescp.pid" "$state/storescp.log" \
    storescp --aetitle STORESCP --output-directory "$state/out" "$port"
  lb_wait_port "$port" 20 || lb_die "storescp did not start"
  t0=$(lb_now)
  storescu --aetitle BENCH --call STORESCP --scan-directories --recurse \
    127.0.0.1 "$port" "$CT_DIR" >"$state/storescu.log" 2>&1 || lb_die "storescu failed (see $state/storescu.log)"
  secs=$(lb_elapsed "$t0")
  lb_stop "$state/storescp.pid" TERM 10
  got=$(find "$state/out" -type f | wc -l)
  [ "$got" = "$n" ] || lb_die "storescp received $got of $n files"
  jq -cn --arg s "$secs" --argjson n "$n" --argjson b "$bytes" \
    '{name:"dcmtk", instances:$n, bytes:$b, seconds:($s|tonumber)}'
}

phase_orthanc() {
  local state=$1 port n bytes t0 secs w got
  mkdir -p "$state/db" "$state/logs"
  read -r n bytes < <(files_and_bytes "$CT_DIR")
  port=$(lb_free_port)
  # Debian's defaults except: our ports and paths, no DICOM listener (REST ingest only),
  # no authentication (so curl spends no time on it), loopback clients only.
  cat >"$state/orthanc.json" <<EOF
{
  "Name": "bench",
  "StorageDirectory": "$state/db",
  "IndexDirectory": "$state/db",
  "HttpPort": $port,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomServerEnabled": false,
  "Plugins": []
}
EOF
  lb_start Orthanc "$state/orthanc.pid" "$state/orthanc.stdout" \
    Orthanc --logdir="$state/logs" "$state/orthanc.json"
  lb_wait_port "$port" 60 || lb_die "Orthanc did not start (see $state/orthanc.stdout)"
  curl -fsS "http://127.0.0.1:$port/system" >/dev/null || lb_die "Orthanc /system failed"
  # Two curl config files, files dealt alternately; one curl process each = one kept-alive connection.
  local i=0 f
  : >"$state/w0.curl"
  : >"$state/w1.curl"
  while IFS= read -r -d '' f; do
    w=$((i % 2))
    [ -s "$state/w$w.curl" ] && echo next >>"$state/w$w.curl"
    printf 'url = "http://127.0.0.1:%s/instances"\ndata-binary = "@%s"\nheader = "Expect:"\nheader = "Content-Type: application/dicom"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
      "$port" "$f" >>"$state/w$w.curl"
    i=$((i + 1))
  done < <(find "$CT_DIR" -type f -print0 | sort -z)
  t0=$(lb_now)
  local -a workers=()
  for w in 0 1; do
    curl -sS -K "$state/w$w.curl" >"$state/w$w.codes" 2>"$state/w$w.err" &
    workers+=($!)
  done
  wait "${workers[@]}" || lb_die "a curl worker failed (see $state/w*.err)"
  secs=$(lb_elapsed "$t0")
  got=$(cat "$state/w0.codes" "$state/w1.codes" | grep -c '^200$' || true)
  local count
  count=$(curl -fsS "http://127.0.0.1:$port/statistics" | jq '.CountInstances')
  lb_stop "$state/orthanc.pid" TERM 20
  if [ "$got" != "$n" ] || [ "$count" != "$n" ]; then
    lb_die "Orthanc stored $count instances ($got × 200) of $n"
  fi
  jq -cn --arg s "$secs" --argjson n "$n" --argjson b "$bytes" \
    '{name:"orthanc", instances:$n, bytes:$b, seconds:($s|tonumber)}'
}

phase_lightbox() {
  local state=$1 port n bytes t0 secs rss done_n
  read -r n bytes < <(files_and_bytes "$CT_DIR")
  mkdir -p "$state/hub-data"
  port=$(lb_free_port)
  # debug: the hub logs every request with a timestamp, which splits the agent's wall time.
  lb_write_hub_config "$state/hub.jsonc" "$port" "$state/hub-data" "$WORK/tls" debug
  "$HUB" admin --config "$state/hub.jsonc" create-institution --id bench --name Bench >/dev/null
  LIGHTBOX_AGENT_TOKEN=$("$HUB" admin --config "$state/hub.jsonc" create-agent --institution bench --agent bench-agent)
  export LIGHTBOX_AGENT_TOKEN
  lb_start lightbox-hub "$state/hub.pid" "$state/hub.log" "$HUB" serve --config "$state/hub.jsonc"
  lb_wait_healthz "https://127.0.0.1:$port" "$WORK/tls/ca.crt" 30 || lb_die "hub did not start (see $state/hub.log)"
  # Default agent settings (concurrency 4); stable_seconds 1 is the minimum the config allows.
  lb_write_agent_config "$state/agent.jsonc" bench-agent "$state/agent-data" \
    "https://127.0.0.1:$port" "$WORK/tls/ca.crt" "$CT_DIR" 4 1
  sed -i 's/"level": "info"/"level": "warn"/' "$state/agent.jsonc"
  t0=$(lb_now)
  /usr/bin/time -v -o "$state/time.txt" "$AGENT" run --once --config "$state/agent.jsonc" \
    </dev/null >"$state/agent.log" 2>&1 || lb_die "agent run --once failed (see $state/agent.log)"
  secs=$(lb_elapsed "$t0")
  rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$state/time.txt")
  "$AGENT" status --config "$state/agent.jsonc" --json >"$state/status.json"
  done_n=$(jq '.queue.done' "$state/status.json")
  lb_stop "$state/hub.pid" TERM 30
  [ "$done_n" = "$n" ] || lb_die "agent uploaded $done_n of $n"
  # When the first and the last PUT were answered, relative to the agent's start.
  local first last
  jq -R -r 'fromjson? | select(.msg == "request" and .method == "PUT") | .ts' "$state/hub.log" | sort >"$state/put_ts.txt"
  first=$(date -d "$(head -1 "$state/put_ts.txt")" +%s.%N)
  last=$(date -d "$(tail -1 "$state/put_ts.txt")" +%s.%N)
  jq -cn --arg s "$secs" --argjson n "$n" --argjson b "$bytes" --argjson rss "$rss" \
    --arg f "$(awk -v a="$t0" -v b="$first" 'BEGIN{printf "%.3f", b-a}')" \
    --arg w "$(awk -v a="$first" -v b="$last" 'BEGIN{printf "%.3f", b-a}')" \
    '{name:"lightbox", instances:$n, bytes:$b, seconds:($s|tonumber), agent_max_rss_kb:$rss,
      start_to_first_receipt_seconds:($f|tonumber), first_to_last_receipt_seconds:($w|tonumber)}'
}

# Internal entry: `run.sh --phase NAME STATE_DIR` (inside a network namespace when possible).
if [ "${1:-}" = "--phase" ]; then
  ip link set lo up 2>/dev/null || true
  # Whatever happens, stop the daemons this phase started (their pidfiles live in STATE_DIR).
  # shellcheck disable=SC2317  # called by the EXIT trap
  phase_cleanup() { local f; for f in "$3"/*.pid; do [ -e "$f" ] && lb_stop "$f" TERM 20; done; return 0; }
  trap 'phase_cleanup "$@"' EXIT
  "phase_$2" "$3"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------
deps=1 build=1 slices=300 runs=3 keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --no-deps) deps=0 ;;
    --no-build) build=0 ;;
    --slices) slices=$2; shift ;;
    --runs) runs=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) lb_die "unknown option: $1" ;;
  esac
  shift
done

[ "$deps" = 1 ] && lb_install_deps
BUILD_DIR=${BUILD_DIR:-$LB_ROOT/build}
export BUILD_DIR
[ "$build" = 1 ] && lb_build lightbox-hub lightbox-agent lightbox-corpus
find_bin() { find "$BUILD_DIR" -type f -name "$1" -perm -u+x | head -1; }
HUB=${LIGHTBOX_HUB:-$(find_bin lightbox-hub)}
AGENT=${LIGHTBOX_AGENT:-$(find_bin lightbox-agent)}
CORPUS=${LIGHTBOX_CORPUS:-$(find_bin lightbox-corpus)}
for b in "$HUB" "$AGENT" "$CORPUS"; do [ -x "$b" ] || lb_die "binaries missing under $BUILD_DIR (build first)"; done
export HUB AGENT CORPUS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lb-bench.XXXXXX")
export WORK
cleanup() { if [ "$keep" = 1 ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# The CT series: the corpus generator's CT files (the biggest series), hard-linked into one folder.
lb_log "corpus: $slices-slice CT"
"$CORPUS" "$WORK/corpus" --ct-slices "$slices" >"$WORK/corpus.json"
CT_DIR=$WORK/ct
mkdir -p "$CT_DIR"
# The generator's deliberately broken files are not part of the series.
jq -r '.expected_rejected[]?.file' "$WORK/corpus.json" >"$WORK/rejected.txt" 2>/dev/null || : >"$WORK/rejected.txt"
while IFS= read -r -d '' f; do
  grep -qxF "${f#"$WORK/corpus/"}" "$WORK/rejected.txt" && continue
  meta=$(dcmdump -q +P 0008,0060 +P 0020,000e "$f" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | paste -sd' ' || true)
  read -r modality series <<<"$meta"
  [ "${modality:-}" = CT ] && printf '%s\t%s\n' "$series" "$f"
done < <(find "$WORK/corpus" -type f -print0) >"$WORK/ct.tsv"
ct_series=$(cut -f1 "$WORK/ct.tsv" | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
awk -F'\t' -v s="$ct_series" '$1==s{print $2}' "$WORK/ct.tsv" | while IFS= read -r f; do
  ln "$f" "$CT_DIR/$(basename "$f")"
done
export CT_DIR
read -r ct_n ct_bytes < <(files_and_bytes "$CT_DIR")
[ "$ct_n" -ge "$slices" ] || lb_die "found $ct_n CT files, expected $slices"
dims=$(dcmdump -q +P 0028,0010 +P 0028,0011 "$(find "$CT_DIR" -type f | head -1)" | awk '{print $3}' | paste -sd'x')
lb_log "CT series: $ct_n files, $ct_bytes bytes, ${dims} pixels"
find "$CT_DIR" -type f -exec cat {} + >/dev/null   # warm the page cache for every contender
lb_make_tls "$WORK/tls"

netns=0
if unshare -n true 2>/dev/null; then netns=1; fi
run_phase() {  # run_phase NAME RUN → JSON line
  local state=$WORK/$1-$2
  mkdir -p "$state"
  if [ "$netns" = 1 ]; then
    unshare -n bash "$BENCH_DIR/run.sh" --phase "$1" "$state"
  else
    bash "$BENCH_DIR/run.sh" --phase "$1" "$state"
  fi
}

: >"$WORK/runs.jsonl"
for r in $(seq "$runs"); do
  for p in dcmtk orthanc lightbox; do
    lb_log "run $r/$runs: $p"
    run_phase "$p" "$r" | tee -a "$WORK/runs.jsonl"
  done
done

mkdir -p "$BENCH_DIR/results"
host_cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
load=$(cut -d' ' -f1 /proc/loadavg)   # other work on the machine skews every figure: record it
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg cpu "$host_cpu" --argjson cpus "$(nproc)" \
  --argjson netns "$netns" --arg dims "$dims" --argjson runs "$runs" --arg load "$load" \
  --arg orthanc "$(dpkg-query -W -f='${Version}' orthanc 2>/dev/null || echo unknown)" \
  --arg dcmtk "$(dpkg-query -W -f='${Version}' dcmtk 2>/dev/null || echo unknown)" '
  def median: sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end;
  def summary(name): [.[] | select(.name == name)] as $r
    | ($r | map(.seconds) | median) as $s
    | {instances: $r[0].instances, bytes: $r[0].bytes, runs_seconds: ($r | map(.seconds)), seconds: $s,
       instances_per_s: ($r[0].instances / $s), mb_per_s: ($r[0].bytes / 1e6 / $s)}
      + (if name == "lightbox" then {agent_max_rss_kb: ($r | map(.agent_max_rss_kb) | max),
           start_to_first_receipt_seconds: ($r | map(.start_to_first_receipt_seconds) | median),
           first_to_last_receipt_seconds: ($r | map(.first_to_last_receipt_seconds) | median)} else {} end);
  {date: $date, host: {cpu: $cpu, cpus: $cpus, loadavg_1min_after: ($load|tonumber)}, series: {dims: $dims}, runs: $runs, netns: ($netns == 1),
   versions: {orthanc: $orthanc, dcmtk: $dcmtk},
   dcmtk: summary("dcmtk"), orthanc: summary("orthanc"), lightbox: summary("lightbox")}
  | .ratios = {lightbox_over_orthanc: (.lightbox.instances_per_s / .orthanc.instances_per_s),
               lightbox_over_dcmtk: (.lightbox.instances_per_s / .dcmtk.instances_per_s)}
  | .targets = {three_x_orthanc: (.ratios.lightbox_over_orthanc >= 3),
                at_least_dcmtk: (.ratios.lightbox_over_dcmtk >= 1),
                agent_rss_under_100mb: (.lightbox.agent_max_rss_kb < 102400)}
  ' "$WORK/runs.jsonl" >"$BENCH_DIR/results/latest.json"

R=$BENCH_DIR/results/latest.json
echo
printf 'Same %s-file %s CT series (%.1f MB), median of %s runs, %s, load average %s\n' "$ct_n" "$dims" \
  "$(jq '.dcmtk.bytes / 1e6' "$R")" "$runs" "$( [ "$netns" = 1 ] && echo 'each in its own network namespace' || echo 'loopback')" "$load"
printf '%-40s %8s %12s %8s\n' "path" "seconds" "instances/s" "MB/s"
jq -r '["DCMTK storescu -> storescp", .dcmtk], ["Orthanc REST POST /instances, 2 curl", .orthanc],
       ["lightbox-agent -> lightbox-hub, TLS", .lightbox]
       | "\(.[0])\t\(.[1].seconds)\t\(.[1].instances_per_s)\t\(.[1].mb_per_s)"' "$R" |
  awk -F'\t' '{printf "%-40s %8.2f %12.0f %8.0f\n", $1, $2, $3, $4}'
jq -r '.lightbox | "  lightbox split: \(.start_to_first_receipt_seconds) s from start to the first receipt (scan, stable_seconds=1 wait, verify, spool), \(.first_to_last_receipt_seconds) s first to last receipt"' "$R"
jq -r '"ratio Lightbox/Orthanc: \(.ratios.lightbox_over_orthanc*100|round/100)×  (target ≥ 3: \(if .targets.three_x_orthanc then "met" else "NOT met" end))",
       "ratio Lightbox/DCMTK:   \(.ratios.lightbox_over_dcmtk*100|round/100)×  (target ≥ 1: \(if .targets.at_least_dcmtk then "met" else "NOT met" end))",
       "agent peak RSS:         \(.lightbox.agent_max_rss_kb/1024|round) MiB  (target < 100 MiB: \(if .targets.agent_rss_under_100mb then "met" else "NOT met" end))"' "$R"
echo "results: $R"
