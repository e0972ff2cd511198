#!/usr/bin/env bash
# sources_sftp — the `sftp` source against a real OpenSSH sshd on 127.0.0.1 (own host keys and
# config in the test's temp dir, internal-sftp), through the real agent into the real hub:
#   * password login (keep), ed25519 key login (move into a folder inside the source path) and
#     ECDSA key login with only the ECDSA host key pinned (delete) each collect exactly the
#     source's files, byte-identical at the hub, once (a second run collects nothing);
#   * delete/move happen on the server, after the receipt; excluded files stay untouched;
#   * a changed host key is a `check` FAIL naming the server's SHA256 fingerprint, nothing is
#     collected from that source, and a folder source in the same agent still collects;
#   * a wrong password, an RSA key, an unknown host, a stopped server and a server that never
#     answers are `check` FAILs in plain words (the last within timeout_seconds); an encrypted
#     ed25519 key with its passphrase logs in;
#   * `run` (the service loop) survives an sshd restart: scans fail while it is down, then the
#     session is re-opened and a file added meanwhile is collected.
# Needs root (a local login user `lbsftp` is created when missing) and sshd (Debian package
# openssh-server); skips with 77 without them.
set -euo pipefail

SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
if [ ! -x "$SSHD" ] || ! command -v ssh-keygen >/dev/null 2>&1; then
  echo "SKIP sources_sftp: sshd/ssh-keygen not installed (Debian package openssh-server)"
  exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP sources_sftp: needs root to create the login user lbsftp and run sshd"
  exit 77
fi

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

SFTP_USER=lbsftp
SFTP_PW=lb-$(openssl rand -hex 12)
id "$SFTP_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$SFTP_USER"
echo "$SFTP_USER:$SFTP_PW" | chpasswd
SFTP_HOME=$(getent passwd "$SFTP_USER" | cut -d: -f6)
[ -d "$SFTP_HOME" ] || install -d -o "$SFTP_USER" -g "$SFTP_USER" -m 755 "$SFTP_HOME"
# This run's server-side folder (relative to the login folder for the key sources).
REL_ROOT=lb-it-$$-$RANDOM
REMOTE=$SFTP_HOME/$REL_ROOT
install -d -o "$SFTP_USER" -g "$SFTP_USER" "$REMOTE"

sftp_cleanup() { rm -rf "$REMOTE"; }
trap 'rc=$?; set +e; sftp_cleanup; (exit $rc); it_cleanup' EXIT  # set +e: keep going to it_cleanup on failure

# --- sshd with its own host keys, config and authorized keys.
S=$WORK/ssh
mkdir -p "$S" && chmod 700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_ed25519"
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$S/host_ecdsa"
ssh-keygen -q -t ed25519 -N '' -C lb-it -f "$S/client_ed25519"
ssh-keygen -q -t ecdsa -b 256 -N '' -C lb-it -f "$S/client_ecdsa"
ssh-keygen -q -t rsa -b 2048 -N '' -C lb-it -f "$S/client_rsa"
ssh-keygen -q -t ed25519 -N 'pass phrase 1' -C lb-it -f "$S/client_ed25519_pp"
ssh-keygen -q -t ed25519 -N '' -f "$S/impostor_ed25519"  # a key the server does not have
cat "$S/client_ed25519.pub" "$S/client_ed25519_pp.pub" "$S/client_ecdsa.pub" "$S/client_rsa.pub" >"$S/authorized_keys"
chmod 644 "$S/authorized_keys"
chmod 755 "$WORK" "$S"  # sshd reads authorized_keys as the user
SSH_PORT=$(lb_free_port)
mkdir -p /run/sshd && chmod 755 /run/sshd  # privilege separation folder; sshd refuses to start without it
cat >"$S/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $S/host_ed25519
HostKey $S/host_ecdsa
PidFile none
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $S/authorized_keys
StrictModes no
PermitRootLogin no
UsePAM yes
AllowUsers $SFTP_USER
Subsystem sftp internal-sftp
LogLevel VERBOSE
CONF
"$SSHD" -t -f "$S/sshd_config" || it_fail "sshd rejects the test config"
SSHD_PID=$WORK/run/sshd.pid
IT_PIDS+=("$SSHD_PID")
start_sshd() {
  lb_start sshd "$SSHD_PID" "$WORK/logs/sshd-stdio.log" "$SSHD" -D -f "$S/sshd_config" -E "$WORK/logs/sshd.log"
  lb_wait_port "$SSH_PORT" 20 || it_fail "sshd did not listen on 127.0.0.1:$SSH_PORT"
}
start_sshd
it_note "sshd on 127.0.0.1:$SSH_PORT"

