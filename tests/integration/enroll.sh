#!/usr/bin/env bash
# enroll — enrollment and mutual TLS end to end, with the real hub and agent:
#   hub creates its CA on first start (key 0600) → admin enroll-token (lbe_…, --json) → an agent
#   config WITHOUT hub.token fails `check` until enrolled → `agent enroll` writes key (0600) +
#   certificate (CN=agent, O/OU=institution, clientAuth, chains to the hub CA) → `check` shows the
#   subject and expiry → `run --once` uploads over mutual TLS with no bearer token → curl with the
#   certificate reads the studies → `agent renew` swaps in a new key + certificate and uploads go
#   on → token reuse refused (401 "already used") → expired token refused (401 "expired";
#   the expiry is moved into the past in index.db) → bad CSR 400 → `admin revoke-agent` → 403
#   {"error":"revoked"} naming the agent, `check` FAILs, the upload fails with that message (no
#   tight retry), `renew` is refused → a client certificate of another CA fails the handshake.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

command -v sqlite3 >/dev/null || { echo "SKIP enroll: sqlite3 CLI missing (expired-token step)"; exit 77; }

it_start_hub
CA_DIR=$HUB_DATA/ca
[ -s "$CA_DIR/ca.crt" ] && [ -s "$CA_DIR/ca.key" ] || it_fail "hub did not create its CA in $CA_DIR"
it_eq "$(stat -c %a "$CA_DIR/ca.key")" 600 "mode of the hub CA key"
it_eq "$(openssl x509 -in "$CA_DIR/ca.crt" -noout -ext basicConstraints | grep -c 'CA:TRUE')" 1 "hub CA is a CA"

it_admin create-institution --id hosp-a --name "Hospital A" >/dev/null
TOKEN=$(it_admin enroll-token --institution hosp-a --ttl-hours 2)
[[ $TOKEN =~ ^lbe_[0-9a-f]{64}$ ]] || it_fail "enrollment token format is not lbe_<64 hex>: ${TOKEN:0:12}…"
TJSON=$(it_admin enroll-token --institution hosp-a --agent agent-9 --json)
it_eq "$(jq -r '.institution + " " + .agent' <<<"$TJSON")" "hosp-a agent-9" "enroll-token --json names institution and agent"
jq -e '.expires_at | test("Z$")' <<<"$TJSON" >/dev/null || it_fail "enroll-token --json has no expires_at"
it_admin enroll-token --institution no-such-hospital >/dev/null 2>&1 && it_fail "enroll-token for an unknown institution succeeded"

# An agent config with no token at all: mutual TLS only.
unset LIGHTBOX_AGENT_TOKEN || true
mkdir -p "$WORK/src1"
CONF=$(it_agent_config agent-1 "$WORK/src1")
sed -i 's/, "token": "[^"]*"//' "$CONF"
grep -q '"token"' "$CONF" && it_fail "the agent config still has a token"
ID_DIR=$WORK/agent-agent-1/identity

if "$AGENT" check --config "$CONF" >"$WORK/check0.out" 2>&1; then it_fail "check passed with neither token nor identity"; fi
grep -q "hub.token.*lightbox-agent enroll" "$WORK/check0.out" || it_fail "check does not say to enroll: $(cat "$WORK/check0.out")"

"$AGENT" enroll --config "$CONF" --hub "$HUB_URL" --token "$TOKEN" >"$WORK/enroll.out" 2>&1 ||
  it_fail "agent enroll failed: $(cat "$WORK/enroll.out")"
grep -q "enrolled agent agent-1 of institution hosp-a" "$WORK/enroll.out" || it_fail "enroll output: $(cat "$WORK/enroll.out")"
for f in agent.key agent.crt hub-ca.crt; do [ -s "$ID_DIR/$f" ] || it_fail "missing $ID_DIR/$f"; done
it_eq "$(stat -c %a "$ID_DIR/agent.key")" 600 "mode of agent.key"
openssl verify -CAfile "$CA_DIR/ca.crt" -purpose sslclient "$ID_DIR/agent.crt" >/dev/null ||
  it_fail "agent.crt does not verify against the hub CA as a client certificate"
