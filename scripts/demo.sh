#!/usr/bin/env bash
# demo.sh — README command 1: from a fresh Debian 12 to a hub holding a 300-slice CT study.
#   install missing packages → build → generate a corpus → make TLS (own CA) → hub config,
#   institution and agent token → start the hub → agent check → agent run --once → summary.
# Everything lands under ./demo (corpus/, tls/, hub/, agent/, logs/, hub.jsonc, agent.jsonc).
# Usage: scripts/demo.sh [--keep] [--no-deps] [--ct-slices N]
#   --keep     reuse ./demo/corpus and ./demo/tls from an earlier run (hub and agent state are reset)
#   --no-deps  skip the apt step (packages already present)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LB_ROOT"

keep=0 deps=1 slices=300
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --no-deps) deps=0 ;;
    --ct-slices) slices=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) lb_die "unknown option: $1" ;;
  esac
  shift
done

DEMO=$LB_ROOT/demo
BUILD_DIR=${BUILD_DIR:-$LB_ROOT/build}
export BUILD_DIR
HUB_PID=$DEMO/run/hub.pid

cleanup() {
  if [ -s "$HUB_PID" ]; then
    lb_stop "$HUB_PID" TERM 30
  fi
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }

step "1/9 packages"
if [ "$deps" = 1 ]; then lb_install_deps; else echo "skipped (--no-deps)"; fi

step "2/9 build (Release, Ninja, ccache) in $BUILD_DIR"
lb_build lightbox-hub lightbox-agent lightbox-corpus
HUB=$BUILD_DIR/hub/app/lightbox-hub
AGENT=$BUILD_DIR/agent/app/lightbox-agent
CORPUS=$BUILD_DIR/tools/corpus/lightbox-corpus
# Fall back to a search when the targets live elsewhere in the build tree.
for v in HUB AGENT CORPUS; do
  if [ ! -x "${!v}" ]; then
    name=$(basename "${!v}")
    found=$(find "$BUILD_DIR" -type f -name "$name" -perm -u+x | head -1)
    [ -n "$found" ] || lb_die "$name not found under $BUILD_DIR"
    printf -v "$v" '%s' "$found"
  fi
done

step "3/9 clean ./demo"
if [ "$keep" = 1 ] && [ -d "$DEMO/corpus" ] && [ -s "$DEMO/tls/server.crt" ]; then
  find "$DEMO" -mindepth 1 -maxdepth 1 ! -name corpus ! -name tls -exec rm -rf {} +
  echo "kept $DEMO/corpus and $DEMO/tls"
else
  rm -rf "$DEMO"
fi
mkdir -p "$DEMO"/{hub,agent,logs,run}

step "4/9 corpus: $slices-slice CT + other modalities + one corrupt file → demo/corpus"
if [ ! -d "$DEMO/corpus" ]; then
  "$CORPUS" "$DEMO/corpus" --ct-slices "$slices" >"$DEMO/logs/corpus.json"
  jq -c . "$DEMO/logs/corpus.json" 2>/dev/null | cut -c1-400 || head -c 400 "$DEMO/logs/corpus.json"
fi
corpus_files=$(find "$DEMO/corpus" -type f | wc -l)
corpus_bytes=$(find "$DEMO/corpus" -type f -printf '%s\n' | awk '{s+=$1} END{print s+0}')
echo "$corpus_files files, $(awk -v b="$corpus_bytes" 'BEGIN{printf "%.1f", b/1048576}') MiB"

step "5/9 TLS: own CA + server certificate for 127.0.0.1/localhost → demo/tls"
lb_make_tls "$DEMO/tls"
openssl x509 -in "$DEMO/tls/server.crt" -noout -subject -ext subjectAltName 2>/dev/null | tr '\n' ' '
echo

step "6/9 hub: config, check, institution, agent token"
port=8443
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then port=$(lb_free_port); fi
HUB_URL=https://127.0.0.1:$port
lb_write_hub_config "$DEMO/hub.jsonc" "$port" "$DEMO/hub/data" "$DEMO/tls"
mkdir -p "$DEMO/hub/data"
"$HUB" check --config "$DEMO/hub.jsonc"
"$HUB" admin --config "$DEMO/hub.jsonc" create-institution --id demo-hospital --name "Demo Hospital" >"$DEMO/logs/institution.json"
echo "institution: $(jq -c . "$DEMO/logs/institution.json" 2>/dev/null || cat "$DEMO/logs/institution.json")"
# The token lives only in this process's environment; the agent config refers to ${LIGHTBOX_AGENT_TOKEN}.
LIGHTBOX_AGENT_TOKEN=$("$HUB" admin --config "$DEMO/hub.jsonc" create-agent --institution demo-hospital --agent demo-agent-01)
export LIGHTBOX_AGENT_TOKEN
echo "agent demo-agent-01 token: ${LIGHTBOX_AGENT_TOKEN:0:8}… (kept in \$LIGHTBOX_AGENT_TOKEN only)"

