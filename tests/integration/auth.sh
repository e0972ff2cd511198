#!/usr/bin/env bash
# auth — the hub's credential and request checks, with curl over TLS (--cacert):
#   no token → 401 JSON; revoked token → 401 "credential revoked"; X-Lightbox-Agent of another
#   agent → 403; bad sha256 → 400 {error,message,field:"sha256"}; wrong hash → 400 hash_mismatch;
#   first PUT 201, repeat 200 (receipt JSON); another institution cannot GET the object (404)
#   nor see the study; GET /healthz needs no credential.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

it_corpus "$WORK/corpus" --ct-slices 2
it_start_hub
TOK_A=$(it_new_agent hosp-a agent-a)
TOK_B=$(it_new_agent hosp-b agent-b)
TOK_R=$(it_new_agent hosp-b agent-revoked)
[[ $TOK_A =~ ^lbt_[0-9a-f]{64}$ ]] || it_fail "token format is not lbt_<64 hex>: ${TOK_A:0:12}…"

# A DICOM file from the corpus that the hub accepts: the first one dcmdump reads cleanly.
dcm=""
while IFS= read -r -d '' f; do
  if dcmdump -q +P 0008,0018 "$f" 2>/dev/null | grep -q UI; then dcm=$f; break; fi
done < <(find "$WORK/corpus" -type f -print0 | sort -z)
[ -n "$dcm" ] || it_fail "no DICOM file in the corpus"
SHA=$(it_sha "$dcm")
put() {  # put TOKEN SHA FILE [extra curl args]
  local tok=$1 sha=$2 file=$3
  shift 3
  # Expect: 100-continue lets the hub refuse before the body is sent (as the agent does).
  it_api "$tok" PUT "/api/v1/objects/$sha" -H "X-Lightbox-Kind: dicom" -H "Expect: 100-continue" \
    -H "Content-Type: application/dicom" --data-binary "@$file" "$@"
}
json_err() { jq -r '.error' "$WORK/body" 2>/dev/null || echo "(not JSON: $(head -c 200 "$WORK/body"))"; }

it_eq "$(it_api "" GET /healthz)" 200 "GET /healthz without credentials"

# No credential.
it_eq "$(put "" "$SHA" "$dcm")" 401 "PUT without a token"
it_eq "$(json_err)" unauthorized "error of PUT without a token"
it_eq "$(it_api "" GET /api/v1/studies)" 401 "GET /api/v1/studies without a token"
it_eq "$(it_api "lbt_$(printf '0%.0s' $(seq 64))" GET /api/v1/studies)" 401 "unknown token"

# Revoked credential.
it_eq "$(it_api "$TOK_R" GET /api/v1/studies)" 200 "agent-revoked before revoke"
it_admin revoke-agent --agent agent-revoked >/dev/null
it_eq "$(put "$TOK_R" "$SHA" "$dcm")" 401 "PUT with a revoked token"
grep -qi "revoked" "$WORK/body" || it_fail "401 body does not say the credential is revoked: $(cat "$WORK/body")"

# Agent B posing as agent A.
it_eq "$(put "$TOK_B" "$SHA" "$dcm" -H "X-Lightbox-Agent: agent-a")" 403 "PUT by agent-b with X-Lightbox-Agent: agent-a"
it_eq "$(json_err)" forbidden "error of the impersonation"

# Malformed name.
it_eq "$(put "$TOK_A" "not-a-sha256" "$dcm")" 400 "PUT with a bad sha256"
it_eq "$(jq -r '[has("error"), has("message"), has("field")] | all' "$WORK/body")" true "400 body has error/message/field"
it_eq "$(jq -r '.field' "$WORK/body")" sha256 "field of the bad-name 400"
[ -n "$(jq -r '.message' "$WORK/body")" ] || it_fail "400 message is empty"

# Body that does not hash to its name.
other=$(printf 'f%.0s' $(seq 64))
it_eq "$(put "$TOK_A" "$other" "$dcm")" 400 "PUT under another sha256"
it_eq "$(json_err)" hash_mismatch "error of the wrong hash"
it_eq "$(it_api "$TOK_A" GET "/api/v1/objects/$other")" 404 "the mismatched body is not stored"

# The real thing: 201 then 200, receipts name the sha256.
it_eq "$(put "$TOK_A" "$SHA" "$dcm" -H "X-Lightbox-Agent: agent-a" -H "X-Lightbox-Filename: $(basename "$dcm")")" 201 "first PUT by agent-a"
it_eq "$(jq -r '.sha256' "$WORK/body")" "$SHA" "receipt sha256"
it_eq "$(jq -r '.outcome' "$WORK/body")" Stored "receipt outcome"
it_eq "$(put "$TOK_A" "$SHA" "$dcm")" 200 "repeat PUT by agent-a"
it_eq "$(jq -r '.outcome' "$WORK/body")" AlreadyStored "repeat receipt outcome"
it_eq "$(it_api "$TOK_A" GET "/api/v1/objects/$SHA")" 200 "agent-a GET of its object"
cmp -s "$WORK/body" "$dcm" || it_fail "GET bytes differ from the upload"

# Institution B sees neither the object nor the study.
it_eq "$(it_api "$TOK_B" GET "/api/v1/objects/$SHA")" 404 "agent-b GET of agent-a's object"
it_eq "$(it_api "$TOK_B" GET /api/v1/studies)" 200 "agent-b GET /api/v1/studies"
it_eq "$(jq '.studies | length' "$WORK/body")" 0 "studies visible to hosp-b"
it_eq "$(it_api "$TOK_A" GET /api/v1/studies)" 200 "agent-a GET /api/v1/studies"
it_eq "$(jq '.studies | length' "$WORK/body")" 1 "studies visible to hosp-a"

# A refusal while the client streams the body without asking first (no Expect header): the
# hub reads and drops the body, so the client gets the 401 (not a broken pipe) and the
# connection can carry on.
head -c $((30 * 1024 * 1024)) /dev/urandom > "$WORK/big.bin"
BIG=$(it_sha "$WORK/big.bin")
it_eq "$(it_api "$TOK_R" PUT "/api/v1/objects/$BIG" -H "X-Lightbox-Kind: attachment" -H "Expect:" \
  --data-binary "@$WORK/big.bin")" 401 "30 MB PUT with a revoked token and no Expect header"
grep -qi "revoked" "$WORK/body" || it_fail "early refusal body: $(head -c 200 "$WORK/body")"

it_pass
