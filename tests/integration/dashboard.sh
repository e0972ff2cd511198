#!/usr/bin/env bash
# dashboard — the ops dashboard end to end in headless Debian chromium (skips, 77, without it):
#   hub (alerts evaluated every second, no channels) with three agents in two institutions
#   (agent-a1: a real agent uploading a corpus, healthy; agent-a2: never seen, offline; agent-b1:
#   heartbeats posted with curl, a failing source, degraded, plus 24 h of backfilled history rows
#   for its charts), an operator from `admin create-operator`. Checks the ops API (every
#   institution; agent tokens get 403; ops cannot upload), the page's headers (Content-Type,
#   Cache-Control, CSP), then loads /dashboard/#token=... and asserts the DOM shows what the API
#   says (agent ids, statuses, counts, alert rows, uploads per institution) in Chinese by default
#   and in English with ?lang=en; a wrong or agent token gets the login form with the reason;
#   agent-b1's drill-down (?agent=); screenshots under $BUILD_DIR/test-output/dashboard. Then
#   real clicks over the DevTools protocol (cdp_pipe.py): the ack button acknowledges an alert
#   (checked in the API), the language switch is remembered across a reload. With alerts off the
#   page says 未配置告警. /metrics carries the latency histograms and the heartbeat counter.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "SKIP $IT_NAME: no chromium at $CHROMIUM (apt-get install chromium)"
  exit 77
fi
OUT_DIR=${DASHBOARD_OUT_DIR:-$BUILD_DIR/test-output/dashboard}
mkdir -p "$OUT_DIR"

it_corpus "$WORK/corpus" --ct-slices 3
# Alerts on (part of the page): evaluated every second, a failing source fires at once; no channels.
it_write_hub_config
cp "$HUB_CONFIG" "$WORK/hub-no-alerts.jsonc"
sed -i 's|^  "data_dir": \(.*\)$|  "data_dir": \1\n  "alerts": {"evaluate_seconds": 1, "rules": {"source_down": {"for_seconds": 0}}, "channels": []},|' \
  "$HUB_CONFIG"
grep -q '"alerts"' "$HUB_CONFIG" || it_fail "could not add the alerts section to $HUB_CONFIG"
it_start_hub
TOK_A1=$(it_new_agent hosp-a agent-a1)
it_new_agent hosp-a agent-a2 >/dev/null
TOK_B1=$(it_new_agent hosp-b agent-b1)
OPS=$(it_admin create-operator --name ops-li)
[[ "$OPS" =~ ^lbo_[0-9a-f]{64}$ ]] || it_fail "create-operator printed '$OPS', not lbo_ + 64 hex"
it_admin create-operator --name ops-wang --json >"$WORK/op.json"
it_eq "$(jq -r .role "$WORK/op.json")" ops "create-operator --json role"

# agent-a1: a real agent, one beat every 3 s (offline only after 9 s without one: on a loaded
# 2-core CI machine a 1 s interval let a late beat flip it offline for a moment).
CFG=$(it_agent_config agent-a1 "$WORK/corpus")
sed -i 's|^  "log": {|  "report": {"heartbeat_seconds": 3},\n  "log": {|' "$CFG"
grep -q '"heartbeat_seconds": 3' "$CFG" || it_fail "could not add the report section to $CFG"
AGENT_PIDFILE=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PIDFILE")
LIGHTBOX_AGENT_TOKEN=$TOK_A1 lb_start lightbox-agent "$AGENT_PIDFILE" "$WORK/logs/agent.log" \
  "$AGENT" run --config "$CFG"

# agent-b1: 24 h of history rows (every 5 min) written straight into index.db — the hub stamps
# live beats with its own clock, so past hours can only be a fixture — then live beats by curl
# whose source fails (degraded). A long interval keeps it from going offline during the test.
python3 - "$HUB_DATA/index.db" <<'PY'
import json, sqlite3, sys, time, math
db = sqlite3.connect(sys.argv[1], timeout=30)
now = int(time.time() * 1000)
rows = []
for i in range(288, 0, -1):
    t = now - i * 300_000
    load = 1 + math.sin(i / 20.0)
    body = {"version": "0.9.0", "interval_seconds": 300, "uptime_s": 86400 - i * 300, "clock_ms": t,
            "queue": {"done": 1000 - i}, "backlog_bytes": int(50e6 * load), "oldest_pending_age_seconds": 60,
            "uploaded": {"items": int(40 * load), "bytes": int(20e6 * (1 + math.cos(i / 9.0)))},
            "errors": {"network": 1} if i % 37 == 0 else {},
            "sources": [{"name": "pacs-folder", "kind": "folder", "last_scan_at": None, "last_error": None}],
            "spool": {"total_bytes": 100_000_000_000, "free_bytes": int(60e9 - i * 5e7), "disk_full": False}}
    rows.append(("agent-b1", "hosp-b", t, json.dumps(body)))
