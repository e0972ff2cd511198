#!/usr/bin/env bash
# network — the agent and the hub in two network namespaces that this test creates, joined by a
# veth pair (10.250.N.1/30 agent side, 10.250.N.2/30 hub side; N from the test's pid). Traffic
# never leaves these namespaces. The agent reaches the hub through lightbox-fault-proxy, which
# runs in the agent's namespace on its loopback (so the TLS name stays 127.0.0.1) and forwards
# over the veth. While files keep arriving and the agent (one `run`, never restarted) uploads:
#   1. nftables in the hub's namespace drops 5 % of packets at random (numgen random mod 100 < 5)
#   2. a partition: nftables drops everything for FAULT_PARTITION_SECONDS (default 20 s; the
#      issue asks for 60 s — shortened for the CI budget of 8 minutes for all fault tests; the
#      agent's behaviour does not change after its retry cap of 4 s, and 60 s runs with
#      FAULT_PARTITION_SECONDS=60)
#   3. the hub killed and down for FAULT_HUB_DOWN_SECONDS (default 10 s), then restarted
#   4. the proxy adds 300 ms latency each way and a 4 Mbit/s link, and cuts every connection twice
# Uploads must resume on their own; at the end conservation holds. Skips (77) without root,
# `ip netns` or `nft`.
set -euo pipefail
# shellcheck source=tests/fault/fault_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/fault_lib.sh"

[ "$(id -u)" = 0 ] || fault_skip "needs root for ip netns"
command -v ip >/dev/null || fault_skip "ip (iproute2) is not installed"
command -v nft >/dev/null || fault_skip "nft (nftables) is not installed"
[ -x "$PROXY" ] || fault_skip "lightbox-fault-proxy is not built"
PARTITION=${FAULT_PARTITION_SECONDS:-20}
HUB_DOWN=${FAULT_HUB_DOWN_SECONDS:-10}
N=$(( $$ % 250 + 1 ))
NS_A=lbf-agent-$$ NS_H=lbf-hub-$$
IP_A=10.250.$N.1 IP_H=10.250.$N.2
ip netns add "$NS_A" || fault_skip "cannot create a network namespace"
fault_on_exit "ip netns del $NS_A"
ip netns add "$NS_H"
fault_on_exit "ip netns del $NS_H"
ip link add "lbfa$N" netns "$NS_A" type veth peer name "lbfh$N" netns "$NS_H"
ip -n "$NS_A" addr add "$IP_A/30" dev "lbfa$N"
ip -n "$NS_H" addr add "$IP_H/30" dev "lbfh$N"
for ns in "$NS_A" "$NS_H"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set "lbfa$N" up
ip -n "$NS_H" link set "lbfh$N" up
ip -n "$NS_A" neigh flush all 2>/dev/null || true
ip netns exec "$NS_H" nft add table inet lbfault
ip netns exec "$NS_H" nft add chain inet lbfault in '{ type filter hook input priority 0; policy accept; }'
ip netns exec "$NS_H" nft add chain inet lbfault out '{ type filter hook output priority 0; policy accept; }'
nft_set() {  # nft_set none|loss|partition
  ip netns exec "$NS_H" nft flush chain inet lbfault in
  ip netns exec "$NS_H" nft flush chain inet lbfault out
  case $1 in
    loss)
      ip netns exec "$NS_H" nft add rule inet lbfault in iifname "lbfh$N" numgen random mod 100 '<' 5 counter drop
      ip netns exec "$NS_H" nft add rule inet lbfault out oifname "lbfh$N" numgen random mod 100 '<' 5 counter drop ;;
    partition)
      ip netns exec "$NS_H" nft add rule inet lbfault in iifname "lbfh$N" counter drop
      ip netns exec "$NS_H" nft add rule inet lbfault out oifname "lbfh$N" counter drop ;;
  esac
}
nft_dropped() { ip netns exec "$NS_H" nft list table inet lbfault | awk '/counter packets/ {for (i = 1; i <= NF; i++) if ($i == "packets") s += $(i + 1)} END {print s + 0}'; }

IT_HUB_LOG_LEVEL=debug
it_corpus "$WORK/stage" --ct-slices 120 --odd --rows 256 --cols 256 --seed 81
rm -f "$WORK/stage/odd/manifest.json"
fault_manifest "$WORK/stage" "$WORK/manifest.txt"
it_write_hub_config
sed -i "s/\"address\": \"127.0.0.1\"/\"address\": \"$IP_H\"/" "$HUB_CONFIG"
HUB_PIDFILE=$WORK/run/hub.pid
IT_PIDS+=("$HUB_PIDFILE")
start_hub_ns() {
  lb_start lightbox-hub "$HUB_PIDFILE" "$WORK/logs/hub.log" ip netns exec "$NS_H" "$HUB" serve --config "$HUB_CONFIG"
  for _ in $(seq 100); do
    ip netns exec "$NS_H" curl -fsS -k --max-time 1 "https://$IP_H:$HUB_PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  it_fail "hub did not start in its namespace"
}
start_hub_ns
TOKEN=$(it_new_agent hosp-n agent-n)
export LIGHTBOX_AGENT_TOKEN=$TOKEN
PROXY_PORT=$(lb_free_port)
PROXY_PIDFILE=$WORK/run/proxy.pid
IT_PIDS+=("$PROXY_PIDFILE")
start_proxy() {
  lb_start fault-proxy "$PROXY_PIDFILE" "$WORK/logs/proxy.log" ip netns exec "$NS_A" "$PROXY" \
    --listen "127.0.0.1:$PROXY_PORT" --target "$IP_H:$HUB_PORT" "$@"
  for _ in $(seq 50); do ip netns exec "$NS_A" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PROXY_PORT" 2>/dev/null && return 0; sleep 0.1; done
  it_fail "proxy did not start"
}
start_proxy
CFG=$WORK/agent.jsonc
mkdir -p "$WORK/src"
fault_agent_config "$CFG" agent-n "$WORK/agent-data" "https://127.0.0.1:$PROXY_PORT" \
  "[$(fault_folder_source img "$WORK/src" delete)]" '{"upload":{"bandwidth":{"default_mbps":6}}}'
