#!/usr/bin/env bash
# hub_graceful_stop — SIGTERM while two uploads are in flight (curl --limit-rate):
#   * the short upload (finishes inside the grace period) is drained and answered 201;
#   * the long one (would need far longer than the grace period) is cut off;
#   * the hub exits 0 within the grace period (+ margin) and refuses new connections;
#   * after a restart the drained object is there byte for byte, the cut one is absent (404),
#     and every file under objects/ hashes to its own name (no partial object is visible).
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

GRACE=4
it_write_hub_config "$GRACE"
it_start_hub
TOKEN=$(it_new_agent hosp-a agent-a)

# Two attachment bodies: "PDF" files with random content (the hub does not parse attachments).
mk_pdf() { { printf '%%PDF-1.4\n'; head -c "$2" /dev/urandom; printf '\n%%%%EOF\n'; } >"$1"; }
mk_pdf "$WORK/short.pdf" $((3 * 1024 * 1024))
mk_pdf "$WORK/long.pdf" $((64 * 1024 * 1024))
SHORT=$(it_sha "$WORK/short.pdf")
LONG=$(it_sha "$WORK/long.pdf")

upload() {  # upload FILE SHA OUT — rate-limited PUT in the background; writes the HTTP code to OUT
  curl -sS --cacert "$CA" --limit-rate 2M -o "$3.body" -w '%{http_code}' -X PUT \
    -H "Authorization: Bearer $TOKEN" -H "X-Lightbox-Kind: attachment" \
    -H "Content-Type: application/pdf" --data-binary "@$1" \
    "$HUB_URL/api/v1/objects/$2" >"$3" 2>"$3.err" || true
}
upload "$WORK/short.pdf" "$SHORT" "$WORK/short.code" &
short_job=$!
upload "$WORK/long.pdf" "$LONG" "$WORK/long.code" &
long_job=$!
sleep 0.7

hub_pid=$(cat "$HUB_PIDFILE")
t0=$(lb_now)
kill -TERM "$hub_pid"
# New connections are refused (or fail) shortly after SIGTERM while the old ones drain.
sleep 0.5
if curl -s --max-time 2 --cacert "$CA" -o /dev/null -w '%{http_code}' "$HUB_URL/healthz" 2>/dev/null | grep -q '^200$'; then
  echo "WARNING: the hub still accepted a new request 0.5 s after SIGTERM" >&2
fi
lb_stop "$HUB_PIDFILE" TERM $((GRACE + 6))
secs=$(lb_elapsed "$t0")
it_eq "$LB_STOP_RC" 0 "hub exit code after SIGTERM"
awk -v s="$secs" -v g="$GRACE" 'BEGIN{exit !(s <= g + 3)}' || it_fail "hub took ${secs}s to stop (grace ${GRACE}s)"
it_note "hub stopped ${secs}s after SIGTERM (grace ${GRACE}s)"

wait "$short_job" "$long_job" || true
it_eq "$(cat "$WORK/short.code")" 201 "short upload drained during the grace period"
long_code=$(cat "$WORK/long.code")
case $long_code in 200 | 201) it_fail "the 64 MiB upload at 2 MiB/s cannot have completed, got $long_code" ;; esac
it_note "long upload cut off (HTTP code '${long_code}')"

# No partial object: every stored file hashes to its own name.
n=0
while IFS= read -r -d '' f; do
  name=$(basename "$f")
  [[ $name =~ ^[0-9a-f]{64}$ ]] || continue
  [ "$(it_sha "$f")" = "$name" ] || it_fail "object $f does not hash to its name (partial object visible)"
  n=$((n + 1))
done < <(find "$HUB_DATA/objects" -type f -print0 2>/dev/null)
it_eq "$n" 1 "complete objects in the store"

# Restart: the drained object is served, the cut one is unknown.
it_start_hub
it_eq "$(it_api "$TOKEN" GET "/api/v1/objects/$SHORT")" 200 "GET of the drained upload after restart"
cmp -s "$WORK/body" "$WORK/short.pdf" || it_fail "drained object bytes differ"
it_eq "$(it_api "$TOKEN" GET "/api/v1/objects/$LONG")" 404 "GET of the cut upload after restart"

it_pass