kh_line() { echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$1")"; }
kh_line "$S/host_ed25519.pub" >"$S/known_hosts"
kh_line "$S/host_ecdsa.pub" >>"$S/known_hosts"
kh_line "$S/host_ecdsa.pub" >"$S/known_hosts_ecdsa"
kh_line "$S/impostor_ed25519.pub" >"$S/known_hosts_wrong"
echo "[127.0.0.1]:1 $(cut -d' ' -f1,2 "$S/host_ed25519.pub")" >"$S/known_hosts_other"  # another port only
SERVER_FP=$(ssh-keygen -lf "$S/host_ed25519.pub" -E sha256 | awk '{print $2}')
WRONG_FP=$(ssh-keygen -lf "$S/impostor_ed25519.pub" -E sha256 | awk '{print $2}')

# --- server content: three sets of DICOM files (with subfolders) plus an excluded file each.
it_corpus "$WORK/corpus" --ct-slices 6 --rows 16 --cols 16
mapfile -t ALL_FILES < <(cd "$WORK/corpus" && find . -type f | sed 's#^\./##' | sort)
# Files the agent must quarantine (deliberately broken) stay on the server; the rest travel.
mapfile -t REJECTED < <(jq -r '.expected_rejected[].file' "$WORK/corpus.summary.json" | sort)
mapfile -t CORPUS_FILES < <(printf '%s\n' "${ALL_FILES[@]}" | grep -vxF -f <(printf '%s\n' "${REJECTED[@]}" "-none-"))
[ "${#CORPUS_FILES[@]}" -ge 3 ] || it_fail "corpus too small"
fill() {  # fill DIR — the corpus under DIR (owned by the login user) + an excluded .part file
  mkdir -p "$1"
  cp -r "$WORK/corpus/." "$1/"
  echo "still being written" >"$1/upload.part"
  chown -R "$SFTP_USER:" "$1"
}
fill "$REMOTE/a"
fill "$REMOTE/b"
fill "$REMOTE/c"
fill "$REMOTE/d"
fill "$REMOTE/e"
N=${#ALL_FILES[@]}        # files per source folder (plus one excluded upload.part)
D=${#CORPUS_FILES[@]}     # of which the hub must receive
Q=$((N - D))              # and the agent quarantines
LEFT_AFTER_DELETE=$(printf '%s\n' "${REJECTED[@]}" upload.part | sort | tr '\n' ' ')
it_note "$N files per source folder: $D to deliver, $Q to quarantine"

it_start_hub
export LIGHTBOX_AGENT_TOKEN
LIGHTBOX_AGENT_TOKEN=$(it_new_agent hosp-sftp agent-sftp)

# write_config NAME SOURCES_JSON — an agent config with the given sources.
write_config() {
  cat >"$WORK/$1.jsonc" <<EOF
{
  "agent": {"id": "agent-sftp", "data_dir": "$WORK/data-$1"},
  "hub": {"url": "$HUB_URL", "ca_file": "$CA", "token": "\${LIGHTBOX_AGENT_TOKEN}"},
  "upload": {"concurrency": 2, "retry_initial_seconds": 1, "retry_max_seconds": 5},
  "sources": [ $2 ],
  "log": {"level": "info", "file": ""}
}
EOF
  echo "$WORK/$1.jsonc"
}
# sftp_source NAME AUTH_JSON KNOWN_HOSTS PATH AFTER [MOVE_TO]
sftp_source() {
  local move=""
  [ -n "${6:-}" ] && move=", \"move_to\": \"$6\""
  echo "{\"name\": \"$1\", \"kind\": \"sftp\", \"host\": \"127.0.0.1\", \"port\": $SSH_PORT,
         \"username\": \"$SFTP_USER\", $2, \"known_hosts\": \"$3\", \"timeout_seconds\": 10,
         \"path\": \"$4\", \"recursive\": true, \"include\": [\"*\"], \"exclude\": [\"*.part\"],
         \"stable_seconds\": 1, \"poll_seconds\": 1, \"after_upload\": \"$5\"$move}"
}

# run_once CONFIG OUT — run --once; fails the test on a non-zero exit.
run_once() {
  "$AGENT" run --once --config "$1" </dev/null >"$2" 2>>"$WORK/logs/agent.log" || it_fail "run --once ($1) failed"
}
# assert_at_hub — every corpus file is at the hub, byte for byte.
assert_at_hub() {
  local f sha code
  for f in "${CORPUS_FILES[@]}"; do
    sha=$(it_sha "$WORK/corpus/$f")
    code=$(it_api "$LIGHTBOX_AGENT_TOKEN" GET "/api/v1/objects/$sha")
    [ "$code" = 200 ] || it_fail "$f ($sha) not at the hub: HTTP $code"
    cmp -s "$WORK/body" "$WORK/corpus/$f" || it_fail "$f differs at the hub"
  done
  it_note "all $D deliverable files are at the hub, byte-identical"
}
# source_items NAME STATE — queue items of one source in one state (the run summary also counts
# the agent's own collection-task records, so count per source in queue.db, read-only).
source_items() {
  sqlite3 -readonly "$WORK/data-$1/queue.db" \
    "SELECT count(*) FROM items WHERE source = '$1' AND ('$2' = 'all' OR state = '$2')"
}
# assert_queue NAME — exactly the source's files are in the queue: delivered ones done, broken ones quarantined.
assert_queue() {
  it_eq "$(source_items "$1" all)" "$N" "$1: queue items"
  it_eq "$(source_items "$1" done)" "$D" "$1: items done (receipt from the hub)"
  it_eq "$(source_items "$1" quarantined)" "$Q" "$1: items quarantined"
}
# expect_check_fail CONFIG OUT — `check` must exit 1.
expect_check_fail() {
  local rc=0
  "$AGENT" check --config "$1" >"$2" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$2"; it_fail "check ($1): expected exit 1, got $rc"; }
}

# --- A: password login (secret from the environment), keep; the excluded file is left alone.
export LB_SFTP_PW=$SFTP_PW
SA=$(sftp_source pw "\"password\": \"\${LB_SFTP_PW}\"" "$S/known_hosts" "$REMOTE/a" keep)
CA_CFG=$(write_config pw "$SA")
"$AGENT" check --config "$CA_CFG" >"$WORK/check-pw.out" 2>&1 || { cat "$WORK/check-pw.out"; it_fail "check (password) failed"; }
grep -q "^OK source pw: .*logged in with password" "$WORK/check-pw.out" || { cat "$WORK/check-pw.out"; it_fail "check (password) has no OK line"; }
run_once "$CA_CFG" "$WORK/run-pw-1.json"
it_eq "$(jq .collected "$WORK/run-pw-1.json")" "$N" "password login: files collected"
assert_queue pw
assert_at_hub
run_once "$CA_CFG" "$WORK/run-pw-2.json"
it_eq "$(jq .collected "$WORK/run-pw-2.json")" 0 "password login: files collected by a second run"
it_eq "$(find "$REMOTE/a" -type f | wc -l)" "$((N + 1))" "password login (keep): files still on the server"
grep -q "Accepted password for $SFTP_USER" "$WORK/logs/sshd.log" || it_fail "sshd did not log a password login"

# --- B: ed25519 key, path relative to the login folder, move into b/sent (inside the path).
SB=$(sftp_source ed "\"private_key_file\": \"$S/client_ed25519\"" "$S/known_hosts" "$REL_ROOT/b" move "$REL_ROOT/b/sent")
CB=$(write_config ed "$SB")
"$AGENT" check --config "$CB" >"$WORK/check-ed.out" 2>&1 || { cat "$WORK/check-ed.out"; it_fail "check (ed25519) failed"; }
run_once "$CB" "$WORK/run-ed-1.json"
it_eq "$(jq .collected "$WORK/run-ed-1.json")" "$N" "ed25519 key: files collected"
assert_queue ed
assert_at_hub
for f in "${CORPUS_FILES[@]}"; do
  [ ! -e "$REMOTE/b/$f" ] || it_fail "ed25519 (move): $f is still in place"
  cmp -s "$REMOTE/b/sent/$f" "$WORK/corpus/$f" || it_fail "ed25519 (move): sent/$f missing or different"
done
for f in "${REJECTED[@]}" upload.part; do
  [ -e "$REMOTE/b/$f" ] || it_fail "ed25519 (move): $f (excluded or quarantined) was moved"
done
it_note "ed25519 key (move): every delivered file moved to b/sent, excluded and quarantined files stayed"
run_once "$CB" "$WORK/run-ed-2.json"
it_eq "$(jq .collected "$WORK/run-ed-2.json")" 0 "ed25519 key: files collected by a second run (b/sent is not listed)"
grep -q "Accepted publickey for $SFTP_USER .*ED25519" "$WORK/logs/sshd.log" || it_fail "sshd did not log an ed25519 login"

# --- C: ECDSA key, only the ECDSA host key pinned (the server must present that one), delete.
SC=$(sftp_source ec "\"private_key_file\": \"$S/client_ecdsa\"" "$S/known_hosts_ecdsa" "$REMOTE/c" delete)
CC=$(write_config ec "$SC")
"$AGENT" check --config "$CC" >"$WORK/check-ec.out" 2>&1 || { cat "$WORK/check-ec.out"; it_fail "check (ECDSA) failed"; }
run_once "$CC" "$WORK/run-ec-1.json"
it_eq "$(jq .collected "$WORK/run-ec-1.json")" "$N" "ECDSA key: files collected"
assert_queue ec
it_eq "$(cd "$REMOTE/c" && find . -type f | sed 's#^\./##' | sort | tr '\n' ' ')" "$LEFT_AFTER_DELETE" "ECDSA key (delete): files left on the server"
grep -q "Accepted publickey for $SFTP_USER .*ECDSA" "$WORK/logs/sshd.log" || it_fail "sshd did not log an ECDSA login"

# --- D: a changed host key: check FAILs naming both fingerprints; run collects nothing from
#        that source while a folder source in the same agent still collects.
mkdir -p "$WORK/local"
cp "$WORK/corpus/${CORPUS_FILES[0]}" "$WORK/local/one.dcm"
SD=$(sftp_source wrongkey "\"private_key_file\": \"$S/client_ed25519\"" "$S/known_hosts_wrong" "$REMOTE/d" delete)
SF="{\"name\": \"local\", \"kind\": \"folder\", \"path\": \"$WORK/local\", \"stable_seconds\": 1, \"after_upload\": \"keep\"}"
CD=$(write_config wrongkey "$SD, $SF")
expect_check_fail "$CD" "$WORK/check-wrong.out"
grep -qF "FAIL source wrongkey: host key for 127.0.0.1:$SSH_PORT changed: server offers $SERVER_FP, known_hosts has $WRONG_FP" \
  "$WORK/check-wrong.out" || { cat "$WORK/check-wrong.out"; it_fail "the changed host key is not reported with its fingerprints"; }
grep -q "^OK source local" "$WORK/check-wrong.out" || { cat "$WORK/check-wrong.out"; it_fail "the folder source is not OK"; }
it_note "changed host key: $(grep '^FAIL source wrongkey' "$WORK/check-wrong.out")"
run_once "$CD" "$WORK/run-wrong.json"
it_eq "$(jq .collected "$WORK/run-wrong.json")" 1 "changed host key: files collected (the folder source's one)"
it_eq "$(find "$REMOTE/d" -type f | wc -l)" "$((N + 1))" "changed host key: files untouched on the server"
it_eq "$(source_items wrongkey all)" 0 "changed host key: queue items from that source"
it_status "$CD" "$WORK/status-wrong.json"
jq -e --arg fp "$SERVER_FP" '.sources[] | select(.name == "wrongkey") | .last_error | contains($fp)' \
  "$WORK/status-wrong.json" >/dev/null || { cat "$WORK/status-wrong.json"; it_fail "status does not show the host key error"; }
it_note "status shows the host key error as the source's last_error"

# --- E: a wrong password, F: an RSA key — FAIL lines in plain words.
SE=$(sftp_source badpw "\"password\": \"not-the-password\"" "$S/known_hosts" "$REMOTE/a" keep)
CE=$(write_config badpw "$SE")
expect_check_fail "$CE" "$WORK/check-badpw.out"
grep -qF "FAIL source badpw: password rejected by sftp://$SFTP_USER@127.0.0.1:$SSH_PORT" "$WORK/check-badpw.out" ||
  { cat "$WORK/check-badpw.out"; it_fail "a wrong password is not reported in plain words"; }
it_note "wrong password: $(grep '^FAIL source badpw' "$WORK/check-badpw.out")"

SR=$(sftp_source rsa "\"private_key_file\": \"$S/client_rsa\"" "$S/known_hosts" "$REMOTE/a" keep)
CR=$(write_config rsa "$SR")
expect_check_fail "$CR" "$WORK/check-rsa.out"
grep -qF "FAIL source rsa: RSA keys need rsa-sha2 signatures" "$WORK/check-rsa.out" ||
  { cat "$WORK/check-rsa.out"; it_fail "an RSA key is not reported clearly"; }
it_note "RSA key: $(grep '^FAIL source rsa' "$WORK/check-rsa.out")"

# --- H: an unknown host (known_hosts pins only another port) and an encrypted ed25519 key.
SU=$(sftp_source unknown "\"private_key_file\": \"$S/client_ed25519\"" "$S/known_hosts_other" "$REMOTE/a" keep)
expect_check_fail "$(write_config unknown "$SU")" "$WORK/check-unknown.out"
grep -qF "FAIL source unknown: host key for 127.0.0.1:$SSH_PORT is unknown: server offers SHA256:" "$WORK/check-unknown.out" ||
  { cat "$WORK/check-unknown.out"; it_fail "an unknown host is not reported with the offered fingerprint"; }
it_note "unknown host: $(grep '^FAIL source unknown' "$WORK/check-unknown.out")"
kh_line "$S/client_rsa.pub" >"$S/known_hosts_rsa"  # an RSA host key only (this server has none)
SK=$(sftp_source rsahost "\"private_key_file\": \"$S/client_ed25519\"" "$S/known_hosts_rsa" "$REMOTE/a" keep)
expect_check_fail "$(write_config rsahost "$SK")" "$WORK/check-rsahost.out"
grep -qF "FAIL source rsahost: the server at 127.0.0.1:$SSH_PORT offers none of the host key types pinned in $S/known_hosts_rsa (ssh-rsa); RSA host keys need rsa-sha2" \
  "$WORK/check-rsahost.out" || { cat "$WORK/check-rsahost.out"; it_fail "a pinned RSA host key is not explained"; }
it_note "RSA host key pinned: $(grep '^FAIL source rsahost' "$WORK/check-rsahost.out" | cut -c1-120)..."
export LB_SFTP_PASSPHRASE='pass phrase 1'
SP=$(sftp_source pp "\"private_key_file\": \"$S/client_ed25519_pp\", \"passphrase\": \"\${LB_SFTP_PASSPHRASE}\"" "$S/known_hosts" "$REMOTE/a" keep)
"$AGENT" check --config "$(write_config pp "$SP")" >"$WORK/check-pp.out" 2>&1 ||
  { cat "$WORK/check-pp.out"; it_fail "check with a passphrase-protected ed25519 key failed"; }
it_note "encrypted ed25519 key: $(grep '^OK source pp' "$WORK/check-pp.out")"

# --- I: the service loop survives an sshd restart: the session is re-opened and new files come in.
SL=$(sftp_source loop "\"password\": \"\${LB_SFTP_PW}\"" "$S/known_hosts" "$REMOTE/e" keep)
CL=$(write_config loop "$SL")
LOOP_PID=$WORK/run/agent-loop.pid
IT_PIDS+=("$LOOP_PID")
lb_start lightbox-agent "$LOOP_PID" "$WORK/logs/agent-loop.log" "$AGENT" run --config "$CL"
wait_done() {  # wait_done COUNT SECONDS — until the loop source has COUNT items done
  local i
  for i in $(seq $(( $2 * 10 ))); do
    [ "$(source_items loop done 2>/dev/null || echo 0)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_done "$D" 60 || it_fail "service loop: the first files did not arrive"
# Stopping the listener leaves the per-connection processes running: end them first (by pid,
# children of our sshd only) so the agent's open sessions really break.
for c in $(ps -o pid= --ppid "$(cat "$SSHD_PID")"); do kill -TERM "$c" 2>/dev/null || true; done
lb_stop "$SSHD_PID" TERM 10
sleep 2.5  # a few polls fail while the server is down
start_sshd
pdf=$(printf '%s\n' "${CORPUS_FILES[@]}" | grep '\.pdf$' | head -1)
{ cat "$WORK/corpus/$pdf"; echo "% added after the restart"; } >"$WORK/late.pdf"
cp "$WORK/late.pdf" "$REMOTE/e/late.pdf" && chown "$SFTP_USER:" "$REMOTE/e/late.pdf"
wait_done "$((D + 1))" 60 || it_fail "service loop: a file added after the sshd restart did not arrive"
lb_stop "$LOOP_PID" TERM 20
it_eq "$LB_STOP_RC" 0 "service loop: exit code after SIGTERM"
code=$(it_api "$LIGHTBOX_AGENT_TOKEN" GET "/api/v1/objects/$(it_sha "$WORK/late.pdf")")
[ "$code" = 200 ] && cmp -s "$WORK/body" "$WORK/late.pdf" || it_fail "service loop: late.pdf not at the hub byte for byte"
grep -q '"msg":"scan failed".*"source":"loop"' "$WORK/logs/agent-loop.log" || it_fail "service loop: no scan failed while sshd was down"
it_note "service loop: scans failed while sshd was down, then the session was re-opened and the new file collected"

# --- J: a server that accepts TCP but never speaks: check gives up after timeout_seconds.
PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
  it_note "silent server: skipped (no python3 for the silent listener)"
else
  SILENT_PORT=$(lb_free_port)
  SILENT_PID=$WORK/run/silent.pid
  IT_PIDS+=("$SILENT_PID")
  # Accepts connections and never writes a byte (no SSH banner).
  printf '%s\n' 'import socket, sys' 's = socket.socket()' \
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)' "s.bind(('127.0.0.1', int(sys.argv[1])))" \
    's.listen(4)' 'held = []' 'while True:' '    held.append(s.accept())' >"$WORK/silent.py"
  lb_start silent "$SILENT_PID" "$WORK/logs/silent.log" "$PY" "$WORK/silent.py" "$SILENT_PORT"
  lb_wait_port "$SILENT_PORT" 10 || it_fail "the silent listener did not start"
  SS=$(sftp_source silent "\"password\": \"x\"" "$S/known_hosts" "$REMOTE/a" keep | sed -e "s/\"port\": $SSH_PORT/\"port\": $SILENT_PORT/" -e 's/"timeout_seconds": 10/"timeout_seconds": 2/')
  start=$(date +%s)
  expect_check_fail "$(write_config silent "$SS")" "$WORK/check-silent.out"
  [ $(( $(date +%s) - start )) -le 10 ] || it_fail "check hung on a silent server"
  grep -qF "FAIL source silent: " "$WORK/check-silent.out" || { cat "$WORK/check-silent.out"; it_fail "no FAIL line for a silent server"; }
  it_note "silent server: $(grep '^FAIL source silent' "$WORK/check-silent.out")"
  lb_stop "$SILENT_PID" TERM 5
fi

# --- G: the server is down: check says so in plain words, within the timeout.
lb_stop "$SSHD_PID" TERM 10
start=$(date +%s)
expect_check_fail "$CA_CFG" "$WORK/check-down.out"
grep -qF "FAIL source pw: cannot connect to 127.0.0.1:$SSH_PORT" "$WORK/check-down.out" ||
  { cat "$WORK/check-down.out"; it_fail "a stopped server is not reported as 'cannot connect'"; }
[ $(( $(date +%s) - start )) -le 15 ] || it_fail "check took too long with the server down"
it_note "server down: $(grep '^FAIL source pw' "$WORK/check-down.out")"

it_pass "password, ed25519 and ECDSA logins collect exactly once; the host key is pinned"