cmp -s "$ID_DIR/hub-ca.crt" "$CA_DIR/ca.crt" || it_fail "hub-ca.crt is not the hub CA"
SUBJ=$(openssl x509 -in "$ID_DIR/agent.crt" -noout -subject -nameopt RFC2253)
[[ $SUBJ == *"CN=agent-1"* && $SUBJ == *"O=hosp-a"* && $SUBJ == *"OU=hosp-a"* ]] || it_fail "subject: $SUBJ"
openssl x509 -in "$ID_DIR/agent.crt" -noout -ext extendedKeyUsage | grep -q "TLS Web Client Authentication" ||
  it_fail "agent.crt lacks the clientAuth EKU"
[ "$(openssl pkey -in "$ID_DIR/agent.key" -pubout | openssl dgst -sha256 -r)" = \
  "$(openssl x509 -in "$ID_DIR/agent.crt" -pubkey -noout | openssl dgst -sha256 -r)" ] || it_fail "key and certificate differ"
SERIAL1=$(openssl x509 -in "$ID_DIR/agent.crt" -noout -serial)
it_note "enrolled: $SUBJ, $SERIAL1"

"$AGENT" check --config "$CONF" >"$WORK/check1.out" 2>&1 || true
grep -q "^OK identity: .*CN=agent-1.*valid until 20" "$WORK/check1.out" || it_fail "check identity line: $(cat "$WORK/check1.out")"
grep -q "^OK hub credential: the hub accepted the client certificate for agent agent-1" "$WORK/check1.out" ||
  it_fail "check credential line: $(cat "$WORK/check1.out")"

# Uploads over mutual TLS, no bearer token anywhere.
it_corpus "$WORK/corpus" --ct-slices 3
cp -r "$WORK/corpus/." "$WORK/src1/"
N_FILES=$(find "$WORK/src1" -type f | wc -l)
"$AGENT" run --config "$CONF" --once >"$WORK/run1.json" 2>"$WORK/logs/agent-run1.log" || it_fail "agent run --once failed"
UP1=$(lb_json "$WORK/run1.json" '.uploaded + .already_stored')
[ "$UP1" -ge 3 ] || it_fail "uploaded only $UP1 of $N_FILES files over mutual TLS: $(cat "$WORK/run1.json")"
it_eq "$(lb_json "$WORK/run1.json" '.failed')" 0 "failed uploads over mutual TLS"
it_note "uploaded $UP1 objects with the client certificate"
mtls() {  # mtls METHOD PATH [curl args] — prints the HTTP code; body in $WORK/body
  local method=$1 path=$2
  shift 2
  curl -sS --cacert "$CA" --cert "$ID_DIR/agent.crt" --key "$ID_DIR/agent.key" -o "$WORK/body" \
    -w '%{http_code}' -X "$method" "$@" "$HUB_URL$path"
}
it_eq "$(mtls GET /api/v1/studies)" 200 "GET /api/v1/studies with the client certificate only"
[ "$(jq '.studies | length' "$WORK/body")" -ge 1 ] || it_fail "no study visible to agent-1: $(cat "$WORK/body")"
it_eq "$(jq -r '.studies[0].institution' "$WORK/body")" hosp-a "institution of agent-1's study"
it_eq "$(it_api "" GET /api/v1/studies)" 401 "the same request without certificate or token"

# Renewal: a new key and certificate, swapped in; uploads continue with it.
KEY_SUM1=$(sha256sum <"$ID_DIR/agent.key")
"$AGENT" renew --config "$CONF" >"$WORK/renew.out" 2>&1 || it_fail "agent renew failed: $(cat "$WORK/renew.out")"
SERIAL2=$(openssl x509 -in "$ID_DIR/agent.crt" -noout -serial)
[ "$SERIAL2" != "$SERIAL1" ] || it_fail "renew kept the same certificate"
[ "$(sha256sum <"$ID_DIR/agent.key")" != "$KEY_SUM1" ] || it_fail "renew kept the same key"
it_eq "$(stat -c %a "$ID_DIR/agent.key")" 600 "mode of the renewed agent.key"
openssl verify -CAfile "$CA_DIR/ca.crt" "$ID_DIR/agent.crt" >/dev/null || it_fail "renewed certificate does not verify"
it_note "renewed: $SERIAL1 -> $SERIAL2"
it_admin list-certs >"$WORK/certs.json"
it_eq "$(jq '[.certificates[] | select(.agent == "agent-1")] | length' "$WORK/certs.json")" 2 "certificates of agent-1 after renewal"
"$LIGHTBOX_CORPUS" "$WORK/corpus2" --ct-slices 2 --seed 7 >/dev/null 2>&1 || it_fail "second corpus"
cp -r "$WORK/corpus2/." "$WORK/src1/"
"$AGENT" run --config "$CONF" --once >"$WORK/run2.json" 2>"$WORK/logs/agent-run2.log" || it_fail "run after renewal failed"
it_eq "$(lb_json "$WORK/run2.json" '.failed')" 0 "failed uploads after renewal"
[ "$(lb_json "$WORK/run2.json" '.uploaded + .already_stored')" -ge 1 ] || it_fail "nothing uploaded after renewal: $(cat "$WORK/run2.json")"
it_eq "$(mtls GET /api/v1/studies)" 200 "GET with the renewed certificate"

