#!/usr/bin/env bash
# alerts — a hub with an `alerts` section, three real agents (heartbeat every second) and 300
# simulated ones (curl, in parallel), a python3 stub for the webhook / WeCom / DingTalk robots
# and another for an HTTP SMS gateway (signed requests; refuses the first one with 503).
#   1. agent-2 (hosp-a) is stopped: agent_offline (critical) reaches the webhook, DingTalk (signed)
#      and SMS (both phones, signed, after one retry); not WeCom (routed to source_down of hosp-b).
#   2. agent-3 (hosp-b) loses its source folder: source_down (warning) reaches the webhook and WeCom.
#   3. agent-3's data_dir is a 64 MB tmpfs (root needed; else a simulated agent reports 4 % free
#      instead, and the test says so): a file fills it to under 10 % free, spool_disk (critical)
#      reaches the webhook and DingTalk; not SMS (institution not routed).
#   The rest of the fleet raises nothing. GET /api/v1/alerts (ops) lists them; agents get 403; ack.
#   4. The hub restarts while they fire: no new "firing" goes out. Then agent-2 is started again,
#      the folder comes back and the file is removed: each alert resolves and its recovery reaches
#      exactly the channels its firing reached, once each.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

SIM_AGENTS=${ALERTS_SIM_AGENTS:-300}  # ALERTS_TMPFS=0: simulate the full disk even as root
DING_SECRET=SECtest0123456789
SMS_SECRET="sms-gw-secret"
ROBOT_PORT=$(lb_free_port)
SMS_PORT=$(lb_free_port)
[ "$ROBOT_PORT" != "$SMS_PORT" ] || SMS_PORT=$(lb_free_port)
ROBOT_LOG=$WORK/robots.jsonl
SMS_LOG=$WORK/sms.jsonl
: >"$ROBOT_LOG"
: >"$SMS_LOG"
RECEIVER=$IT_DIR/alert_receiver.py

IT_PIDS+=("$WORK/run/robots.pid" "$WORK/run/sms.pid")
lb_start robots "$WORK/run/robots.pid" "$WORK/logs/robots.log" python3 "$RECEIVER" "$ROBOT_PORT" "$ROBOT_LOG" robots "$DING_SECRET"
lb_start sms "$WORK/run/sms.pid" "$WORK/logs/sms.log" python3 "$RECEIVER" "$SMS_PORT" "$SMS_LOG" sms "$SMS_SECRET" 1

it_write_hub_config
# The alerts section replaces the config's closing brace.
python3 - "$HUB_CONFIG" "$ROBOT_PORT" "$SMS_PORT" "$DING_SECRET" "$SMS_SECRET" <<'EOF'
import sys
path, robot, sms, ding, sms_secret = sys.argv[1:]
text = open(path).read().rstrip()
assert text.endswith("}")
alerts = f'''
  ,"alerts": {{
    "evaluate_seconds": 1,
    "hub_name": "lightbox-it",
    "rules": {{
      "agent_offline": {{"for_seconds": 0}},
      "source_down": {{"for_seconds": 2}},
      "spool_disk": {{"for_seconds": 1, "min_free_percent": 10}}
    }},
    "delivery": {{"timeout_seconds": 5, "retry_initial_seconds": 1, "retry_max_seconds": 2}},
    "channels": [
      {{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:{robot}/hook",
        "headers": {{"Authorization": "Bearer hook-token"}}}},
      {{"name": "wecom", "type": "wecom", "url": "http://127.0.0.1:{robot}/wecom?key=k1",
        "rules": ["source_down"], "institutions": ["hosp-b"]}},
      {{"name": "ding", "type": "dingtalk", "url": "http://127.0.0.1:{robot}/dingtalk?access_token=t1",
        "secret": "{ding}", "min_severity": "critical"}},
      {{"name": "sms", "type": "sms", "url": "http://127.0.0.1:{sms}/sms/send/{{{{phone}}}}",
        "headers": {{"Content-Type": "application/json", "X-Time": "{{{{timestamp}}}}"}},
        "body": "{{\\"to\\":\\"{{{{phone}}}}\\",\\"text\\":\\"{{{{message}}}}\\",\\"level\\":\\"{{{{severity}}}}\\"}}",
        "recipients": ["+8613800000001", "+8613800000002"],
        "signature": {{"secret": "{sms_secret}", "template": "{{{{timestamp}}}}\\n{{{{phone}}}}", "header": "X-Sign"}},
        "min_severity": "critical", "institutions": ["hosp-a"]}}
    ]
  }}
}}
'''
open(path, "w").write(text[:-1].rstrip() + "\n" + alerts)
EOF
"$HUB" check --config "$HUB_CONFIG" >"$WORK/check.out" || it_fail "hub check refused the alerts config: $(cat "$WORK/check.out")"
it_start_hub
OPS=$(it_admin create-operator --name ops-wang)

