#!/usr/bin/env bash
# sources_ftp — the `ftp` source against a real vsftpd on 127.0.0.1, plain FTP and explicit FTPS
# (certificate from the test's own CA), through the real agent into the real hub:
#   * exactly the source's files arrive at the hub, byte-identical, once (excluded files do not);
#   * while the hub is down, nothing is deleted or moved on the server; after the receipts,
#     after_upload "delete" removed the files and "move" moved them under move_to;
#   * a second `run --once` collects and sends nothing;
#   * a wrong password (and an FTPS certificate from an untrusted CA): `check` prints FAIL in
#     plain words, and a folder source in the same agent still collects.
# Needs vsftpd (Debian package vsftpd) and root (it creates the local FTP user lbftp); else exit 77.
set -euo pipefail
VSFTPD=${VSFTPD:-$(command -v vsftpd || echo /usr/sbin/vsftpd)}
if [ ! -x "$VSFTPD" ]; then echo "SKIP sources_ftp: vsftpd is not installed (apt-get install vsftpd)"; exit 77; fi
if [ "$(id -u)" != 0 ]; then echo "SKIP sources_ftp: needs root to create the local FTP user"; exit 77; fi
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# --- the FTP server (plain source in active mode, FTPS source passive): a local user whose FTP root is inside $WORK --------------------------------
FTP_USER=lbftp
FTP_PASS=lbftp-Secret-1
id "$FTP_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$FTP_USER"
FTP_HOME=$(getent passwd "$FTP_USER" | cut -d: -f6)
install -d -o "$FTP_USER" "$FTP_HOME"  # vsftpd enters the home before local_root
echo "$FTP_USER:$FTP_PASS" | chpasswd
grep -qx /bin/bash /etc/shells || echo /bin/bash >>/etc/shells
chmod 755 "$WORK"
FTP_ROOT=$WORK/ftp
mkdir -p "$FTP_ROOT/outbox/ct/series 1" "$FTP_ROOT/secure/mr" /var/run/vsftpd/empty
FTP_PORT=$(lb_free_port)
PASV_MIN=$(lb_free_port)
[ "$PASV_MIN" -lt 60000 ] || PASV_MIN=$((PASV_MIN - 1000))
cat >"$WORK/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$FTP_PORT
background=NO
seccomp_sandbox=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$FTP_ROOT
anonymous_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=$PASV_MIN
pasv_max_port=$((PASV_MIN + 40))
port_enable=YES
connect_from_port_20=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
xferlog_enable=NO
vsftpd_log_file=$WORK/logs/vsftpd.log
ssl_enable=YES
rsa_cert_file=$WORK/tls/server.crt
rsa_private_key_file=$WORK/tls/server.key
force_local_logins_ssl=NO
force_local_data_ssl=NO
require_ssl_reuse=NO
ssl_ciphers=HIGH
delay_failed_login=0
CONF
FTP_PIDFILE=$WORK/run/vsftpd.pid
IT_PIDS+=("$FTP_PIDFILE")
lb_start vsftpd "$FTP_PIDFILE" "$WORK/logs/vsftpd.out.log" "$VSFTPD" "$WORK/vsftpd.conf"
lb_wait_port "$FTP_PORT" 10 || it_fail "vsftpd did not start"

# --- files: a corpus split over the two FTP folders, plus files that must not be collected -----
it_corpus "$WORK/corpus" --ct-slices 6
mapfile -t CORPUS_FILES < <(find "$WORK/corpus" -type f ! -name 'corrupt_*' | sort)  # all accepted by verify
[ "${#CORPUS_FILES[@]}" -ge 6 ] || it_fail "corpus too small"
plain=() secure=()
i=0
for f in "${CORPUS_FILES[@]}"; do
  if [ $((i % 2)) = 0 ]; then
    d="$FTP_ROOT/outbox/ct/series 1"; [ $((i % 4)) = 0 ] && d="$FTP_ROOT/outbox"
    cp "$f" "$d/img $i.${f##*.}"; plain+=("$d/img $i.${f##*.}")
  else
    cp "$f" "$FTP_ROOT/secure/mr/img$i.${f##*.}"; secure+=("$FTP_ROOT/secure/mr/img$i.${f##*.}")
  fi
  i=$((i + 1))
