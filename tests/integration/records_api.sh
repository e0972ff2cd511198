#!/usr/bin/env bash
# records_api — POST /api/v1/records against the real hub over TLS, with curl:
#   missing X-Lightbox-Batch → 400 (field X-Lightbox-Batch); wrong hash → 400 hash_mismatch;
#   a batch of 3 with 1 malformed → 200, stored 2, rejected [{index 1, field "fields.performed"}];
#   the same batch again → already_stored 2; a newer exam version supersedes, an older one sent
#   late does not; GET /api/v1/records/{kind}/{key} lists every version newest first;
#   a study PUT as DICOM is linked to an exam through ris_pacs_link and shows in
#   GET /api/v1/exams/{key} (uid, instance_count, modalities); GET /api/v1/exams?patient=;
#   GET /api/v1/tasks?source=; another institution sees none of it; the records survive a restart.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

it_corpus "$WORK/corpus" --ct-slices 2
it_start_hub
TOK_A=$(it_new_agent hosp-a agent-a)
TOK_B=$(it_new_agent hosp-b agent-b)

post() {  # post TOKEN FILE [extra curl args] — POST a batch file with its hash header
  local tok=$1 file=$2
  shift 2
  it_api "$tok" POST /api/v1/records -H "Content-Type: application/json" \
    -H "X-Lightbox-Batch: $(it_sha "$file")" --data-binary "@$file" "$@"
}
jqb() { jq -r "$1" "$WORK/body"; }

# --- the hash header
cat >"$WORK/b1.json" <<'JSON'
{"records":[
 {"kind":"exam","key":"E1","version":"2026-11-28T08:00:00Z",
  "fields":{"patient_id":"P1","accession_number":"ACC-IT-1","modality":"CT","requested":"2026-11-28T07:00:00+08:00","status":"registered"}},
 {"kind":"exam","key":"E2","version":"2026-11-28T08:00:00Z","fields":{"patient_id":"P1","performed":"after lunch"}},
 {"kind":"report","key":"R1","version":"2026-11-28T09:00:00Z",
  "fields":{"exam_key":"E1","findings":"双肺纹理清晰","impression":"未见明显异常","reporting_doctor":"李医生"}}]}
JSON
it_eq "$(it_api "$TOK_A" POST /api/v1/records --data-binary "@$WORK/b1.json")" 400 "POST without X-Lightbox-Batch"
it_eq "$(jqb .field)" X-Lightbox-Batch "field of the missing hash"
it_eq "$(it_api "$TOK_A" POST /api/v1/records -H "X-Lightbox-Batch: $(printf 'a%.0s' $(seq 64))" \
  --data-binary "@$WORK/b1.json")" 400 "POST under another hash"
it_eq "$(jqb .error)" hash_mismatch "error of the wrong hash"
it_eq "$(post "" "$WORK/b1.json")" 401 "POST without a token"

# --- partial rejection, then idempotent repeat
it_eq "$(post "$TOK_A" "$WORK/b1.json")" 200 "POST batch of 3 (1 malformed)"
it_eq "$(jqb .sha256)" "$(it_sha "$WORK/b1.json")" "answer echoes the batch hash"
it_eq "$(jqb .outcome)" Stored "answer outcome"
it_eq "$(jqb .stored)" 2 "stored"
it_eq "$(jqb '.rejected | length')" 1 "rejected count"
it_eq "$(jqb '.rejected[0] | "\(.index) \(.kind) \(.key) \(.error) \(.field)"')" \
  "1 exam E2 invalid_argument fields.performed" "the rejection"
it_eq "$(post "$TOK_A" "$WORK/b1.json")" 200 "the same batch again"
it_eq "$(jqb '"\(.stored) \(.already_stored)"')" "0 2" "stored / already_stored on repeat"

# --- versions: newer supersedes, older arriving late does not
cat >"$WORK/b2.json" <<'JSON'
{"records":[
 {"kind":"exam","key":"E1","version":"2026-11-28T10:00:00Z",
  "fields":{"patient_id":"P1","accession_number":"ACC-IT-1","modality":"CT","status":"reported","performed":"2026-11-28T08:30:00Z"}}]}
JSON
cat >"$WORK/b3.json" <<'JSON'
{"records":[
 {"kind":"exam","key":"E1","version":"2026-11-28T09:00:00Z",
  "fields":{"patient_id":"P1","accession_number":"ACC-IT-1","modality":"CT","status":"checked_in"}}]}
JSON
it_eq "$(post "$TOK_A" "$WORK/b2.json")" 200 "POST a newer exam version"
it_eq "$(post "$TOK_A" "$WORK/b3.json")" 200 "POST an older version, late"
it_eq "$(jqb .stored)" 1 "the late version is stored"
it_eq "$(it_api "$TOK_A" GET /api/v1/records/exam/E1)" 200 "GET /api/v1/records/exam/E1"
it_eq "$(jqb '[.versions[].version] | join(",")')" \
  "2026-11-28T10:00:00Z,2026-11-28T09:00:00Z,2026-11-28T08:00:00Z" "versions newest first"
it_eq "$(jqb '[.versions[].current] | join(",")')" "true,false,false" "only the newest is current"