AGENT_PID=$WORK/run/agent.pid
IT_PIDS+=("$AGENT_PID")
lb_start lightbox-agent "$AGENT_PID" "$WORK/logs/agent.log" ip netns exec "$NS_A" "$AGENT" run --config "$CFG"

mapfile -t PENDING < <(cd "$WORK/stage" && find . -type f | sort)
quarter=$(( (${#PENDING[@]} + 3) / 4 ))
arrive() {  # arrive K — the K-th quarter of the corpus arrives at the source
  local f
  for f in "${PENDING[@]:$(( $1 * quarter )):$quarter}"; do
    mkdir -p "$WORK/src/$(dirname "$f")"
    cp "$WORK/stage/$f" "$WORK/src/$f.tmp" && mv "$WORK/src/$f.tmp" "$WORK/src/$f"
  done
}
retries() { grep -c 'upload will be retried' "$WORK/logs/agent.log" || true; }
done_count() { sqlite3 -readonly "$WORK/agent-data/queue.db" "SELECT COUNT(*) FROM items WHERE state='done'" 2>/dev/null || echo 0; }

arrive 0
sleep 1
d0=$(done_count) r0=$(retries)
nft_set loss
it_note "phase 1: 5 % random loss for 12 s (done before: $d0)"
sleep 12
loss_drops=$(nft_dropped)
nft_set none
d1=$(done_count) r1=$(retries)
it_note "  packets dropped: $loss_drops; items done during the loss: $((d1 - d0))"

arrive 1
sleep 2
nft_set partition
it_note "phase 2: partition for $PARTITION s"
sleep "$PARTITION"
part_drops=$(nft_dropped)
nft_set none
d2=$(done_count) r2=$(retries)
it_note "  packets dropped: $part_drops; retries logged during the partition: $((r2 - r1))"

arrive 2
sleep 2
it_stop_hub KILL 5
it_note "phase 3: hub killed (-9) and down for $HUB_DOWN s"
sleep "$HUB_DOWN"
start_hub_ns
d3=$(done_count) r3=$(retries)
it_note "  retries logged while the hub was down: $((r3 - r2))"

arrive 3
lb_stop "$PROXY_PIDFILE" TERM 5
start_proxy --latency-ms 300 --rate-kbps 4000
it_note "phase 4: 300 ms latency each way, 4 Mbit/s link, two connection cuts"
sleep 4
kill -USR1 "$(cat "$PROXY_PIDFILE")"
sleep 4
kill -USR1 "$(cat "$PROXY_PIDFILE")"
sleep 4
d4=$(done_count)
it_note "  items done through the slow link: $((d4 - d3))"
lb_stop "$PROXY_PIDFILE" TERM 5
start_proxy
total=$(wc -l <"$WORK/manifest.txt")
settled=0
for _ in $(seq 240); do
  if "$AGENT" status --config "$CFG" --json >"$WORK/st.json" 2>/dev/null &&
    [ "$(jq '.queue.collected + .queue.verified + .queue.uploading' "$WORK/st.json")" = 0 ] &&
    [ "$(sqlite3 -readonly "$WORK/agent-data/queue.db" "SELECT COUNT(*) FROM items WHERE kind != 'records'")" -ge "$total" ]; then
    settled=1
    break
  fi
  sleep 0.5
done
[ "$settled" = 1 ] || it_fail "uploads did not resume and finish on their own"
it_note "all $total files settled without an agent restart"
lb_stop "$AGENT_PID" TERM 20
lb_stop "$PROXY_PIDFILE" TERM 5
it_stop_hub TERM 20
# Check from the host: the same hub data, served on 127.0.0.1.
sed -i "s/\"address\": \"$IP_H\"/\"address\": \"127.0.0.1\"/" "$HUB_CONFIG"
it_start_hub
fault_hub_integrity
fault_conservation "$CFG" "$TOKEN" "$WORK/manifest.txt"
faults="loss(${loss_drops} pkts) partition(${PARTITION}s, ${part_drops} pkts) hub-down(${HUB_DOWN}s) latency300ms+4Mbit+2cuts"
fault_figure faults "\"$faults\""
fault_figure retries "$(retries)"
fault_figure items "$FAULT_ITEMS"
fault_figure lost "$FAULT_LOST"
fault_figure duplicates "$FAULT_DUPLICATES"
it_pass "$faults: $FAULT_ITEMS items, $(retries) retries, lost 0, duplicates 0"