# Renewal inside `run`: give agent-1 a certificate (from the hub CA, registered in index.db) that
# started 10 days ago and ends tomorrow, so less than a third of its life is left; `run` must
# renew it on its own at start-up.
OLD=$WORK/oldcert
mkdir -p "$OLD/new"
: >"$OLD/index.txt"
echo 1000 >"$OLD/serial"
cat >"$OLD/ca.cnf" <<EOF
[ca]
default_ca = c
[c]
database = $OLD/index.txt
new_certs_dir = $OLD/new
serial = $OLD/serial
policy = p
default_md = sha256
[p]
commonName = supplied
organizationName = optional
[ext]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OLD/agent.key" -out "$OLD/agent.csr" \
  -subj "/O=hosp-a/CN=agent-1" 2>/dev/null
openssl ca -batch -config "$OLD/ca.cnf" -cert "$CA_DIR/ca.crt" -keyfile "$CA_DIR/ca.key" -in "$OLD/agent.csr" \
  -out "$OLD/agent.crt" -notext -extensions ext -startdate "$(date -u -d '10 days ago' +%Y%m%d%H%M%SZ)" \
  -enddate "$(date -u -d '1 day' +%Y%m%d%H%M%SZ)" >/dev/null 2>&1 || it_fail "openssl ca could not make the aged certificate"
FP_OLD=$(openssl x509 -in "$OLD/agent.crt" -outform DER | sha256sum | cut -d' ' -f1)
sqlite3 "$HUB_DATA/index.db" "INSERT INTO agent_certs(serial,fingerprint,agent,institution,not_before,not_after,issued_at)
  VALUES('aged-1000','$FP_OLD','agent-1','hosp-a',strftime('%s','now')-864000,strftime('%s','now')+86400,'test')"
install -m 600 "$OLD/agent.key" "$ID_DIR/agent.key"
install -m 644 "$OLD/agent.crt" "$ID_DIR/agent.crt"
"$AGENT" check --config "$CONF" 2>&1 | grep -q "^OK identity: .*(renewal due)" || it_fail "check does not show the renewal as due"
IT_PIDS+=("$WORK/run/agent.pid")
lb_start lightbox-agent "$WORK/run/agent.pid" "$WORK/logs/agent-run-renew.log" "$AGENT" run --config "$CONF"
seen_beat() { [ "$(mtls GET /api/v1/agents/agent-1)" = 200 ] && [ "$(jq -r '.last_seen // ""' "$WORK/body")" != "" ]; }
for _ in $(seq 1 100); do  # until run renewed the certificate and its first heartbeat arrived
  grep -q '"client certificate renewed"' "$WORK/logs/agent-run-renew.log" 2>/dev/null && seen_beat && break
  sleep 0.2
done
lb_stop "$WORK/run/agent.pid" TERM 20 || true
grep -q '"client certificate renewed"' "$WORK/logs/agent-run-renew.log" || it_fail "run did not renew the aged certificate"
FP_NEW=$(openssl x509 -in "$ID_DIR/agent.crt" -outform DER | sha256sum | cut -d' ' -f1)
[ "$FP_NEW" != "$FP_OLD" ] || it_fail "agent.crt is still the aged certificate"
openssl x509 -in "$ID_DIR/agent.crt" -noout -checkend $((300 * 86400)) >/dev/null || it_fail "the renewed certificate is short-lived"
it_eq "$(mtls GET /api/v1/studies)" 200 "GET with the certificate run renewed"
# The heartbeat rides on the same identity: the hub has a beat from agent-1 and none was refused.
seen_beat || it_fail "no heartbeat from agent-1 reached the hub: $(cat "$WORK/body")"
grep -q '"heartbeat refused"' "$WORK/logs/agent-run-renew.log" && it_fail "a heartbeat was refused over mutual TLS"
it_note "run renewed the aged certificate at start-up"