# --- a study PUT as DICOM, linked to E1 through ris_pacs_link
dcm=""
while IFS= read -r -d '' f; do
  if dcmdump -q +P 0008,0018 "$f" 2>/dev/null | grep -q UI; then dcm=$f; break; fi
done < <(find "$WORK/corpus" -type f -print0 | sort -z)
[ -n "$dcm" ] || it_fail "no DICOM file in the corpus"
it_eq "$(it_api "$TOK_A" PUT "/api/v1/objects/$(it_sha "$dcm")" -H "X-Lightbox-Kind: dicom" \
  -H "Content-Type: application/dicom" --data-binary "@$dcm")" 201 "PUT a DICOM instance"
STUDY=$(jqb .study_uid)
if [ -z "$STUDY" ] || [ "$STUDY" = null ]; then it_fail "receipt has no study_uid"; fi
MODALITY=$(dcmdump -q +P 0008,0060 "$dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1)
jq -n --arg uid "$STUDY" '{records:[
  {kind:"ris_pacs_link",key:"L1",version:"1",fields:{accession_number:"ACC-IT-1",study_uid:$uid,exam_key:"E1",link_method:"accession"}},
  {kind:"qc",key:"Q1",version:"1",fields:{exam_key:"E1",grade:"甲",passed:true}},
  {kind:"order",key:"O1",version:"1",fields:{patient_id:"P1",accession_number:"ACC-IT-1",apply_dept:"呼吸科"}},
  {kind:"collection_task",key:"ris-1",version:"2026-11-28T08:00:00Z",fields:{source:"ris",kind:"view",
    window_start:"2026-11-28T07:00:00Z",window_end:"2026-11-28T08:00:00Z",found:3,collected:3,verified:3,uploaded:3,failed:0}},
  {kind:"collection_task",key:"ct-1",version:"2026-11-28T08:00:00Z",fields:{source:"ct",kind:"folder",found:1,
    collected:1,verified:1,uploaded:1,failed:0}}]}' >"$WORK/b4.json"
it_eq "$(post "$TOK_A" "$WORK/b4.json")" 200 "POST link, qc, order and tasks"
it_eq "$(jqb '"\(.stored) \(.rejected | length)"')" "5 0" "stored / rejected"

it_eq "$(it_api "$TOK_A" GET /api/v1/exams/E1)" 200 "GET /api/v1/exams/E1"
it_eq "$(jqb '.exam.version')" 2026-11-28T10:00:00Z "exam at its current version"
it_eq "$(jqb '.exam.fields.status')" reported "current exam status"
it_eq "$(jqb '.order.key')" O1 "exam's order"
it_eq "$(jqb '.report.fields.impression')" "未见明显异常" "exam's report, Chinese intact"
it_eq "$(jqb '.qc.fields.grade')" "甲" "exam's qc"
it_eq "$(jqb '.study.study_uid')" "$STUDY" "linked study uid"
it_eq "$(jqb '.study.instance_count')" 1 "linked study instance_count"
it_eq "$(jqb '.study.modalities | join(",")')" "$MODALITY" "linked study modalities"

it_eq "$(it_api "$TOK_A" GET "/api/v1/exams?patient=P1")" 200 "GET /api/v1/exams?patient=P1"
it_eq "$(jqb '[.exams[].key] | join(",")')" E1 "exams of P1"
it_eq "$(it_api "$TOK_A" GET "/api/v1/tasks?source=ris&limit=10")" 200 "GET /api/v1/tasks?source=ris"
it_eq "$(jqb '[.tasks[] | "\(.key):\(.fields.found)"] | join(",")')" "ris-1:3" "tasks of source ris"
it_eq "$(it_api "$TOK_A" GET "/api/v1/tasks")" 200 "GET /api/v1/tasks"
it_eq "$(jqb '.tasks | length')" 2 "all tasks"

# --- another institution sees none of it
it_eq "$(it_api "$TOK_B" GET /api/v1/exams/E1)" 404 "hosp-b GET of hosp-a's exam"
it_eq "$(it_api "$TOK_B" GET /api/v1/records/exam/E1)" 404 "hosp-b GET of hosp-a's record versions"
it_eq "$(it_api "$TOK_B" GET "/api/v1/exams?patient=P1")" 200 "hosp-b exam list"
it_eq "$(jqb '.exams | length')" 0 "exams visible to hosp-b"
it_eq "$(it_api "$TOK_B" GET /api/v1/tasks)" 200 "hosp-b task list"
it_eq "$(jqb '.tasks | length')" 0 "tasks visible to hosp-b"

# --- durable: everything answered is there after a restart
it_stop_hub
it_eq "${LB_STOP_RC:-0}" 0 "hub exit code after SIGTERM"
it_start_hub
it_eq "$(it_api "$TOK_A" GET /api/v1/records/exam/E1)" 200 "GET versions after restart"
it_eq "$(jqb '.versions | length')" 3 "versions after restart"
it_eq "$(post "$TOK_A" "$WORK/b4.json")" 200 "repeat of an answered batch after restart"
it_eq "$(jqb '"\(.stored) \(.already_stored)"')" "0 5" "stored / already_stored after restart"

it_pass "records batches, versions, exam assembly with a linked study, tasks, scoping"