db.executemany("INSERT INTO fleet_beats(agent,institution,received_ms,body) VALUES(?,?,?,?)", rows)
db.commit()
PY
beat_b1() {
  local now_ms
  now_ms=$(date +%s%3N)
  jq -n --argjson now "$now_ms" '{version: "0.9.0", interval_seconds: 3600, uptime_s: 90000, clock_ms: $now,
    queue: {done: 1288, verified: 2}, backlog_bytes: 4096, oldest_pending_age_seconds: 42,
    uploaded: {items: 3, bytes: 3000}, errors: {source: 2},
    sources: [{name: "pacs-folder", kind: "folder", last_scan_at: null,
               last_error: "not_found: folder /mnt/pacs does not exist"}],
    spool: {total_bytes: 100000000000, free_bytes: 61000000000, disk_full: false}}' >"$WORK/beat.json"
  it_api "$TOK_B1" POST /api/v1/heartbeats -H 'Content-Type: application/json' --data-binary @"$WORK/beat.json"
}
for _ in 1 2 3; do it_eq "$(beat_b1)" 200 "agent-b1 heartbeat"; done

wait_for() {  # wait_for SECONDS WHAT CMD...
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq $((secs * 4))); do
    if "$@"; then return 0; fi
    sleep 0.25
  done
  it_fail "$what within ${secs}s"
}
a1_ready() {
  [ "$(it_api "$OPS" GET /api/v1/agents)" = 200 ] || return 1
  [ "$(jq -r '.agents[] | select(.agent == "agent-a1") | "\(.status) \(.backlog_bytes) \((.queue.done // 0) > 0)"' \
    "$WORK/body")" = "healthy 0 true" ]
}
wait_for 90 "agent-a1 healthy with its corpus uploaded" a1_ready

# ---- the ops API -------------------------------------------------------------------------------
it_eq "$(it_api "$OPS" GET /api/v1/agents)" 200 "ops GET /api/v1/agents"
cp "$WORK/body" "$WORK/agents.json"
it_eq "$(jq -r '[.agents[].agent] | join(",")' "$WORK/agents.json")" "agent-a1,agent-a2,agent-b1" "agents seen by ops"
it_eq "$(jq -r '[.agents[] | "\(.agent)=\(.status)"] | join(" ")' "$WORK/agents.json")" \
  "agent-a1=healthy agent-a2=offline agent-b1=degraded" "statuses"
it_eq "$(it_api "$TOK_A1" GET /api/v1/agents && jq -r '[.agents[].agent] | join(",")' "$WORK/body")" \
  "200agent-a1,agent-a2" "agents seen by an agent token (own institution only)"
it_eq "$(it_api "$TOK_A1" GET /api/v1/institutions)" 403 "agent token on GET /api/v1/institutions"
it_eq "$(it_api "$TOK_A1" GET /api/v1/stats/uploads)" 403 "agent token on GET /api/v1/stats/uploads"
echo "from ops" >"$WORK/ops.bin"
it_eq "$(it_api "$OPS" PUT "/api/v1/objects/$(it_sha "$WORK/ops.bin")" -H 'X-Lightbox-Kind: attachment' \
  --data-binary @"$WORK/ops.bin")" 403 "ops token PUT object"
it_eq "$(it_api "$OPS" GET /api/v1/institutions)" 200 "ops GET /api/v1/institutions"
cp "$WORK/body" "$WORK/institutions.json"
it_eq "$(jq -r '[.institutions[] | "\(.id):\(.agents)"] | join(" ")' "$WORK/institutions.json")" \
  "hosp-a:2 hosp-b:1" "institutions with agent counts"
it_eq "$(it_api "$OPS" GET '/api/v1/stats/uploads?days=7')" 200 "ops GET /api/v1/stats/uploads"
cp "$WORK/body" "$WORK/uploads.json"
A_ITEMS=$(jq '[.daily[] | select(.institution == "hosp-a") | .items] | add // 0' "$WORK/uploads.json")
[ "$A_ITEMS" -gt 0 ] || it_fail "no uploads counted for hosp-a: $(cat "$WORK/uploads.json")"
it_note "hosp-a uploaded $A_ITEMS objects in 7 days"
it_eq "$(it_api "$OPS" GET '/api/v1/agents/agent-b1/history?hours=24')" 200 "ops GET agent-b1 history 24 h"
points=$(jq '.points | length' "$WORK/body")
if [ "$points" -lt 280 ] || [ "$points" -gt 300 ]; then it_fail "agent-b1 24 h history has $points points (want 280..300)"; fi
it_eq "$(it_api "$OPS" GET '/api/v1/agents/agent-b1/history?hours=999')" 400 "history hours=999"
active_alerts() { it_api "$OPS" GET '/api/v1/alerts?state=active' >/dev/null && jq -r '[.active[].id] | join(",")' "$WORK/body"; }
alerts_settled() {  # at least one active alert, and the same set twice 2 s apart
  local a b
  a=$(active_alerts) && [ -n "$a" ] && sleep 2 && b=$(active_alerts) && [ "$a" = "$b" ]
}
wait_for 30 "active alerts (source_down of agent-b1) settled" alerts_settled
it_eq "$(it_api "$OPS" GET '/api/v1/alerts?state=active')" 200 "ops GET /api/v1/alerts"
ACTIVE_ALERTS=$(jq '.active | length' "$WORK/body")
ACTIVE_IDS=$(jq -r '[.active[].id] | sort | join(",")' "$WORK/body")
it_note "active alerts: $(jq -c '[.active[] | "\(.rule):\(.agent)"]' "$WORK/body")"

# ---- the page's headers --------------------------------------------------------------------------
curl -sS --cacert "$CA" -D "$WORK/headers" -o "$WORK/index.html" "$HUB_URL/dashboard/"
hdr() { grep -i "^$1:" "$WORK/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
it_eq "$(hdr content-type)" "text/html; charset=utf-8" "Content-Type of /dashboard/"
it_eq "$(hdr cache-control)" "no-cache" "Cache-Control of /dashboard/"
csp=$(hdr content-security-policy)
[[ "$csp" == *"default-src 'none'"* && "$csp" == *"script-src 'self'"* && "$csp" != *unsafe* ]] ||
  it_fail "weak or missing CSP: '$csp'"
it_eq "$(curl -sS --cacert "$CA" -o /dev/null -w '%{content_type}' "$HUB_URL/dashboard/app.js")" \
  "text/javascript; charset=utf-8" "Content-Type of app.js"

# ---- the page in chromium ------------------------------------------------------------------------
chrome() {  # chrome OUTPUT_ARGS... URL — headless, own profile, certificate of the test CA ignored
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --ignore-certificate-errors \
    --user-data-dir="$WORK/chrome" --no-first-run --disable-extensions --hide-scrollbars \
    --window-size=1440,2400 --virtual-time-budget=20000 "$@" 2>>"$WORK/logs/chromium.log"
}
dom_attr() {  # dom_attr FILE AGENT — data-status of that agent's row
  grep -o "<tr [^>]*data-agent=\"$2\"[^>]*>" "$1" | grep -o 'data-status="[a-z]*"' | cut -d'"' -f2
}
dom_text() {  # dom_text FILE ID — the text of the element with that id (no nested tags)
  grep -o "id=\"$2\"[^>]*>[^<]*<" "$1" | head -1 | sed 's/.*>\([^<]*\)<$/\1/'
}
check_dom() {  # check_dom FILE LANG
  local f=$1 lang=$2 a st label
  grep -q 'data-state="ready"' "$f" || it_fail "[$lang] page not ready: $(grep -o '<body[^>]*>' "$f")"
  for a in agent-a1 agent-a2 agent-b1; do
    st=$(jq -r --arg a "$a" '.agents[] | select(.agent == $a) | .status' "$WORK/agents.json")
    it_eq "$(dom_attr "$f" "$a")" "$st" "[$lang] DOM status of $a"
  done
  for st in healthy degraded offline; do
    it_eq "$(dom_text "$f" "count-$st")" "$(jq --arg s "$st" '[.agents[] | select(.status == $s)] | length' \
      "$WORK/agents.json")" "[$lang] DOM count of $st"
  done
  it_eq "$(dom_text "$f" count-agents)" 3 "[$lang] DOM agent count"
  it_eq "$(dom_text "$f" count-institutions)" 2 "[$lang] DOM institution count"
  it_eq "$(dom_text "$f" count-alerts)" "$ACTIVE_ALERTS" "[$lang] DOM active alert count"
  it_eq "$(grep -o '<tr data-alert="[0-9]*"' "$f" | grep -o '[0-9]*' | sort -n | paste -sd, -)" \
    "$(tr ',' '\n' <<<"$ACTIVE_IDS" | sort -n | paste -sd, -)" "[$lang] DOM alert rows"
  # Uploads per institution: the table's total for hosp-a is the API's 7-day sum.
  total=$(tr -d '\n' <"$f" | grep -o '<tr data-institution="hosp-a"><td class="mono">hosp-a</td>\(<td[^>]*>[^<]*</td>\)*' |
    tail -1 | grep -o '<td class="num"[^>]*>[^<]*</td>' | tail -1 | sed 's/<[^>]*>//g; s/[^0-9]//g')
  it_eq "$total" "$A_ITEMS" "[$lang] DOM 7-day uploads of hosp-a"
}

chrome --dump-dom "$HUB_URL/dashboard/#token=$OPS" >"$WORK/dom-zh.html" || it_fail "chromium failed (see chromium.log)"
check_dom "$WORK/dom-zh.html" zh
grep -q '<html lang="zh-CN">' "$WORK/dom-zh.html" || it_fail "[zh] html lang is not zh-CN"
for label in 正常 异常 离线 机构 运维看板; do
  grep -q "$label" "$WORK/dom-zh.html" || it_fail "[zh] '$label' not on the page"
done
it_eq "$(grep -o '<span class="badge status-healthy" data-status="healthy">[^<]*<' "$WORK/dom-zh.html" | head -1 | sed 's/.*>//; s/<//')" 正常 "[zh] healthy label"
reasons_of() { grep -o "<tr [^>]*data-agent=\"$2\".*" "$1" | grep -o '<td class="reasons">[^<]*<' | head -1 | sed 's/.*>//; s/<$//'; }
it_eq "$(reasons_of "$WORK/dom-zh.html" agent-a2)" "从未上报心跳" "[zh] reason of agent-a2"
[[ "$(reasons_of "$WORK/dom-zh.html" agent-b1)" == 数据源错误：pacs-folder:* ]] || it_fail "[zh] reason of agent-b1: $(reasons_of "$WORK/dom-zh.html" agent-b1)"
grep -q "$OPS" "$WORK/dom-zh.html" && it_fail "the token is visible in the DOM"

chrome --dump-dom "$HUB_URL/dashboard/?lang=en#token=$OPS" >"$WORK/dom-en.html" || it_fail "chromium failed"
check_dom "$WORK/dom-en.html" en
grep -q '<html lang="en">' "$WORK/dom-en.html" || it_fail "[en] html lang is not en"
for label in "Institutions" "Last heartbeat" "Uploads per institution per day"; do
  grep -q "$label" "$WORK/dom-en.html" || it_fail "[en] '$label' not on the page"
done
it_eq "$(grep -o '<span class="badge status-degraded" data-status="degraded">[^<]*<' "$WORK/dom-en.html" | head -1 | sed 's/.*>//; s/<//')" degraded "[en] degraded label"
it_eq "$(reasons_of "$WORK/dom-en.html" agent-a2)" "never seen" "[en] reason of agent-a2"

# A wrong token: the login form with the reason, nothing else.
chrome --dump-dom "$HUB_URL/dashboard/#token=lbo_wrong" >"$WORK/dom-bad.html" || it_fail "chromium failed"
grep -q 'data-state="login"' "$WORK/dom-bad.html" || it_fail "a wrong token did not bring the login form"
grep -q '令牌无效或已吊销' "$WORK/dom-bad.html" || it_fail "a wrong token is not explained"
# An agent token is not an ops token.
chrome --dump-dom "$HUB_URL/dashboard/#token=$TOK_A1" >"$WORK/dom-agent.html" || it_fail "chromium failed"
grep -q '此令牌不是运维令牌' "$WORK/dom-agent.html" || it_fail "an agent token is not refused as non-ops"

# Drill-down of agent-b1: sources, errors, and both charts drawn from the history.
chrome --dump-dom "$HUB_URL/dashboard/?agent=agent-b1#token=$OPS" >"$WORK/dom-detail.html" || it_fail "chromium failed"
grep -q 'data-detail="agent-b1"' "$WORK/dom-detail.html" || it_fail "drill-down of agent-b1 not opened"
grep -q 'data-source="pacs-folder"' "$WORK/dom-detail.html" || it_fail "drill-down lacks the source row"
grep -q 'folder /mnt/pacs does not exist' "$WORK/dom-detail.html" || it_fail "drill-down lacks the source error"
detail_tag=$(grep -o '<section class="card" id="detail"[^>]*>' "$WORK/dom-detail.html")
[[ "$detail_tag" != *hidden* && "$detail_tag" == *'data-hours="24"'* ]] || it_fail "detail section: $detail_tag"
dom_points=$(grep -o 'data-points="[0-9]*"' <<<"$detail_tag" | grep -o '[0-9]*')
# ±1: the window's bucket edges move with the clock between the two reads.
if [ "${dom_points:-0}" -lt $((points - 1)) ] || [ "${dom_points:-0}" -gt $((points + 1)) ]; then
  it_fail "drill-down drew ${dom_points:-no} points, the API gave $points"
fi
it_note "[zh] drill-down points: $dom_points (API: $points)"

chrome --screenshot="$OUT_DIR/dashboard-zh.png" "$HUB_URL/dashboard/?agent=agent-b1#token=$OPS" >/dev/null ||
  it_fail "chromium screenshot failed"
chrome --screenshot="$OUT_DIR/dashboard-en.png" "$HUB_URL/dashboard/?lang=en#token=$OPS" >/dev/null ||
  it_fail "chromium screenshot failed"
for png in "$OUT_DIR/dashboard-zh.png" "$OUT_DIR/dashboard-en.png"; do
  [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || it_fail "$png is not a PNG"
  it_note "screenshot: $png ($(stat -c %s "$png") bytes)"
done

# ---- clicks in a real browser (DevTools protocol over a pipe) ------------------------------------
# Acknowledge the first active alert with its button; switch to English and see it remembered.
it_eq "$(it_api "$OPS" GET '/api/v1/agents/agent-b1/history?hours=168')" 200 "ops GET agent-b1 history 7 d"
B1_POINTS_7D=$(jq '.points | length' "$WORK/body")
steps=$(jq -n --arg url "$HUB_URL/dashboard/#token=$OPS" --arg plain "$HUB_URL/dashboard/" \
  --arg b1 "$HUB_URL/dashboard/?agent=agent-b1" --argjson p7 "$B1_POINTS_7D" '[
  {open: $url},
  {wait: "document.body.dataset.state === \"ready\" && !!document.querySelector(\"tr[data-agent=agent-a1]\")", what: "agent rows"},
  {eval: "document.querySelector(\"tr[data-agent=agent-a1]\").click(), \"clicked agent-a1\""},
  {wait: "document.getElementById(\"detail\").dataset.agent === \"agent-a1\" && !document.getElementById(\"detail\").hidden && document.getElementById(\"detail-agent\").textContent",
   what: "drill-down of the clicked row"},
  {open: $b1},
  {wait: "document.getElementById(\"detail\").dataset.agent === \"agent-b1\" && document.getElementById(\"detail\").dataset.hours === \"24\" && document.getElementById(\"detail\").dataset.points",
   what: "agent-b1 drill-down, 24 h points"},
  {eval: "document.querySelector(\".range-btn[data-hours=\\\"168\\\"]\").click(), \"clicked 7 d\""},
  {wait: ("document.getElementById(\"detail\").dataset.hours === \"168\" && Math.abs(document.getElementById(\"detail\").dataset.points - " + ($p7 | tostring) + ") <= 1 && document.querySelector(\".range-btn.active\").dataset.hours"),
   what: "7 d range with the API'"'"'s point count (±1: bucket edges move with the clock)"},
  {open: $url},
  {wait: "document.body.dataset.state === \"ready\" && !!document.querySelector(\"#alerts-table tr[data-alert] button.ack\")",
   what: "page ready with an ack button"},
  {eval: "(() => { const b = document.querySelector(\"#alerts-table tr[data-alert] button.ack\"); window.ackedId = b.closest(\"tr\").dataset.alert; b.click(); return window.ackedId; })()"},
  {wait: "(() => { const r = document.querySelector(`#alerts-table tr[data-alert=\"${window.ackedId}\"]`); return r && !r.querySelector(\"button.ack\") && r.textContent.includes(\"已确认：ops-li\") ? \"acked \" + window.ackedId : \"\"; })()",
   what: "the row shows the acknowledgement"},
  {eval: "document.getElementById(\"lang-switch\").click(), document.documentElement.lang"},
  {wait: "document.documentElement.lang === \"en\" && document.querySelector(\"#agents h2\").textContent === \"Agents\" && document.querySelector(\"tr[data-agent=agent-a1] .badge\").textContent",
   what: "switched to English"},
  {open: $plain},
  {wait: "document.body.dataset.state === \"ready\" && document.documentElement.lang === \"en\" && document.getElementById(\"lang-switch\").textContent",
   what: "English remembered after a reload (token from sessionStorage)"}]')
python3 "$IT_DIR/cdp_pipe.py" "$CHROMIUM" "$WORK/chrome-cdp" "$steps" >"$WORK/cdp.out" 2>&1 ||
  it_fail "browser clicks: $(cat "$WORK/cdp.out")"
sed 's/^/    /' "$WORK/cdp.out"
ACKED=$(grep -o 'acked [0-9]*' "$WORK/cdp.out" | cut -d' ' -f2)
it_eq "$(it_api "$OPS" GET '/api/v1/alerts?state=all&limit=100' && jq -r --argjson id "$ACKED" \
  '[(.active + .history)[] | select(.id == $id) | .acked_by] | first' "$WORK/body")" "200ops-li" \
  "alert $ACKED acked_by (API) after the click"

# ---- alerts off: the page says so ------------------------------------------------------------------
curl -sS --cacert "$CA" -o "$WORK/metrics-before" "$HUB_URL/metrics"
it_stop_hub
cp "$WORK/hub-no-alerts.jsonc" "$HUB_CONFIG"
it_start_hub
it_eq "$(it_api "$OPS" GET '/api/v1/alerts?state=active')" 404 "GET /api/v1/alerts with alerts off"
chrome --dump-dom "$HUB_URL/dashboard/#token=$OPS" >"$WORK/dom-off.html" || it_fail "chromium failed"
grep -q 'data-state="ready"' "$WORK/dom-off.html" || it_fail "[alerts off] page not ready"
grep -q 'data-state="not_configured"' "$WORK/dom-off.html" || it_fail "[alerts off] alerts note state"
grep -q '未配置告警' "$WORK/dom-off.html" || it_fail "[alerts off] no '未配置告警' note"
it_eq "$(dom_text "$WORK/dom-off.html" count-alerts)" "–" "[alerts off] DOM active alert count"
mv "$WORK/metrics-before" "$WORK/body"

# ---- /metrics ------------------------------------------------------------------------------------
metric() { awk -v k="$1" '$1 == k {print $2}' "$WORK/body"; }
for m in 'lightbox_hub_request_seconds_count{route="dashboard"}' 'lightbox_hub_request_seconds_count{route="ingest"}' \
  'lightbox_hub_request_seconds_count{route="fleet"}' 'lightbox_hub_request_seconds_count{route="alerts"}' \
  'lightbox_hub_ingest_seconds_count' \
  'lightbox_hub_heartbeats_received_total' 'lightbox_hub_request_seconds_bucket{route="ingest",le="+Inf"}'; do
  v=$(metric "$m")
  [ "${v:-0}" -gt 0 ] || it_fail "$m is '${v:-}'"
  it_note "$m = $v"
done
grep -q 'agent-a1\|hosp-a' "$WORK/body" && it_fail "/metrics names an agent or institution"

# ---- operator revocation ---------------------------------------------------------------------------
OPS2=$(jq -r .token "$WORK/op.json")
it_eq "$(it_api "$OPS2" GET /api/v1/institutions)" 200 "second operator before revocation"
it_admin revoke-operator --name ops-wang >/dev/null || it_fail "revoke-operator failed"
it_eq "$(it_api "$OPS2" GET /api/v1/institutions)" 401 "revoked operator"
it_eq "$(it_admin list-operators | jq -c '[.operators[] | "\(.operator):\(.revoked)"]')" \
  '["ops-li:false","ops-wang:true"]' "list-operators"
it_admin revoke-operator --name nobody 2>/dev/null && it_fail "revoke-operator of an unknown name succeeded"

it_pass "dashboard shows what the API says (zh-CN and en); screenshots in $OUT_DIR"