# The token is single use.
mkdir -p "$WORK/src2"
CONF2=$(it_agent_config agent-2 "$WORK/src2")
sed -i 's/, "token": "[^"]*"//' "$CONF2"
if "$AGENT" enroll --config "$CONF2" --hub "$HUB_URL" --token "$TOKEN" >"$WORK/reuse.out" 2>&1; then
  it_fail "a used token enrolled a second agent"
fi
grep -q "already used (by agent agent-1" "$WORK/reuse.out" || it_fail "reuse refusal does not say why: $(cat "$WORK/reuse.out")"
[ ! -e "$WORK/agent-agent-2/identity/agent.crt" ] || it_fail "a refused enrollment left a certificate behind"
CSR=$(openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=x 2>/dev/null)
enroll_post() {  # enroll_post TOKEN CSR — prints the HTTP code of POST /api/v1/enroll
  jq -n --arg t "$1" --arg c "$2" '{token: $t, agent: "agent-2", csr: $c}' >"$WORK/enroll-req.json"
  it_api "" POST /api/v1/enroll -H "Content-Type: application/json" --data-binary "@$WORK/enroll-req.json"
}
it_eq "$(enroll_post "$TOKEN" "$CSR")" 401 "POST /api/v1/enroll with a used token"
it_eq "$(jq -r '.error + " " + .field' "$WORK/body")" "unauthorized token" "error of the used token"

# An expired token: its expiry is moved into the past in the index (the hub reads it per request).
TOKEN3=$(it_admin enroll-token --institution hosp-a --ttl-hours 1)
sqlite3 "$HUB_DATA/index.db" "UPDATE enroll_tokens SET expires_at = strftime('%s','now') - 60
  WHERE token_sha256 = '$(printf %s "$TOKEN3" | sha256sum | cut -d' ' -f1)'"
it_eq "$(enroll_post "$TOKEN3" "$CSR")" 401 "POST /api/v1/enroll with an expired token"
grep -q "expired at" "$WORK/body" || it_fail "expired refusal does not say so: $(cat "$WORK/body")"
if "$AGENT" enroll --config "$CONF2" --hub "$HUB_URL" --token "$TOKEN3" >"$WORK/expired.out" 2>&1; then
  it_fail "an expired token enrolled"
fi
grep -q "enrollment token expired at" "$WORK/expired.out" || it_fail "agent enroll on an expired token: $(cat "$WORK/expired.out")"
it_eq "$(enroll_post "$(it_admin enroll-token --institution hosp-a)" "not a csr")" 400 "POST /api/v1/enroll with a bad CSR"
it_eq "$(jq -r .field "$WORK/body")" csr "field of the bad-CSR 400"

# Revocation: clear 403, check FAILs, uploads stop with that message, renewal refused.
it_admin revoke-agent --agent agent-1 >/dev/null
it_eq "$(mtls GET /api/v1/studies)" 403 "GET with a revoked agent's certificate"
it_eq "$(jq -r .error "$WORK/body")" revoked "error of the revoked certificate"
grep -q "agent agent-1 was revoked" "$WORK/body" || it_fail "403 body does not name the agent: $(cat "$WORK/body")"
jq -R 'fromjson? | select(.msg == "request" and .status == 403 and (.client_cert_serial // "") != "")' \
  "$WORK/logs/hub.log" | grep -q . || it_fail "the hub's request log does not name the client certificate's serial"
it_admin list-certs >"$WORK/certs2.json"
it_eq "$(jq '[.certificates[] | select(.agent == "agent-1" and .revoked and .revoked_at != null)] | length' "$WORK/certs2.json")" 4 \
  "revoked certificates of agent-1 (enrolled, renewed, aged, renewed by run)"
if "$AGENT" check --config "$CONF" >"$WORK/check2.out" 2>&1; then it_fail "check passed for a revoked agent"; fi
grep -q "^FAIL hub credential: REVOKED: agent agent-1 was revoked" "$WORK/check2.out" ||
  it_fail "check does not report the revocation: $(cat "$WORK/check2.out")"