done
echo "half written" >"$FTP_ROOT/outbox/upload.tmp"   # excluded by pattern
echo "not an image" >"$FTP_ROOT/outbox/ct/notes.txt"  # not included
chown -R "$FTP_USER" "$FTP_ROOT"
declare -A SHA
for f in "${plain[@]}" "${secure[@]}"; do SHA[$f]=$(it_sha "$f"); done
expected=$(( ${#plain[@]} + ${#secure[@]} ))
it_note "$expected files on the FTP server (${#plain[@]} plain, ${#secure[@]} FTPS)"

# --- hub and agent ----------------------------------------------------------------------------
IT_HUB_LOG_LEVEL=debug
# The hub starts late (after the agent has been failing to reach it): keep its port out of the
# ephemeral range, so no outgoing connection (or a self-connect to the closed port) can take it.
eph_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
for _ in $(seq 100); do it_write_hub_config; [ "$HUB_PORT" -lt "$eph_low" ] && break; done
TOKEN=$(it_new_agent hosp-ftp agent-ftp)
export LIGHTBOX_AGENT_TOKEN=$TOKEN LB_FTP_PASS=$FTP_PASS
write_agent_config() {  # FILE PASSWORD_EXPR EXTRA_SOURCE_JSON
  cat >"$1" <<JSON
{
  "agent": {"id": "agent-ftp", "data_dir": "$WORK/agent"},
  "hub": {"url": "$HUB_URL", "ca_file": "$CA", "token": "\${LIGHTBOX_AGENT_TOKEN}"},
  "upload": {"concurrency": 2, "retry_initial_seconds": 1, "retry_max_seconds": 1},
  "sources": [
    {"name": "ftp-plain", "kind": "ftp", "url": "ftp://127.0.0.1:$FTP_PORT/outbox",
     "username": "$FTP_USER", "password": "$2", "passive": false, "recursive": true, "stable_seconds": 1, "poll_seconds": 1,
     "include": ["*.dcm", "*.pdf", "*.jpg"], "exclude": ["*.tmp"], "after_upload": "delete"},
    {"name": "ftps", "kind": "ftp", "url": "ftp://127.0.0.1:$FTP_PORT/secure", "tls": "explicit", "ca_file": "$CA",
     "username": "$FTP_USER", "password": "$2", "passive": true, "stable_seconds": 1, "poll_seconds": 1,
     "after_upload": "move", "move_to": "sent"}$3
  ],
  "log": {"level": "debug", "file": ""}
}
JSON
}
CFG=$WORK/agent.jsonc
write_agent_config "$CFG" '${LB_FTP_PASS}' ""
"$AGENT" check --config "$CFG" >"$WORK/check-hub-down.txt" 2>&1 || true
grep -q "^OK source ftp-plain: logged in to ftp://127.0.0.1:$FTP_PORT as $FTP_USER" "$WORK/check-hub-down.txt" ||
  { cat "$WORK/check-hub-down.txt"; it_fail "check did not log in over FTP"; }
grep -q "^OK source ftps: logged in to ftp://127.0.0.1:$FTP_PORT over TLS" "$WORK/check-hub-down.txt" ||
  { cat "$WORK/check-hub-down.txt"; it_fail "check did not log in over FTPS"; }
it_note "check: $(grep 'source ftps' "$WORK/check-hub-down.txt")"
sed "s#ftp://127.0.0.1:$FTP_PORT/outbox#ftp://127.0.0.1:$FTP_PORT/no-such-folder#" "$CFG" >"$WORK/agent-nofolder.jsonc"
"$AGENT" check --config "$WORK/agent-nofolder.jsonc" >"$WORK/check-nofolder.txt" 2>&1 || true
grep -q "^FAIL source ftp-plain: logged in to ftp://127.0.0.1:$FTP_PORT as $FTP_USER, but folder $FTP_ROOT/no-such-folder does not exist" \
  "$WORK/check-nofolder.txt" || { cat "$WORK/check-nofolder.txt"; it_fail "check did not report the missing folder"; }
it_note "check: $(grep 'source ftp-plain' "$WORK/check-nofolder.txt")"

# Queue items that came from this test's sources (collection-task records travel in the queue too).
src_items() {  # CONFIG_DATA_DIR [STATE]
  sqlite3 -readonly "$1/queue.db" "SELECT count(*) FROM items WHERE source IN ('ftp-plain','ftps')${2:+ AND state = '$2'}" 2>/dev/null || echo 0
}

# 1. hub down: the agent collects into its queue but leaves every file on the server.
AGENT_PIDFILE=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PIDFILE")
lb_start lightbox-agent "$AGENT_PIDFILE" "$WORK/logs/agent-run.log" "$AGENT" run --config "$CFG"
queued=0
for _ in $(seq 200); do
  queued=$(src_items "$WORK/agent")
  [ "$queued" -ge "$expected" ] && break
  sleep 0.1
done
it_eq "$queued" "$expected" "files queued while the hub is down"
sleep 1.5  # upload attempts fail meanwhile; after_upload must not run
for f in "${plain[@]}" "${secure[@]}"; do [ -f "$f" ] || it_fail "removed from the server before any receipt: $f"; done
it_note "all files still on the server while the hub is down"

# 2. hub up: the receipts arrive, then the files are deleted / moved on the server.
it_start_hub
for _ in $(seq 300); do
  [ "$(src_items "$WORK/agent" done)" -ge "$expected" ] && break
  sleep 0.1
done
it_eq "$(src_items "$WORK/agent" done)" "$expected" "items done after the hub came up"
for _ in $(seq 50); do
  left=0
  for f in "${plain[@]}" "${secure[@]}"; do [ -f "$f" ] && left=$((left + 1)); done
  [ "$left" = 0 ] && break
  sleep 0.1
done
lb_stop "$AGENT_PIDFILE" TERM 20
it_eq "$LB_STOP_RC" 0 "agent run exit code"
for f in "${plain[@]}"; do [ ! -e "$f" ] || it_fail "after_upload delete left $f"; done
for f in "${secure[@]}"; do
  moved="$FTP_ROOT/sent/mr/$(basename "$f")"
  [ -f "$moved" ] || it_fail "after_upload move: $moved missing"
  [ ! -e "$f" ] || it_fail "after_upload move left $f"
done
[ -f "$FTP_ROOT/outbox/upload.tmp" ] && [ -f "$FTP_ROOT/outbox/ct/notes.txt" ] || it_fail "a file outside the patterns was touched"
it_note "delete and move happened on the server after the receipts"

# 3. the hub holds exactly these files, byte-identical, each stored once.
for f in "${!SHA[@]}"; do
  sha=${SHA[$f]}
  code=$(it_api "$TOKEN" GET "/api/v1/objects/$sha")
  [ "$code" = 200 ] || it_fail "GET object of $f answered $code"
  [ "$(it_sha "$WORK/body")" = "$sha" ] || it_fail "bytes at the hub differ for $f"
done
it_eq "$(it_hub_puts 201)" "$expected" "objects stored at the hub (201)"
it_eq "$(( $(src_items "$WORK/agent") - $(src_items "$WORK/agent" done) ))" 0 "items not done (failed, quarantined)"

# 4. nothing new: a second --once collects and sends nothing (the moved files are not re-read).
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run2.json" 2>"$WORK/logs/agent-2.log" || it_fail "second run --once failed"
it_eq "$(jq '.collected' "$WORK/run2.json")" 0 "files collected by a second run --once"
it_eq "$(jq '.uploaded + .already_stored' "$WORK/run2.json")" 0 "files sent by a second run --once"

# 5. wrong password: check says so in plain words; a folder source in the same agent still collects.
mkdir -p "$WORK/local"
cp "${CORPUS_FILES[0]}" "$WORK/local/a.dcm"
printf '%%PDF-1.4\n%% lightbox ftp test %s\n' "$(date +%s%N)" >"$WORK/local/b.pdf"
BAD=$WORK/agent-bad.jsonc
write_agent_config "$BAD" "wrong-password" ",
    {\"name\": \"local\", \"kind\": \"folder\", \"path\": \"$WORK/local\", \"stable_seconds\": 1, \"poll_seconds\": 1}"
sed -i "s#\"data_dir\": \"$WORK/agent\"#\"data_dir\": \"$WORK/agent-bad\"#" "$BAD"
# ... and the FTPS source trusts another CA than the one that signed vsftpd's certificate.
LB_TLS_FORCE=1 lb_make_tls "$WORK/other-tls" >/dev/null
sed -i "s#\"tls\": \"explicit\", \"ca_file\": \"$CA\"#\"tls\": \"explicit\", \"ca_file\": \"$WORK/other-tls/ca.crt\"#" "$BAD"
rc=0
"$AGENT" check --config "$BAD" >"$WORK/check-bad.txt" 2>&1 || rc=$?
it_eq "$rc" 1 "check exit code with a wrong FTP password"
grep -q "^FAIL source ftp-plain: password rejected by ftp://127.0.0.1:$FTP_PORT for user $FTP_USER" "$WORK/check-bad.txt" ||
  { cat "$WORK/check-bad.txt"; it_fail "check did not say the password was rejected"; }
grep -q "^OK source local:" "$WORK/check-bad.txt" || { cat "$WORK/check-bad.txt"; it_fail "folder source not OK"; }
grep -q "^FAIL source ftps: the TLS certificate of ftp://127.0.0.1:$FTP_PORT is not trusted" "$WORK/check-bad.txt" ||
  { cat "$WORK/check-bad.txt"; it_fail "check did not say the FTPS certificate is not trusted"; }
it_note "check: $(grep 'source ftps' "$WORK/check-bad.txt")"
it_note "check: $(grep 'source ftp-plain' "$WORK/check-bad.txt")"
"$AGENT" run --once --config "$BAD" </dev/null >"$WORK/run-bad.json" 2>"$WORK/logs/agent-bad.log" || it_fail "run --once with a wrong FTP password failed"
it_eq "$(jq '.collected' "$WORK/run-bad.json")" 2 "files collected from the folder source next to a failing FTP source"
"$AGENT" status --config "$BAD" --json >"$WORK/st-bad.json"
err=$(jq -r '.sources[] | select(.name == "ftp-plain") | .last_error' "$WORK/st-bad.json")
case "$err" in *"password rejected"*) it_note "status last_error: $err" ;; *) it_fail "status last_error of ftp-plain: '$err'" ;; esac
it_pass "FTP and FTPS: $expected files, once, byte-identical; delete/move after receipt; wrong password isolated"
