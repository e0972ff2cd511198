#!/usr/bin/env bash
# e2e_corpus — corpus (40-slice CT + other modalities + attachments + one corrupt file) →
# agent run --once → hub. Asserts: every accepted file is at the hub byte for byte (GET + cmp),
# the study list has the right instance counts per study, the corrupt file is quarantined as
# "truncated" and is not at the hub, a PDF attachment is stored, nothing failed.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

it_corpus "$WORK/corpus" --ct-slices 40
it_start_hub
TOKEN=$(it_new_agent hosp-a agent-a)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
CFG=$(it_agent_config agent-a "$WORK/corpus")

"$AGENT" check --config "$CFG" >"$WORK/logs/check.out" 2>&1 || { cat "$WORK/logs/check.out"; it_fail "agent check failed"; }
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/logs/agent.log" 2>&1 || it_fail "agent run --once exited non-zero"
# status reads only queue.db: it works without the hub token in the environment.
(unset LIGHTBOX_AGENT_TOKEN; it_status "$CFG" "$WORK/status.json")
S=$WORK/status.json

total=$(find "$WORK/corpus" -type f | wc -l)
quar=$(jq '.queue.quarantined' "$S")
it_eq "$(jq '.queue.failed' "$S")" 0 "failed items"
it_eq "$(jq '.queue.uploading + .queue.collected + .queue.verified' "$S")" 0 "items left in flight"
it_eq "$quar" 1 "quarantined items"
it_eq "$(jq -r '.quarantined[0].reason_code' "$S")" truncated "quarantine reason_code"
[ -n "$(jq -r '.quarantined[0].reason // empty' "$S")" ] || it_fail "quarantined item has no reason sentence"
it_eq "$(jq '.queue.done' "$S")" "$((total - quar))" "done items (corpus files minus quarantined)"

# The corrupt file: find it by its path (relative or absolute) and prove the hub does not have it.
bad_path=$(jq -r '.quarantined[0].path' "$S")
bad_file=$bad_path
[ -f "$bad_file" ] || bad_file=$(find "$WORK/corpus" -type f -name "$(basename "$bad_path")" | head -1)
[ -f "$bad_file" ] || it_fail "quarantined path $bad_path is not a corpus file (or was moved)"
code=$(it_api "$TOKEN" GET "/api/v1/objects/$(it_sha "$bad_file")")
it_eq "$code" 404 "GET of the corrupt file's sha256"

# Every other file: fetched back from the hub byte for byte; study UIDs counted from the files.
: >"$WORK/expected_studies"
pdfs=0 checked=0
while IFS= read -r -d '' f; do
  [ "$f" = "$bad_file" ] && continue
  sha=$(it_sha "$f")
  code=$(it_api "$TOKEN" GET "/api/v1/objects/$sha")
  [ "$code" = 200 ] || it_fail "GET /api/v1/objects/$sha ($f) → $code"
  cmp -s "$f" "$WORK/body" || it_fail "bytes at the hub differ from $f"
  checked=$((checked + 1))
  case ${f,,} in *.pdf) pdfs=$((pdfs + 1)) ;; esac
  uid=$(dcmdump -q +P 0020,000d "$f" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1 || true)
  [ -n "$uid" ] && echo "$uid" >>"$WORK/expected_studies"
done < <(find "$WORK/corpus" -type f -print0)
it_note "$checked objects fetched back and identical (cmp)"
[ "$pdfs" -ge 1 ] || it_fail "the corpus has no PDF attachment to check"
it_note "$pdfs PDF attachment(s) stored and identical"

# Studies: the hub's instance_count per study equals the number of accepted DICOM files.
code=$(it_api "$TOKEN" GET "/api/v1/studies?limit=1000")
it_eq "$code" 200 "GET /api/v1/studies"
cp "$WORK/body" "$WORK/studies.json"
sort "$WORK/expected_studies" | uniq -c | awk '{print $2, $1}' >"$WORK/expected_counts"
jq -r '.studies[] | "\(.study_uid) \(.instance_count)"' "$WORK/studies.json" | sort >"$WORK/actual_counts"
sort -o "$WORK/expected_counts" "$WORK/expected_counts"
if ! diff -u "$WORK/expected_counts" "$WORK/actual_counts"; then
  it_fail "study instance counts differ (expected from the files vs GET /api/v1/studies)"
fi
it_note "$(wc -l <"$WORK/actual_counts") studies with the expected instance counts"

# One study in detail: series → instances carry the sha256 of real corpus files.
uid=$(head -1 "$WORK/actual_counts" | cut -d' ' -f1)
code=$(it_api "$TOKEN" GET "/api/v1/studies/$uid")
it_eq "$code" 200 "GET /api/v1/studies/{uid}"
n_detail=$(jq '[.series[].instances[]] | length' "$WORK/body")
it_eq "$n_detail" "$(head -1 "$WORK/actual_counts" | cut -d' ' -f2)" "instances listed in the study detail"
sha1=$(jq -r '.series[0].instances[0].sha256' "$WORK/body")
code=$(it_api "$TOKEN" GET "/api/v1/objects/$sha1")
it_eq "$code" 200 "GET of an instance sha256 named by the study detail"

it_pass "$checked objects, $(wc -l <"$WORK/actual_counts") studies, corrupt file quarantined"
