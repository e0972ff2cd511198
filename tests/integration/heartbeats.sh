#!/usr/bin/env bash
# heartbeats — a real agent in `run` mode with report.heartbeat_seconds: 1 reports to a real hub:
#   GET /api/v1/agents shows it healthy with its queue (everything done, no backlog); its source
#   folder disappearing makes it degraded (reason names the source); after SIGTERM it turns
#   offline once 3 intervals pass without a beat; GET /api/v1/agents/{id} has the latest beat and
#   the 24 h summary; GET /metrics (no credential) is Prometheus text.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

it_corpus "$WORK/corpus" --ct-slices 3
it_start_hub
TOK=$(it_new_agent hosp-a agent-hb)
CFG=$(it_agent_config agent-hb "$WORK/corpus")
# The report section: one beat a second.
sed -i 's|^  "log": {|  "report": {"heartbeat_seconds": 1},\n  "log": {|' "$CFG"
grep -q '"heartbeat_seconds": 1' "$CFG" || it_fail "could not add the report section to $CFG"

AGENT_PIDFILE=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PIDFILE")
LIGHTBOX_AGENT_TOKEN=$TOK lb_start lightbox-agent "$AGENT_PIDFILE" "$WORK/logs/agent.log" \
  "$AGENT" run --config "$CFG"

agent_field() {  # agent_field JQ_FILTER — over this agent's entry of GET /api/v1/agents
  it_api "$TOK" GET /api/v1/agents >"$WORK/code" || true
  [ "$(cat "$WORK/code")" = 200 ] || { echo "http-$(cat "$WORK/code")"; return 0; }
  jq -r --arg a agent-hb ".agents[] | select(.agent == \$a) | $1" "$WORK/body"
}
wait_for() {  # wait_for SECONDS WHAT CMD... — polls CMD every 0.25 s until it succeeds
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq $(( secs * 4 ))); do
    if "$@"; then return 0; fi
    sleep 0.25
  done
  it_fail "$what within ${secs}s (last: $(jq -c . "$WORK/body" 2>/dev/null | head -c 800))"
}
healthy_and_drained() {
  [ "$(agent_field .status)" = healthy ] && [ "$(agent_field .backlog_bytes)" = 0 ] &&
    [ "$(agent_field '.queue.done // 0')" -gt 0 ]
}
wait_for 60 "agent healthy with its corpus uploaded" healthy_and_drained
it_note "healthy: queue $(agent_field '.queue | tojson'), spool free $(agent_field .spool_free_bytes) B"
off=$(agent_field .clock_offset_s)
awk -v o="$off" 'BEGIN{exit !(o > -5 && o < 5)}' || it_fail "clock offset $off s is implausible on one host"

# Latest beat and history of one agent.
it_eq "$(it_api "$TOK" GET /api/v1/agents/agent-hb)" 200 "GET /api/v1/agents/agent-hb"
it_eq "$(jq -r '.latest.config_sha256' "$WORK/body")" "$(it_sha "$CFG")" "config digest of the latest beat"
[ "$(jq -r '.last_24h.beats' "$WORK/body")" -ge 2 ] || it_fail "fewer than 2 beats in the 24 h summary"
[ "$(jq -r '.latest.process.rss_bytes' "$WORK/body")" -gt 0 ] || it_fail "no agent RSS in the latest beat"

# A source error: the folder disappears.
mv "$WORK/corpus" "$WORK/corpus.gone"
degraded_by_source() {
  [ "$(agent_field .status)" = degraded ] && agent_field '.reasons[]' | grep -q "source error: images"
}
wait_for 20 "agent degraded by its missing folder" degraded_by_source
it_note "degraded: $(agent_field '.reasons | join("; ")')"
mv "$WORK/corpus.gone" "$WORK/corpus"
back_healthy() { [ "$(agent_field .status)" = healthy ]; }
wait_for 20 "agent healthy again once the folder is back" back_healthy

# Stopped: offline after 3 intervals (3 s) without a beat, not before the first one is missed.
lb_stop "$AGENT_PIDFILE" TERM 30
it_eq "${LB_STOP_RC:-0}" 0 "agent exit code after SIGTERM"
stopped_at=$(lb_now)
offline() { [ "$(agent_field .status)" = offline ]; }
wait_for 15 "agent offline after SIGTERM" offline
took=$(lb_elapsed "$stopped_at")
awk -v t="$took" 'BEGIN{exit !(t >= 1.5)}' || it_fail "offline after only ${took}s (3 intervals are 3 s)"
it_note "offline ${took}s after the stop"

# /metrics: no credential, Prometheus text, aggregate only.
it_eq "$(it_api "" GET /metrics)" 200 "GET /metrics without a credential"
bad=$(grep -v '^#' "$WORK/body" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.eE+-]+$' || true)
[ -z "$bad" ] || it_fail "not Prometheus text: $bad"
grep -q '^lightbox_hub_agents{status="offline"} 1$' "$WORK/body" || it_fail "metrics do not count the offline agent"
objects=$(awk '$1 == "lightbox_hub_objects_stored" {print $2}' "$WORK/body")
[ "${objects:-0}" -gt 0 ] || it_fail "lightbox_hub_objects_stored is '${objects:-}'"
grep -q agent-hb "$WORK/body" && it_fail "/metrics names an agent"

it_pass "healthy -> degraded (missing folder) -> healthy -> offline; /metrics is Prometheus text"
