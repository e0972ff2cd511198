#!/usr/bin/env bash
# sources_http — the `http` source against a real nginx on 127.0.0.1, through the real agent
# into the real hub:
#   * an HTTPS `autoindex_format json` listing (basic auth, the test's own CA, sub-folders) and a
#     fixed list of plain-HTTP URLs (bearer token): exactly these files arrive, byte-identical, once;
#   * while the hub is down nothing is deleted; after the receipts, after_upload "delete" removed
#     the listed files through WebDAV DELETE, and the fixed URLs (keep) are still there;
#   * a second `run --once` collects and sends nothing, and the fixed URLs answered 304
#     (If-None-Match); a changed resource is collected again;
#   * a wrong password: `check` prints FAIL in plain words and a folder source still collects.
# Needs nginx (Debian package nginx) and root (nginx workers run as www-data); else exit 77.
set -euo pipefail
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX" ]; then echo "SKIP sources_http: nginx is not installed (apt-get install nginx)"; exit 77; fi
if [ "$(id -u)" != 0 ] || ! id www-data >/dev/null 2>&1; then echo "SKIP sources_http: needs root and the www-data user"; exit 77; fi
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# --- the HTTP server ---------------------------------------------------------------------------
chmod 755 "$WORK"
WWW=$WORK/www
N=$WORK/nginx
mkdir -p "$WWW/export/ct/series 1" "$WWW/single/sub" "$N/tmp"
HTTP_PORT=$(lb_free_port)
HTTPS_PORT=$(lb_free_port)
HTTP_USER=pacs
HTTP_PASS=pacs-Secret-1
BEARER=bearer-$(openssl rand -hex 8)
printf '%s:%s\n' "$HTTP_USER" "$(openssl passwd -apr1 "$HTTP_PASS")" >"$N/htpasswd"
chmod 644 "$N/htpasswd"
cat >"$N/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid $N/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;
events { worker_connections 64; }
http {
  log_format lb '\$request_method \$uri \$status';
  access_log $WORK/logs/nginx-access.log lb;
  client_body_temp_path $N/tmp/body; proxy_temp_path $N/tmp/proxy; fastcgi_temp_path $N/tmp/fcgi;
  uwsgi_temp_path $N/tmp/uwsgi; scgi_temp_path $N/tmp/scgi;
  types { application/dicom dcm; application/pdf pdf; image/jpeg jpg; }
  server {
    listen 127.0.0.1:$HTTP_PORT;
    listen 127.0.0.1:$HTTPS_PORT ssl;
    ssl_certificate $WORK/tls/server.crt;
    ssl_certificate_key $WORK/tls/server.key;
    location /export/ {
      root $WWW;
      autoindex on; autoindex_format json;
      dav_methods DELETE;
      auth_basic "pacs"; auth_basic_user_file $N/htpasswd;
    }
    location /single/ {
      root $WWW;
      if (\$http_authorization != "Bearer $BEARER") { return 401; }
    }
  }
}
CONF
"$NGINX" -t -c "$N/nginx.conf" >"$WORK/logs/nginx-t.log" 2>&1 || { cat "$WORK/logs/nginx-t.log"; it_fail "nginx config"; }
NGINX_PIDFILE=$WORK/run/nginx-master.pid
IT_PIDS+=("$NGINX_PIDFILE")
lb_start nginx "$NGINX_PIDFILE" "$WORK/logs/nginx.out.log" "$NGINX" -c "$N/nginx.conf" -g 'daemon off;'
lb_wait_port "$HTTP_PORT" 10 && lb_wait_port "$HTTPS_PORT" 10 || it_fail "nginx did not start"

# --- files ----------------------------------------------------------------------------------------
it_corpus "$WORK/corpus" --ct-slices 4
mapfile -t CORPUS_FILES < <(find "$WORK/corpus" -type f ! -name 'corrupt_*' | sort)
listed=() fixed=()
i=0
for f in "${CORPUS_FILES[@]}"; do
  ext=${f##*.}
  case $((i % 3)) in
    0) cp "$f" "$WWW/export/img $i.$ext"; listed+=("$WWW/export/img $i.$ext") ;;
    1) cp "$f" "$WWW/export/ct/series 1/img$i.$ext"; listed+=("$WWW/export/ct/series 1/img$i.$ext") ;;
    2) [ "${#fixed[@]}" -lt 2 ] && { cp "$f" "$WWW/single/sub/img$i.$ext"; fixed+=("$WWW/single/sub/img$i.$ext"); } ;;
  esac
  i=$((i + 1))