# --- three real agents, one beat a second ----------------------------------------------------
it_corpus "$WORK/corpus" --ct-slices 2
start_agent() {  # start_agent ID TOKEN SOURCE_DIR
  local cfg
  cfg=$(it_agent_config "$1" "$3")
  sed -i 's|^  "log": {|  "report": {"heartbeat_seconds": 1},\n  "log": {|' "$cfg"
  # The small tmpfs spool: collection may go on down to 8 MB free (default 256 MB).
  sed -i 's|\("data_dir": "[^"]*/agent-agent-3"\)}|\1, "min_free_mb": 8}|' "$cfg"
  IT_PIDS+=("$WORK/run/$1.pid")
  LIGHTBOX_AGENT_TOKEN=$2 lb_start "$1" "$WORK/run/$1.pid" "$WORK/logs/$1.log" "$AGENT" run --config "$cfg"
}
TOK1=$(it_new_agent hosp-a agent-1)
TOK2=$(it_new_agent hosp-a agent-2)
TOK3=$(it_new_agent hosp-b agent-3)
mkdir -p "$WORK/src2" "$WORK/src3" "$WORK/agent-agent-3"
# A real small disk for agent-3's spool when we may mount one.
REAL_DISK=0
if [ "${ALERTS_TMPFS:-1}" = 1 ] && [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64m lbalerts "$WORK/agent-agent-3" 2>/dev/null; then
  REAL_DISK=1
  alerts_cleanup() {
    local rc=$?
    lb_stop "$WORK/run/agent-3.pid" TERM 20 || true
    umount -l "$WORK/agent-agent-3" 2>/dev/null || true
    (exit "$rc")
    it_cleanup
  }
  trap alerts_cleanup EXIT
fi
cp -r "$WORK/corpus/." "$WORK/src3/"
start_agent agent-1 "$TOK1" "$WORK/corpus"
start_agent agent-2 "$TOK2" "$WORK/src2"
start_agent agent-3 "$TOK3" "$WORK/src3"

# --- simulated agents: one beat each, interval 3600 s so they stay online for the test ----------
sim_beat() {  # sim_beat TOKEN FREE_BYTES
  local now
  now=$(date +%s%3N)
  curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' "$HUB_URL/api/v1/heartbeats" --data-binary @- <<JSON
{"version":"sim","interval_seconds":3600,"uptime_s":60,"clock_ms":$now,"queue":{"done":10},
 "backlog_bytes":0,"oldest_pending_age_seconds":null,"uploaded":{"items":10,"bytes":1000},"errors":{},
 "sources":[{"name":"pacs","kind":"dicom","last_scan_at":null,"last_error":null}],
 "spool":{"total_bytes":1000000,"free_bytes":$2,"disk_full":false}}
JSON
}
export -f sim_beat
export CA HUB_URL
t0=$(lb_now)
for i in $(seq -w 0 $((SIM_AGENTS - 1))); do
  inst=sim-inst-$(( 10#$i % 10 ))
  tok=$(it_new_agent "$inst" "sim-$i")
  echo "$tok" >>"$WORK/sim-tokens"
done
it_note "$SIM_AGENTS simulated agents registered in $(lb_elapsed "$t0") s"
DISK_TOK=$(head -1 "$WORK/sim-tokens")  # sim-000, institution sim-inst-0
t0=$(lb_now)
xargs -P 16 -I{} bash -c 'sim_beat {} 500000' <"$WORK/sim-tokens" >"$WORK/sim-codes"
xargs -P 16 -I{} bash -c 'sim_beat {} 500000' <"$WORK/sim-tokens" >>"$WORK/sim-codes"
it_eq "$(sort -u "$WORK/sim-codes" | tr '\n' ' ')" "200 " "status of $((2 * SIM_AGENTS)) simulated heartbeats"
it_note "$((2 * SIM_AGENTS)) simulated beats in $(lb_elapsed "$t0") s"

wait_for() {  # wait_for SECONDS WHAT CMD... — polls CMD every 0.25 s until it succeeds
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq $(( secs * 4 ))); do
    if "$@"; then return 0; fi
    sleep 0.25
  done
  it_fail "$what within ${secs}s"
}
healthy() {  # healthy AGENT
  it_api "$OPS" GET "/api/v1/agents/$1" >"$WORK/code" || true
  [ "$(cat "$WORK/code")" = 200 ] && [ "$(jq -r .status "$WORK/body")" = healthy ]
}
for a in agent-1 agent-2 agent-3; do wait_for 60 "$a healthy" healthy "$a"; done
it_eq "$(it_api "$OPS" GET '/api/v1/alerts?state=all')" 200 "GET /api/v1/alerts as ops"
it_eq "$(jq -c '[.active, .history] | map(length)' "$WORK/body")" "[0,0]" "alerts while all is well"

# --- trouble ---------------------------------------------------------------------------------
lb_stop "$WORK/run/agent-2.pid" TERM 30
mv "$WORK/src3" "$WORK/src3.gone"
if [ "$REAL_DISK" = 1 ]; then
  free_kb=$(df -Pk "$WORK/agent-agent-3" | awk 'NR == 2 {print $4}')
  dd if=/dev/zero of="$WORK/agent-agent-3/ballast" bs=1k count=$((free_kb - 1024)) status=none
  DISK_ROW='["spool_disk","hosp-b","agent-3","","critical","firing"]'
  it_note "agent-3 spool tmpfs filled: $(df -Pk "$WORK/agent-agent-3" | awk 'NR == 2 {print $4}') KiB free of 64 MiB"
else
  sim_beat "$DISK_TOK" 40000 >/dev/null  # 4 % free
  DISK_ROW='["spool_disk","sim-inst-0","sim-000","","critical","firing"]'
  it_note "no tmpfs (not root or mount refused): a simulated agent reports its disk 4 % free instead"
fi

# received CHANNEL_PATH RULE EVENT — accepted deliveries of that kind, one JSON line each.
received() {
  local log=$ROBOT_LOG
  [ "$1" = /sms ] && log=$SMS_LOG
  jq -c --arg p "$1" --arg r "$2" --arg e "$3" '
    select(.verdict == "accepted" and (.path | startswith($p))) |
    select(
      (.body.alert.rule? == $r and .body.event? == $e) or
      ((.body.markdown.content? // .body.markdown.text? // .body.text? // "") | tostring |
         contains($r) and (if $e == "resolved" then contains("RESOLVED") else (contains("RESOLVED") | not) end)))' "$log"
}
count() { received "$@" | wc -l; }
all_fired() {
  [ "$(count /hook agent_offline firing)" -ge 1 ] && [ "$(count /hook source_down firing)" -ge 1 ] &&
    [ "$(count /hook spool_disk firing)" -ge 1 ] && [ "$(count /sms agent_offline firing)" -ge 2 ] &&
    [ "$(count /dingtalk spool_disk firing)" -ge 1 ] && [ "$(count /dingtalk agent_offline firing)" -ge 1 ] &&
    [ "$(count /wecom source_down firing)" -ge 1 ]
}
wait_for 40 "every firing notification delivered" all_fired
sleep 3  # anything extra (a duplicate, a wrong route) would arrive now

it_eq "$(it_api "$OPS" GET /api/v1/alerts)" 200 "GET /api/v1/alerts"
it_eq "$(jq -c '[.active[] | [.rule, .institution, .agent, .subject, .severity, .state]] | sort' "$WORK/body")" \
  "$(jq -cn --argjson d "$DISK_ROW" '[["agent_offline","hosp-a","agent-2","","critical","firing"],["source_down","hosp-b","agent-3","images","warning","firing"],$d] | sort')" \
  "active alerts"
OFFLINE_ID=$(jq -r '.active[] | select(.rule == "agent_offline") | .id' "$WORK/body")

# Each firing exactly once, on exactly the routed channels.
it_eq "$(count /hook agent_offline firing) $(count /hook source_down firing) $(count /hook spool_disk firing)" "1 1 1" "webhook firings (offline, source, disk)"
it_eq "$(count /dingtalk agent_offline firing) $(count /dingtalk spool_disk firing) $(count /dingtalk source_down firing)" "1 1 0" "DingTalk firings (offline, disk, source)"
it_eq "$(count /wecom source_down firing) $(count /wecom agent_offline firing) $(count /wecom spool_disk firing)" "1 0 0" "WeCom firings (source, offline, disk)"
it_eq "$(jq -r 'select(.verdict == "accepted") | .body.to' "$SMS_LOG" | sort | tr '\n' ' ')" "+8613800000001 +8613800000002 " "SMS recipients (offline only, once per phone)"
it_eq "$(jq -r 'select(.verdict == "refused-busy") | .path' "$SMS_LOG" | wc -l)" 1 "SMS attempts refused with 503 (then retried)"
it_eq "$(jq -r 'select(.verdict == "bad-sign")' "$ROBOT_LOG" "$SMS_LOG" | wc -l)" 0 "requests with a bad signature"
it_eq "$(wc -l <"$ROBOT_LOG") $(wc -l <"$SMS_LOG")" "6 3" "requests received (robots, SMS incl. the refused one)"

# Formats.
hook=$(received /hook agent_offline firing)
it_eq "$(jq -r '.headers.authorization' <<<"$hook")" "Bearer hook-token" "webhook Authorization header"
it_eq "$(jq -c '.body.alert | [.id, .rule, .severity, .institution, .agent, .state, .notifications, .flaps, .resolved_at]' <<<"$hook")" \
  "[$OFFLINE_ID,\"agent_offline\",\"critical\",\"hosp-a\",\"agent-2\",\"firing\",1,0,null]" "webhook alert JSON"
wecom=$(received /wecom source_down firing)
it_eq "$(jq -r '.body.msgtype' <<<"$wecom")" markdown "WeCom msgtype"
jq -r '.body.markdown.content' <<<"$wecom" | grep -q '机构 institution: hosp-b' || it_fail "WeCom markdown lacks the institution: $wecom"
it_eq "$(jq -r '.query.key' <<<"$wecom")" k1 "WeCom robot key kept in the URL"
ding=$(received /dingtalk agent_offline firing)
it_eq "$(jq -r '.body.msgtype' <<<"$ding")" markdown "DingTalk msgtype"
jq -e '.query.timestamp and .query.sign and .query.access_token == "t1"' <<<"$ding" >/dev/null || it_fail "DingTalk URL lacks timestamp/sign: $ding"
jq -r '.body.markdown.title' <<<"$ding" | grep -q '告警 ALERT' || it_fail "DingTalk title: $ding"
sms=$(jq -c 'select(.verdict == "accepted")' "$SMS_LOG" | head -1)
jq -r '.body.text' <<<"$sms" | grep -q 'agent_offline hosp-a/agent-2' || it_fail "SMS text: $sms"
it_eq "$(jq -r '.body.level' <<<"$sms")" critical "SMS severity placeholder"
it_note "SMS text: $(jq -r '.body.text' <<<"$sms")"

# API: agents get 403; ops acks.
it_eq "$(it_api "$TOK1" GET /api/v1/alerts)" 403 "GET /api/v1/alerts with an agent token"
it_eq "$(it_api "$OPS" POST "/api/v1/alerts/$OFFLINE_ID/ack" -H 'Content-Type: application/json' --data '{"note":"值班已电话联系"}')" 200 "ack"
it_eq "$(jq -r '.acked_by' "$WORK/body")" ops-wang "acked_by"
it_eq "$(it_api "$OPS" POST /api/v1/alerts/999999/ack)" 404 "ack of an unknown id"

# /metrics counts deliveries per channel and result.
it_eq "$(it_api "" GET /metrics)" 200 "GET /metrics"
metric() { awk -v k="lightbox_hub_alert_deliveries_total{channel=\"$1\",result=\"$2\"}" '$1 == k {print $2}' "$WORK/body"; }
it_eq "$(metric hook sent) $(metric sms sent) $(metric sms retry) $(metric ding sent) $(metric wecom sent)" "3 2 1 2 1" \
  "deliveries: hook sent, sms sent, sms retry, ding sent, wecom sent"

# --- hub restart while firing: nothing is re-sent --------------------------------------------
it_stop_hub TERM 30
it_start_hub
sleep 4  # > 3 agent intervals: the startup grace is over, every alert re-evaluated
it_eq "$(wc -l <"$ROBOT_LOG") $(wc -l <"$SMS_LOG")" "6 3" "requests after the hub restart (none new)"
it_eq "$(it_api "$OPS" GET /api/v1/alerts)" 200 "GET /api/v1/alerts after the restart"
it_eq "$(jq -r '.active | length' "$WORK/body")" 3 "alerts still firing after the restart"
it_eq "$(jq -r --argjson id "$OFFLINE_ID" '.active[] | select(.id == $id) | .acked_by' "$WORK/body")" ops-wang "ack survives the restart"

# --- recovery ----------------------------------------------------------------------------------
start_agent agent-2 "$TOK2" "$WORK/src2"
mv "$WORK/src3.gone" "$WORK/src3"
if [ "$REAL_DISK" = 1 ]; then rm -f "$WORK/agent-agent-3/ballast"; else sim_beat "$DISK_TOK" 500000 >/dev/null; fi
all_resolved() {
  [ "$(count /hook agent_offline resolved)" -ge 1 ] && [ "$(count /hook source_down resolved)" -ge 1 ] &&
    [ "$(count /hook spool_disk resolved)" -ge 1 ] && [ "$(count /sms agent_offline resolved)" -ge 2 ] &&
    [ "$(count /dingtalk spool_disk resolved)" -ge 1 ] && [ "$(count /dingtalk agent_offline resolved)" -ge 1 ] &&
    [ "$(count /wecom source_down resolved)" -ge 1 ]
}
wait_for 40 "every recovery delivered" all_resolved
sleep 3
it_eq "$(count /hook agent_offline resolved) $(count /hook source_down resolved) $(count /hook spool_disk resolved)" "1 1 1" "webhook recoveries"
it_eq "$(count /dingtalk agent_offline resolved) $(count /dingtalk spool_disk resolved) $(count /wecom source_down resolved)" "1 1 1" "robot recoveries"
it_eq "$(wc -l <"$ROBOT_LOG") $(jq -c 'select(.verdict == "accepted")' "$SMS_LOG" | wc -l)" "12 4" "requests in all (robots, accepted SMS)"
jq -r 'select(.verdict == "accepted") | .body.text' "$SMS_LOG" | tail -2 | grep -q '恢复 RESOLVED' || it_fail "SMS recovery text"
it_eq "$(it_api "$OPS" GET '/api/v1/alerts?state=all')" 200 "GET /api/v1/alerts?state=all"
it_eq "$(jq -c '[(.active | length), (.history | map(.state) | unique)]' "$WORK/body")" '[0,["resolved"]]' "all resolved"
it_eq "$(jq -r '.history | length' "$WORK/body")" 3 "alerts in history"

it_pass "offline, source down and disk alerts reached the routed channels once each (webhook, WeCom, DingTalk signed, SMS signed with a retry); none re-sent across a hub restart; recoveries followed"