step "7/9 start hub on $HUB_URL (log demo/logs/hub.log)"
lb_start lightbox-hub "$HUB_PID" "$DEMO/logs/hub.log" "$HUB" serve --config "$DEMO/hub.jsonc"
if ! lb_wait_healthz "$HUB_URL" "$DEMO/tls/ca.crt" 30; then
  tail -20 "$DEMO/logs/hub.log" >&2
  lb_die "hub did not answer $HUB_URL/healthz"
fi
curl -sS --cacert "$DEMO/tls/ca.crt" "$HUB_URL/healthz"; echo

step "8/9 agent: check, then run --once (log demo/logs/agent.log)"
lb_write_agent_config "$DEMO/agent.jsonc" demo-agent-01 "$DEMO/agent/data" "$HUB_URL" \
  "$DEMO/tls/ca.crt" "$DEMO/corpus" 4 1
"$AGENT" check --config "$DEMO/agent.jsonc"
t0=$(lb_now)
# stdout: the run's JSON summary; stderr: the JSON-lines log.
if ! "$AGENT" run --once --config "$DEMO/agent.jsonc" </dev/null >"$DEMO/logs/run-once.json" 2>>"$DEMO/logs/agent.log"; then
  tail -20 "$DEMO/logs/agent.log" >&2
  lb_die "agent run --once failed (see demo/logs/agent.log)"
fi
secs=$(lb_elapsed "$t0")
"$AGENT" status --config "$DEMO/agent.jsonc" --json >"$DEMO/logs/status.json"
curl -fsS --cacert "$DEMO/tls/ca.crt" -H "Authorization: Bearer $LIGHTBOX_AGENT_TOKEN" \
  "$HUB_URL/api/v1/studies?limit=1000" >"$DEMO/logs/studies.json"

step "9/9 summary"
S=$DEMO/logs/status.json
done_n=$(lb_json "$S" '.queue.done')
quar_n=$(lb_json "$S" '.queue.quarantined')
failed_n=$(lb_json "$S" '.queue.failed')
collected_total=$(jq -r '.collected // empty' "$DEMO/logs/run-once.json" 2>/dev/null || true)
[ -n "$collected_total" ] || collected_total=$(lb_json "$S" '[.queue[]] | add')
instances=$(jq '[.studies[].instance_count] | add // 0' "$DEMO/logs/studies.json")
up_bytes=$(lb_json "$S" '.uploaded_bytes // 0')
rate_mb=$(awk -v b="$up_bytes" -v s="$secs" 'BEGIN{ if (s>0) printf "%.1f", b/1048576/s; else print "n/a" }')
rate_in=$(awk -v n="$done_n" -v s="$secs" 'BEGIN{ if (s>0) printf "%.0f", n/s; else print "n/a" }')
cat <<EOF
  files in demo/corpus        : $corpus_files
  collected by the agent      : $collected_total
  uploaded (hub receipt)      : $done_n  ($(awk -v b="$up_bytes" 'BEGIN{printf "%.1f", b/1048576}') MiB: $instances DICOM instances + $((done_n - instances)) attachments)
  failed (will retry)         : $failed_n
  quarantined                 : $quar_n
EOF
jq -r '.quarantined[] | "      - \(.path): \(.reason_code) — \(.reason)"' "$S"
cat <<EOF
  agent run --once wall time  : ${secs} s  →  ${rate_mb} MiB/s, ${rate_in} instances/s
                                (includes scanning, stability wait, verification, hashing, TLS upload)
  studies at the hub (GET /api/v1/studies):
EOF
jq -r '.studies[] | "      - \(.study_uid)  patient=\(.patient_id)  \(.modalities|join(","))  series=\(.series_count) instances=\(.instance_count)"' "$DEMO/logs/studies.json"
cat <<EOF

  where to look:
    demo/corpus/          the generated DICOM files (+ one deliberately corrupt file, + attachments)
    demo/hub/data/        hub store: objects/<sha256>, index.db (SQLite)
    demo/agent/data/      agent queue.db, spool/, quarantine/
    demo/logs/            hub.log, agent.log (JSON lines), run-once.json (the run's summary),
                          status.json (agent status --json), studies.json (GET /api/v1/studies)
    demo/hub.jsonc        hub config        demo/agent.jsonc   agent config
    demo/tls/             ca.crt (trust anchor), server.crt/key
  inspect again:  $AGENT status --config demo/agent.jsonc   (reads queue.db only; no token needed)
  the hub is stopped now; restart it with:  $HUB serve --config demo/hub.jsonc
  the ops dashboard (中文 / English):  $HUB admin --config demo/hub.jsonc create-operator --name me
                                     prints an lbo_ token; with the hub running, open
                                     $HUB_URL/dashboard/ and paste it (trust demo/tls/ca.crt)
EOF

[ "$done_n" -gt 0 ] || lb_die "nothing was uploaded"
cleanup
trap - EXIT
echo "hub stopped (exit ${LB_STOP_RC:-?}). demo OK"
