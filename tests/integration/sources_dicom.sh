#!/usr/bin/env bash
# sources_dicom — the `dicom` source against real PACS software, through the real agent into the
# real hub:
#   * Orthanc (Debian's package) as PACS for C-FIND + C-MOVE to the agent's own C-STORE SCP,
#   * DCMTK's dcmqrscp as a second PACS for C-FIND + C-GET,
#   * storescu pushing to the agent's SCP (lossless compressed transfer syntaxes included), and a
#     peer whose AE title is not accepted being refused,
#   * `check` answering in plain words for a PACS that is up (C-ECHO) and one that is down.
# Asserts per SOP instance that what the PACS holds arrived at the hub with an identical data set
# (the Part 10 meta header is rewritten by every DICOM receiver, so the data set after group 0002
# is what is compared; whole-file equality is reported too), that a second run collects 0.
# dcmqrscp runs in its default forking mode: 3.6.7-9 --single-process segfaults after the first
# association is released. Orthanc and dcmqrscp cannot bind 127.0.0.1 only (they listen on 0.0.0.0), so when `unshare -n`
# works the whole test (PACS, hub, agent) runs in a private network namespace with only loopback.
# Skips (77) when Orthanc, dcmqrscp or the DCMTK tools are missing.
set -euo pipefail

for tool in Orthanc dcmqrscp storescu echoscu dcmdump curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP sources_dicom: $tool is not installed (packages: orthanc dcmtk curl jq)"
    exit 77
  fi
done
if [ -z "${LB_IT_NETNS:-}" ] && unshare -n true 2>/dev/null && command -v ip >/dev/null 2>&1; then
  export LB_IT_NETNS=1
  exec unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
[ "${LB_IT_NETNS:-}" = 1 ] && it_note "running in a private network namespace (unshare -n)" ||
  it_note "unshare -n not available: Orthanc and dcmqrscp listen on 0.0.0.0 (random high ports)"