done
echo partial >"$WWW/export/ct/upload.tmp"  # excluded by pattern
chown -R www-data: "$WWW"
declare -A SHA
for f in "${listed[@]}" "${fixed[@]}"; do SHA[$f]=$(it_sha "$f"); done
expected=$(( ${#listed[@]} + ${#fixed[@]} ))
it_note "$expected files on nginx (${#listed[@]} listed over HTTPS, ${#fixed[@]} fixed URLs over HTTP)"
fixed_urls=""
for f in "${fixed[@]}"; do
  rel=${f#"$WWW"/}
  fixed_urls+="${fixed_urls:+, }\"http://127.0.0.1:$HTTP_PORT/$rel\""
done

# --- hub and agent ----------------------------------------------------------------------------
IT_HUB_LOG_LEVEL=debug
# The hub starts late (after the agent has been failing to reach it): keep its port out of the
# ephemeral range, so no outgoing connection (or a self-connect to the closed port) can take it.
eph_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
for _ in $(seq 100); do it_write_hub_config; [ "$HUB_PORT" -lt "$eph_low" ] && break; done
TOKEN=$(it_new_agent hosp-http agent-http)
export LIGHTBOX_AGENT_TOKEN=$TOKEN LB_HTTP_PASS=$HTTP_PASS LB_BEARER=$BEARER
write_agent_config() {  # FILE DATA_DIR PASSWORD_EXPR EXTRA_SOURCE_JSON
  cat >"$1" <<JSON
{
  "agent": {"id": "agent-http", "data_dir": "$2"},
  "hub": {"url": "$HUB_URL", "ca_file": "$CA", "token": "\${LIGHTBOX_AGENT_TOKEN}"},
  "upload": {"concurrency": 2, "retry_initial_seconds": 1, "retry_max_seconds": 1},
  "sources": [
    {"name": "listed", "kind": "http", "listing_url": "https://127.0.0.1:$HTTPS_PORT/export/",
     "username": "$HTTP_USER", "password": "$3", "ca_file": "$CA", "recursive": true,
     "stable_seconds": 1, "poll_seconds": 1, "exclude": ["*.tmp"], "after_upload": "delete"},
    {"name": "fixed", "kind": "http", "urls": [$fixed_urls], "token": "\${LB_BEARER}",
     "stable_seconds": 1, "poll_seconds": 1, "after_upload": "keep"}$4
  ],
  "log": {"level": "debug", "file": ""}
}
JSON
}
CFG=$WORK/agent.jsonc
write_agent_config "$CFG" "$WORK/agent" '${LB_HTTP_PASS}' ""
"$AGENT" check --config "$CFG" >"$WORK/check.txt" 2>&1 || true
grep -q "^OK source listed: listing https://127.0.0.1:$HTTPS_PORT/export/ answered 200" "$WORK/check.txt" ||
  { cat "$WORK/check.txt"; it_fail "check could not read the listing"; }
grep -q "^OK source fixed:" "$WORK/check.txt" || { cat "$WORK/check.txt"; it_fail "check could not read the fixed URLs"; }
it_note "check: $(grep 'source listed' "$WORK/check.txt")"

# Queue items that came from this test's sources (collection-task records travel in the queue too).
src_items() {  # CONFIG_DATA_DIR [STATE]
  sqlite3 -readonly "$1/queue.db" "SELECT count(*) FROM items WHERE source IN ('listed','fixed')${2:+ AND state = '$2'}" 2>/dev/null || echo 0
}

# 1. hub down: collected into the queue, nothing deleted on the server.
gets_by_check=$(grep -c '^GET /single/.* 200$' "$WORK/logs/nginx-access.log" || true)
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
sleep 1.5
for f in "${listed[@]}" "${fixed[@]}"; do [ -f "$f" ] || it_fail "deleted before any receipt: $f"; done
it_note "all files still on the server while the hub is down"

# 2. hub up: receipts, then DELETE for the listed files.
it_start_hub
for _ in $(seq 300); do
  [ "$(src_items "$WORK/agent" done)" -ge "$expected" ] && break
  sleep 0.1
done
it_eq "$(src_items "$WORK/agent" done)" "$expected" "items done after the hub came up"
for _ in $(seq 50); do
  left=0
  for f in "${listed[@]}"; do [ -f "$f" ] && left=$((left + 1)); done
  [ "$left" = 0 ] && break
  sleep 0.1
done
lb_stop "$AGENT_PIDFILE" TERM 20
it_eq "$LB_STOP_RC" 0 "agent run exit code"
for f in "${listed[@]}"; do [ ! -e "$f" ] || it_fail "after_upload delete left $f"; done
for f in "${fixed[@]}"; do [ -f "$f" ] || it_fail "after_upload keep removed $f"; done
[ -f "$WWW/export/ct/upload.tmp" ] || it_fail "the excluded file was deleted"
it_note "listed files deleted (WebDAV DELETE) after the receipts; fixed URLs kept"

# 3. the hub holds exactly these files, byte-identical, once.
for f in "${!SHA[@]}"; do
  code=$(it_api "$TOKEN" GET "/api/v1/objects/${SHA[$f]}")
  [ "$code" = 200 ] || it_fail "GET object of $f answered $code"
  [ "$(it_sha "$WORK/body")" = "${SHA[$f]}" ] || it_fail "bytes at the hub differ for $f"
done
it_eq "$(it_hub_puts 201)" "$expected" "objects stored at the hub (201)"

# 4. again: nothing collected or sent; the fixed URLs answered 304 to the conditional GET.
before304=$(grep -c '^GET /single/.* 304$' "$WORK/logs/nginx-access.log" || true)
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run2.json" 2>"$WORK/logs/agent-2.log" || it_fail "second run --once failed"
it_eq "$(jq '.collected' "$WORK/run2.json")" 0 "files collected by a second run --once"
it_eq "$(jq '.uploaded + .already_stored' "$WORK/run2.json")" 0 "files sent by a second run --once"
after304=$(grep -c '^GET /single/.* 304$' "$WORK/logs/nginx-access.log" || true)
it_eq "$((after304 - before304))" "${#fixed[@]}" "fixed URLs answered 304 Not Modified"
full_gets=$(grep -c '^GET /single/.* 200$' "$WORK/logs/nginx-access.log" || true)
it_eq "$((full_gets - gets_by_check))" "${#fixed[@]}" "full downloads of the fixed URLs by both runs"

# 5. a changed resource is collected again (new ETag).
printf '%%PDF-1.4\n%% changed %s\n' "$(date +%s%N)" >"${fixed[0]}"  # new bytes, never sent before
touch -d '+2 seconds' "${fixed[0]}"
chown www-data: "${fixed[0]}"
"$AGENT" run --once --config "$CFG" </dev/null >"$WORK/run3.json" 2>"$WORK/logs/agent-3.log" || it_fail "third run --once failed"
it_eq "$(jq '.collected' "$WORK/run3.json")" 1 "files collected after one fixed resource changed"

# 6. wrong password: plain words from check; the folder source next to it still collects.
mkdir -p "$WORK/local"
printf '%%PDF-1.4\n%% lightbox http test %s\n' "$(date +%s%N)" >"$WORK/local/b.pdf"
BAD=$WORK/agent-bad.jsonc
write_agent_config "$BAD" "$WORK/agent-bad" "wrong-password" ",
    {\"name\": \"local\", \"kind\": \"folder\", \"path\": \"$WORK/local\", \"stable_seconds\": 1, \"poll_seconds\": 1}"
rc=0
"$AGENT" check --config "$BAD" >"$WORK/check-bad.txt" 2>&1 || rc=$?
it_eq "$rc" 1 "check exit code with a wrong HTTP password"
grep -q "^FAIL source listed: credentials rejected by https://127.0.0.1:$HTTPS_PORT" "$WORK/check-bad.txt" ||
  { cat "$WORK/check-bad.txt"; it_fail "check did not say the credentials were rejected"; }
it_note "check: $(grep 'source listed' "$WORK/check-bad.txt")"
"$AGENT" run --once --config "$BAD" </dev/null >"$WORK/run-bad.json" 2>"$WORK/logs/agent-bad.log" || it_fail "run --once with a wrong password failed"
# The folder file plus the fixed URLs (a fresh data_dir has collected nothing yet).
it_eq "$(jq '.collected' "$WORK/run-bad.json")" "$((1 + ${#fixed[@]}))" "files collected next to a failing HTTP source"
"$AGENT" status --config "$BAD" --json >"$WORK/st-bad.json"
err=$(jq -r '.sources[] | select(.name == "listed") | .last_error' "$WORK/st-bad.json")
case "$err" in *"credentials rejected"*) it_note "status last_error: $err" ;; *) it_fail "status last_error of listed: '$err'" ;; esac
it_pass "HTTP(S): $expected files, once, byte-identical; conditional GETs; delete after receipt; wrong password isolated"