"$LIGHTBOX_CORPUS" "$WORK/corpus3" --ct-slices 1 --seed 11 >/dev/null 2>&1 || it_fail "third corpus"
cp -r "$WORK/corpus3/." "$WORK/src1/"
rc=0
"$AGENT" run --config "$CONF" --once >"$WORK/run3.json" 2>"$WORK/logs/agent-run3.log" || rc=$?
it_eq "$rc" 1 "exit code of run --once when the hub refuses the credential"
[ "$(lb_json "$WORK/run3.json" '.uploaded')" = 0 ] || it_fail "a revoked agent uploaded: $(cat "$WORK/run3.json")"
[ "$(lb_json "$WORK/run3.json" '.refused')" -ge 1 ] || it_fail "uploads of a revoked agent were not refused: $(cat "$WORK/run3.json")"
it_eq "$(lb_json "$WORK/run3.json" '.failed')" 0 "items failed by the refusal (they stay queued)"
grep -q "agent agent-1 was revoked" "$WORK/logs/agent-run3.log" || it_fail "agent log does not say it was revoked"
it_status "$CONF" "$WORK/status.json"
[ "$(jq '[.. | strings | select(test("agent agent-1 was revoked"))] | length' "$WORK/status.json")" -ge 1 ] ||
  it_fail "status does not show the revocation"
[ "$(jq '.queue.verified' "$WORK/status.json")" -ge 1 ] || it_fail "refused items are not waiting in the queue"
it_eq "$(jq '.queue.failed' "$WORK/status.json")" 0 "failed items after the refusal"
if "$AGENT" renew --config "$CONF" >"$WORK/renew2.out" 2>&1; then it_fail "a revoked agent renewed"; fi
grep -q "this agent was revoked" "$WORK/renew2.out" || it_fail "renew refusal: $(cat "$WORK/renew2.out")"

# A client certificate from some other CA never gets past the handshake.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=agent-1 \
  -keyout "$WORK/rogue.key" -out "$WORK/rogue.crt" 2>/dev/null
code=$(curl -sS --cacert "$CA" --cert "$WORK/rogue.crt" --key "$WORK/rogue.key" -o /dev/null -w '%{http_code}' \
  "$HUB_URL/api/v1/studies" 2>/dev/null || true)
[ "$code" = 000 ] || it_fail "a self-signed client certificate got HTTP $code"
it_note "self-signed client certificate: handshake refused"
it_eq "$(it_api "" GET /healthz)" 200 "hub still serves after all that"

# `hub check` names the key of a configured CA whose key does not match.
grep -v '^ *//' "$HUB_CONFIG" | jq --arg c "$CA_DIR/ca.crt" --arg k "$WORK/rogue.key" \
  '. + {enroll: {ca_cert_file: $c, ca_key_file: $k}}' >"$WORK/hub-badca.jsonc"
if "$HUB" check --config "$WORK/hub-badca.jsonc" >"$WORK/hubcheck.out" 2>&1; then it_fail "hub check accepted a mismatched CA key"; fi
grep -q "^enroll.ca_key_file: .*does not match" "$WORK/hubcheck.out" || it_fail "hub check output: $(cat "$WORK/hubcheck.out")"
"$HUB" check --config "$HUB_CONFIG" >/dev/null 2>&1 || it_fail "hub check fails on the working config"

# Re-admitted with a new token: what waited in the queue goes up without any requeue.
waiting=$(jq '.queue.verified' "$WORK/status.json")
TOKEN4=$(it_admin enroll-token --institution hosp-a --agent agent-1) || it_fail "enroll-token for re-admission"
"$AGENT" enroll --config "$CONF" --hub "$HUB_URL" --token "$TOKEN4" >"$WORK/enroll4.out" 2>&1 ||
  it_fail "re-enrolling a revoked agent failed: $(cat "$WORK/enroll4.out")"
"$AGENT" run --config "$CONF" --once >"$WORK/run4.json" 2>"$WORK/logs/agent-run4.log" ||
  it_fail "run after re-enrolling failed: $(cat "$WORK/run4.json")"
it_eq "$(( $(lb_json "$WORK/run4.json" '.uploaded') + $(lb_json "$WORK/run4.json" '.already_stored') ))" "$waiting" \
  "items delivered after re-enrolling (those that waited)"
it_status "$CONF" "$WORK/status4.json"
it_eq "$(jq '.queue.verified + .queue.failed' "$WORK/status4.json")" 0 "items still waiting or failed"

it_pass "enroll → mTLS upload without token → renew → token reuse/expiry refused → revoke → 403 revoked → re-enroll delivers the queue"