# ds_sha FILE — SHA-256 of the data set of a Part 10 file (everything after the group 0002 meta
# header), so two copies of one instance compare equal whoever wrote their meta header.
ds_sha() {
  python3 - "$1" <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
pos = 0
if len(b) >= 132 and b[128:132] == b"DICM":
    pos = 132
    while pos + 8 <= len(b):
        group, elem = struct.unpack_from("<HH", b, pos)
        if group != 0x0002:
            break
        vr = b[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"):
            (length,) = struct.unpack_from("<I", b, pos + 8)
            pos += 12 + length
        else:
            (length,) = struct.unpack_from("<H", b, pos + 6)
            pos += 8 + length
print(hashlib.sha256(b[pos:]).hexdigest())
PY
}
sop_of() { dcmdump -q +P 0008,0018 "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1; }
study_of() { dcmdump -q +P 0020,000d "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1; }

# --- DICOM data: one corpus for the PACS (CT 20 slices, MR 16, CR, US), one for pushing ---------
it_corpus "$WORK/corpus" --ct-slices 20
"$CORPUS" "$WORK/push" --ct-slices 1 --seed 7 --odd >"$WORK/push.summary.json" 2>>"$WORK/logs/corpus.log" ||
  it_fail "lightbox-corpus (push corpus) failed"
bad=$(jq -r '.expected_rejected[].file' "$WORK/corpus.summary.json" | head -1)
study_date=$(dcmdump -q +P 0008,0020 "$(find "$WORK/corpus/study1_ct_chest" -name 'ct_0001.dcm')" |
  sed -n 's/.*\[\(.*\)\].*/\1/p')
# The C-FIND window must reach back to the corpus's fixed StudyDate from today.
window_days=$(( ( $(date +%s) - $(date -d "$study_date" +%s) ) / 86400 + 2 ))
[ "$window_days" -ge 2 ] || window_days=2
it_note "corpus StudyDate $study_date: window_days $window_days"

# --- hub first (before the many short client connections below take ephemeral ports) -------------
it_start_hub
TOKEN=$(it_new_agent hosp-a agent-a)
export LIGHTBOX_AGENT_TOKEN=$TOKEN

# --- Orthanc: C-FIND / C-MOVE PACS ----------------------------------------------------------------
ports=()
while [ "${#ports[@]}" -lt 5 ]; do
  p=$(lb_free_port)
  [ "$p" != "$HUB_PORT" ] && [[ " ${ports[*]} " != *" $p "* ]] && ports+=("$p")
done
OH_HTTP=${ports[0]} OH_DICOM=${ports[1]} QR_PORT=${ports[2]} SCP_MOVE=${ports[3]} SCP_GET=${ports[4]}
mkdir -p "$WORK/orthanc/db"
cat >"$WORK/orthanc/orthanc.json" <<EOF
{
  "Name": "lightbox-it", "StorageDirectory": "$WORK/orthanc/db", "IndexDirectory": "$WORK/orthanc/db",
  "StorageCompression": false, "HttpServerEnabled": true, "HttpPort": $OH_HTTP,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": true, "DicomAet": "ORTHANC", "DicomPort": $OH_DICOM,
  "DicomCheckCalledAet": false, "DicomAlwaysAllowEcho": true, "DicomAlwaysAllowStore": true,
  "DicomModalities": { "lightbox": [ "LIGHTBOX", "127.0.0.1", $SCP_MOVE ] },
  "ConcurrentJobs": 2, "SaveJobs": false, "StableAge": 1
}
EOF
OH_PID=$WORK/run/orthanc.pid
IT_PIDS+=("$OH_PID")
mkdir -p "$WORK/orthanc/logs"
lb_start Orthanc "$OH_PID" "$WORK/logs/orthanc.log" env TCP_NODELAY=1 Orthanc \
  --logdir="$WORK/orthanc/logs" "$WORK/orthanc/orthanc.json"
lb_wait_port "$OH_HTTP" 30 || it_fail "Orthanc did not open its HTTP port"
lb_wait_port "$OH_DICOM" 30 || it_fail "Orthanc did not open its DICOM port"
OH=http://127.0.0.1:$OH_HTTP

# Upload CT + MR by REST; what Orthanc then holds (GET /instances/{id}/file) is the reference.
: >"$WORK/pacs_expected"   # lines: sop dataset-sha whole-file-sha
n_orthanc=0
while IFS= read -r -d '' f; do
  id=$(curl -fsS -X POST --data-binary "@$f" "$OH/instances" | jq -r '.ID') || it_fail "Orthanc rejected $f"
  curl -fsS -o "$WORK/orthanc.file" "$OH/instances/$id/file"
  echo "$(sop_of "$WORK/orthanc.file") $(ds_sha "$WORK/orthanc.file") $(it_sha "$WORK/orthanc.file")" >>"$WORK/pacs_expected"
  n_orthanc=$((n_orthanc + 1))
done < <(find "$WORK/corpus/study1_ct_chest" "$WORK/corpus/study2_mr_brain" -name '*.dcm' \
           ! -path "*/$(basename "$bad")" -print0)
it_eq "$(curl -fsS "$OH/statistics" | jq '.CountInstances')" "$n_orthanc" "instances held by Orthanc"

# --- dcmqrscp: C-FIND / C-GET PACS, loaded with storescu ----------------------------------------
mkdir -p "$WORK/qr/storage"
cat >"$WORK/qr/dcmqrscp.cfg" <<EOF
NetworkTCPPort  = $QR_PORT
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
QRSCP   $WORK/qr/storage   RW (200, 1024mb)   ANY
AETable END
EOF
QR_PID=$WORK/run/dcmqrscp.pid
IT_PIDS+=("$QR_PID")
lb_start dcmqrscp "$QR_PID" "$WORK/logs/dcmqrscp.log" dcmqrscp -c "$WORK/qr/dcmqrscp.cfg" "$QR_PORT"
lb_wait_port "$QR_PORT" 30 || it_fail "dcmqrscp did not open its port"
mapfile -t qr_files < <(find "$WORK/corpus/study3_cr_chest" "$WORK/corpus/study4_us_abdomen" -name '*.dcm' | sort)
storescu -aet LOADER -aec QRSCP 127.0.0.1 "$QR_PORT" "${qr_files[@]}" >>"$WORK/logs/storescu.log" 2>&1 ||
  it_fail "storescu could not load dcmqrscp"
n_qr=0
for f in "$WORK"/qr/storage/*; do
  [ -f "$f" ] && [ "$(basename "$f")" != index.dat ] || continue
  echo "$(sop_of "$f") $(ds_sha "$f") $(it_sha "$f")" >>"$WORK/pacs_expected"
  n_qr=$((n_qr + 1))
done
it_eq "$n_qr" "${#qr_files[@]}" "instances held by dcmqrscp"

# --- agent ---------------------------------------------------------------------------------------
CFG=$WORK/agent.jsonc
cat >"$CFG" <<EOF
{
  "agent": {"id": "agent-a", "data_dir": "$WORK/agent-data"},
  "hub": {"url": "$HUB_URL", "ca_file": "$CA", "token": "\${LIGHTBOX_AGENT_TOKEN}"},
  "upload": {"concurrency": 4, "retry_initial_seconds": 1, "retry_max_seconds": 5},
  "sources": [
    {"name": "orthanc", "kind": "dicom", "ae_title": "LIGHTBOX", "listen_address": "127.0.0.1", "port": $SCP_MOVE,
     "accepted_peers": [{"ae_title": "PUSHER", "host": "127.0.0.1"}],
     "peer": {"ae_title": "ORTHANC", "host": "127.0.0.1", "port": $OH_DICOM},
     "retrieve": "move", "window_days": $window_days, "poll_seconds": 3600, "stable_seconds": 2},
    {"name": "qr", "kind": "dicom", "ae_title": "LBGET", "listen_address": "127.0.0.1", "port": $SCP_GET,
     "peer": {"ae_title": "QRSCP", "host": "127.0.0.1", "port": $QR_PORT},
     "retrieve": "get", "window_days": $window_days, "poll_seconds": 3600, "stable_seconds": 2}
  ],
  "log": {"level": "info", "file": ""}
}
EOF

"$AGENT" check --config "$CFG" >"$WORK/logs/check.out" 2>&1 || { cat "$WORK/logs/check.out"; it_fail "agent check failed"; }
grep -q "OK source orthanc: PACS ORTHANC at 127.0.0.1:$OH_DICOM answered C-ECHO" "$WORK/logs/check.out" ||
  { cat "$WORK/logs/check.out"; it_fail "check did not report Orthanc's C-ECHO"; }
it_note "check: $(grep 'source qr' "$WORK/logs/check.out")"

# --- 1. run --once: C-FIND, C-MOVE (Orthanc) and C-GET (dcmqrscp), wait for quiet, upload --------
t0=$(lb_now)
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/once1.out" 2>"$WORK/logs/agent-1.log" ||
  it_fail "agent run --once exited non-zero"
it_note "first run --once took $(lb_elapsed "$t0") s: $(tail -1 "$WORK/once1.out")"
expected_total=$((n_orthanc + n_qr))
it_eq "$(tail -1 "$WORK/once1.out" | jq '.collected')" "$expected_total" "instances collected by the first run"
it_status "$CFG" "$WORK/status1.json"
# DICOM items only: collection task records travel through the same queue.
dicom_errors() { jq '[.recent_errors[] | select((.path // "") | startswith("tasks/") | not)] | length' "$1"; }
it_eq "$(dicom_errors "$WORK/status1.json")" 0 "DICOM items with errors"
it_eq "$(jq '.queue.quarantined' "$WORK/status1.json")" 0 "quarantined items"

# Per SOP: the hub's copy (GET /api/v1/objects) has the PACS's data set.
hub_instances() {  # prints "sop sha256" for every instance the hub indexes
  local code uid
  code=$(it_api "$TOKEN" GET "/api/v1/studies?limit=1000")
  [ "$code" = 200 ] || it_fail "GET /api/v1/studies → $code"
  for uid in $(jq -r '.studies[].study_uid' "$WORK/body"); do
    code=$(it_api "$TOKEN" GET "/api/v1/studies/$uid")
    [ "$code" = 200 ] || it_fail "GET /api/v1/studies/$uid → $code"
    jq -r '.series[].instances[] | "\(.sop_instance_uid) \(.sha256)"' "$WORK/body"
  done
}
compare_with_hub() {  # compare_with_hub EXPECTED_FILE — each "sop ds_sha file_sha" line vs the hub
  local sop dsha fsha hsha whole=0 n=0
  hub_instances | sort >"$WORK/hub_instances"
  while read -r sop dsha fsha; do
    hsha=$(awk -v s="$sop" '$1 == s {print $2}' "$WORK/hub_instances")
    [ -n "$hsha" ] || it_fail "SOP $sop is not at the hub"
    [ "$(awk -v s="$sop" '$1 == s' "$WORK/hub_instances" | wc -l)" = 1 ] || it_fail "SOP $sop indexed twice"
    code=$(it_api "$TOKEN" GET "/api/v1/objects/$hsha")
    [ "$code" = 200 ] || it_fail "GET /api/v1/objects/$hsha → $code"
    [ "$(ds_sha "$WORK/body")" = "$dsha" ] || it_fail "SOP $sop: the data set at the hub differs from the source's"
    [ "$hsha" = "$fsha" ] && whole=$((whole + 1))
    n=$((n + 1))
  done <"$1"
  it_note "$n instances: data set identical at the hub; whole file identical for $whole (meta header rewritten by the receiver for the rest)"
}
compare_with_hub "$WORK/pacs_expected"
it_eq "$(wc -l <"$WORK/hub_instances")" "$expected_total" "instances at the hub (exactly the PACS's)"
wm=$(jq -r '.sources[] | select(.name == "orthanc") | .watermark // empty' "$WORK/status1.json" 2>/dev/null || true)
[ -n "$wm" ] && it_note "orthanc watermark: $wm"

# --- 2. a second run --once collects nothing ------------------------------------------------------
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/once2.out" 2>"$WORK/logs/agent-2.log" ||
  it_fail "second agent run --once exited non-zero"
it_eq "$(tail -1 "$WORK/once2.out" | jq '.collected')" 0 "instances collected by the second run"
it_eq "$(grep '"msg":"C-FIND"' "$WORK/logs/agent-2.log" | jq -s 'map(.to_retrieve) | add')" 0 \
  "studies retrieved again by the second run (dcmqrscp gives no count: learnt from the C-GET)"

# --- 2b. the CT study grows at the PACS: the next run retrieves the study again (C-FIND count 21
# > 20 held) and only the new instance is sent; the 20 re-sent by C-MOVE are dropped as seen.
extra=$WORK/extra_ct.dcm
cp "$(find "$WORK/corpus/study1_ct_chest" -name 'ct_0001.dcm')" "$extra"
dcmodify -nb -m "(0008,0018)=2.25.$(date +%s%N)" -m "(0020,0013)=21" "$extra" >/dev/null 2>&1 ||
  it_fail "dcmodify could not make an extra CT instance"
id=$(curl -fsS -X POST --data-binary "@$extra" "$OH/instances" | jq -r '.ID')
curl -fsS -o "$WORK/orthanc.file" "$OH/instances/$id/file"
echo "$(sop_of "$WORK/orthanc.file") $(ds_sha "$WORK/orthanc.file") $(it_sha "$WORK/orthanc.file")" >>"$WORK/pacs_expected"
n_orthanc=$((n_orthanc + 1))
expected_total=$((expected_total + 1))
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/once2b.out" 2>"$WORK/logs/agent-2b.log" ||
  it_fail "agent run --once after the study grew exited non-zero"
it_eq "$(tail -1 "$WORK/once2b.out" | jq '.collected')" 1 "instances collected after the CT study grew by one"

# --- 3. push: storescu (accepted AE PUSHER) to the running agent; EVIL is refused -----------------
# Our own storescu profile: CT and MR in each lossless transfer syntax, so files go as stored.
cat >"$WORK/storescu.cfg" <<'EOF'
[[TransferSyntaxes]]
[ELE]
TransferSyntax1 = LittleEndianExplicit
[ILE]
TransferSyntax1 = LittleEndianImplicit
[BE]
TransferSyntax1 = BigEndianExplicit
[DEF]
TransferSyntax1 = DeflatedLittleEndianExplicit
[JPLL]
TransferSyntax1 = JPEGLossless:Non-hierarchical-1stOrderPrediction
[JLS]
TransferSyntax1 = JPEGLSLossless
[RLE]
TransferSyntax1 = RLELossless
[J2K]
TransferSyntax1 = JPEG2000LosslessOnly
[[PresentationContexts]]
[LB]
PresentationContext1  = CTImageStorage\ELE
PresentationContext2  = CTImageStorage\ILE
PresentationContext3  = CTImageStorage\BE
PresentationContext4  = CTImageStorage\DEF
PresentationContext5  = CTImageStorage\JPLL
PresentationContext6  = CTImageStorage\JLS
PresentationContext7  = CTImageStorage\RLE
PresentationContext8  = CTImageStorage\J2K
PresentationContext9  = MRImageStorage\ELE
[[Profiles]]
[LB]
PresentationContexts = LB
EOF
push_files=()
for name in jpegls_lossless rle_lossless jpeg_lossless_sv1 jpeg2000_lossless_crafted deflated_explicit_little_endian \
            implicit_vr_little_endian explicit_vr_big_endian; do
  f=$(find "$WORK/push/odd" -name "$name.dcm" | head -1)
  [ -n "$f" ] && push_files+=("$f")
done
while IFS= read -r f; do push_files+=("$f"); done < <(find "$WORK/push/study2_mr_brain" -name '*.dcm' | sort)
: >"$WORK/push_expected"
for f in "${push_files[@]}"; do echo "$(sop_of "$f") $(ds_sha "$f") $(it_sha "$f")" >>"$WORK/push_expected"; done

AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent-3.log" "$AGENT" run --config "$CFG"
lb_wait_port "$SCP_MOVE" 30 || it_fail "the agent's SCP did not open port $SCP_MOVE"
# `check` while `run` holds the SCP port: a DICOM listener answers there, so it is not a failure.
"$AGENT" check --config "$CFG" >"$WORK/logs/check-running.out" 2>&1 ||
  { cat "$WORK/logs/check-running.out"; it_fail "check failed while the agent runs"; }
it_note "check while running: $(grep 'source orthanc' "$WORK/logs/check-running.out")"
if storescu -aet EVIL -aec LIGHTBOX 127.0.0.1 "$SCP_MOVE" "${push_files[0]}" >"$WORK/logs/evil.log" 2>&1; then
  it_fail "an association from AE EVIL (not in accepted_peers) was accepted"
fi
grep -qi "rejected" "$WORK/logs/evil.log" || { cat "$WORK/logs/evil.log"; it_fail "EVIL was not refused with an association reject"; }
it_note "AE EVIL refused: $(grep -iE 'Result|Reason' "$WORK/logs/evil.log" | head -2 | tr '\n' ' ')"
storescu -xf "$WORK/storescu.cfg" LB -aet PUSHER -aec LIGHTBOX 127.0.0.1 "$SCP_MOVE" "${push_files[@]}" \
  >"$WORK/logs/push.log" 2>&1 || { cat "$WORK/logs/push.log"; it_fail "storescu push to the agent failed"; }
want=$((expected_total + ${#push_files[@]}))
for _ in $(seq 120); do
  [ "$(hub_instances | wc -l)" -ge "$want" ] && break
  sleep 0.5
done
lb_stop "$AGENT_PID" TERM 30
it_eq "$LB_STOP_RC" 0 "agent exit code after SIGTERM"
grep '"association refused"' "$WORK/logs/agent-3.log" | grep -q '"calling_ae":"EVIL"' ||
  it_fail "the agent did not log the refused association from EVIL"
grep '"association refused"' "$WORK/logs/agent-3.log" | grep '"calling_ae":"EVIL"' | head -1 |
  jq -r '"  - agent log: \(.msg): \(.reason)"'
it_status "$CFG" "$WORK/status3.json"
it_eq "$(dicom_errors "$WORK/status3.json")" 0 "DICOM items with errors after the push"
it_eq "$(jq '.queue.quarantined' "$WORK/status3.json")" 0 "quarantined items after the push"
cat "$WORK/pacs_expected" "$WORK/push_expected" >"$WORK/all_expected"
compare_with_hub "$WORK/all_expected"
it_eq "$(wc -l <"$WORK/hub_instances")" "$want" "instances at the hub (PACS + pushed)"
tsyn=$(jq -r '.series[].instances[].transfer_syntax_uid' "$WORK/body" 2>/dev/null | sort -u | tr '\n' ' ' || true)
[ -n "$tsyn" ] && it_note "transfer syntaxes of the last study listed: $tsyn"

# --- 4. check in plain words when the PACS is down -------------------------------------------------
lb_stop "$OH_PID" TERM 20
if "$AGENT" check --config "$CFG" >"$WORK/logs/check-down.out" 2>&1; then
  it_fail "check passed with Orthanc stopped"
fi
line=$(grep "source orthanc" "$WORK/logs/check-down.out" || true)
case $line in
  "FAIL source orthanc: PACS ORTHANC at 127.0.0.1:$OH_DICOM did not answer C-ECHO"*) it_note "check with Orthanc down: $line" ;;
  *) cat "$WORK/logs/check-down.out"; it_fail "check did not say in plain words that Orthanc is down" ;;
esac
grep -q "OK source qr" "$WORK/logs/check-down.out" || it_fail "the dcmqrscp source should still check OK"

it_pass "C-MOVE $n_orthanc + C-GET $n_qr + push ${#push_files[@]} instances, data sets identical, once; EVIL refused"
