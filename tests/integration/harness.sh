#!/usr/bin/env bash
# harness.sh — sourced by every integration test. Gives each test its own temp dir, a TLS CA,
# a free port on 127.0.0.1, a real `lightbox-hub serve`, agents with tokens, and assertions.
# Binaries come from ctest's environment (LIGHTBOX_HUB, LIGHTBOX_AGENT, LIGHTBOX_CORPUS), else
# from $BUILD_DIR (default ./build). Everything it starts is stopped on exit; the temp dir is
# removed when the test passes and kept (path printed) when it fails.
# shellcheck shell=bash
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$IT_DIR/../../scripts/lib.sh"

IT_NAME=${IT_NAME:-$(basename "$0" .sh)}
BUILD_DIR=${BUILD_DIR:-$LB_ROOT/build}

it_find_bin() {  # it_find_bin VAR NAME — resolves a binary from env or the build tree
  local var=$1 name=$2 path=${!1:-}
  if [ -z "$path" ] || [ ! -x "$path" ]; then
    path=$(find "$BUILD_DIR" -type f -name "$name" -perm -u+x 2>/dev/null | head -1 || true)
  fi
  if [ -z "$path" ] || [ ! -x "$path" ]; then
    echo "FAIL $IT_NAME: $name not built (set $var)" >&2
    exit 1
  fi
  printf -v "$var" '%s' "$path"
  export "${var?}"
}
it_find_bin LIGHTBOX_HUB lightbox-hub
it_find_bin LIGHTBOX_AGENT lightbox-agent
it_find_bin LIGHTBOX_CORPUS lightbox-corpus
HUB=$LIGHTBOX_HUB AGENT=$LIGHTBOX_AGENT CORPUS=$LIGHTBOX_CORPUS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lb-it-$IT_NAME.XXXXXX")
IT_PIDS=()        # pidfiles to stop on exit
IT_OK=0
export TCP_NODELAY=1
export LB_WATCHDOG=1   # daemons die with this shell even if it is SIGKILLed (ctest timeout)

it_cleanup() {
  local rc=$? f
  for f in "${IT_PIDS[@]+"${IT_PIDS[@]}"}"; do lb_stop "$f" TERM 20 || true; done
  if [ "$IT_OK" = 1 ] && [ "$rc" = 0 ] && [ "${LB_KEEP_WORK:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "--- $IT_NAME: work dir kept: $WORK" >&2
    for f in "$WORK"/logs/*.log; do
      [ -s "$f" ] || continue
      echo "--- tail $f" >&2
      tail -n 25 "$f" >&2
    done
  fi
  exit "$rc"
}
trap it_cleanup EXIT

it_fail() { echo "FAIL $IT_NAME: $*" >&2; exit 1; }
it_note() { echo "  - $*"; }
it_pass() { IT_OK=1; echo "PASS $IT_NAME${1:+: $1}"; }
it_eq() {  # it_eq ACTUAL EXPECTED WHAT
  [ "$1" = "$2" ] || it_fail "$3: expected '$2', got '$1'"
  it_note "$3 = $1"
}

mkdir -p "$WORK/logs" "$WORK/run"
lb_make_tls "$WORK/tls" >/dev/null
CA=$WORK/tls/ca.crt

# it_write_hub_config [GRACE_SECONDS] — $WORK/hub.jsonc on a fresh free port.
it_write_hub_config() {
  HUB_PORT=$(lb_free_port)
  HUB_URL=https://127.0.0.1:$HUB_PORT
  HUB_DATA=$WORK/hub-data
  HUB_CONFIG=$WORK/hub.jsonc
  mkdir -p "$HUB_DATA"
  LB_HUB_GRACE=${1:-20} lb_write_hub_config "$HUB_CONFIG" "$HUB_PORT" "$HUB_DATA" "$WORK/tls" \
    "${IT_HUB_LOG_LEVEL:-info}"
}

# it_start_hub — serve in the background (log $WORK/logs/hub.log), wait for /healthz.
it_start_hub() {
  [ -n "${HUB_CONFIG:-}" ] || it_write_hub_config
  HUB_PIDFILE=$WORK/run/hub.pid
  IT_PIDS+=("$HUB_PIDFILE")
  lb_start lightbox-hub "$HUB_PIDFILE" "$WORK/logs/hub.log" "$HUB" serve --config "$HUB_CONFIG"
  lb_wait_healthz "$HUB_URL" "$CA" 30 || it_fail "hub did not answer /healthz on $HUB_URL"
}

# it_stop_hub [SIGNAL] [SECONDS] — sets LB_STOP_RC.
it_stop_hub() { lb_stop "$HUB_PIDFILE" "${1:-TERM}" "${2:-20}"; }

it_admin() { "$HUB" admin --config "$HUB_CONFIG" "$@"; }

# it_new_agent INSTITUTION AGENT_ID — creates both (institution idempotently), prints the token.
it_new_agent() {
  it_admin create-institution --id "$1" --name "Institution $1" >/dev/null
  it_admin create-agent --institution "$1" --agent "$2"
}

# it_agent_config AGENT_ID SOURCE_DIR [CONCURRENCY] — writes $WORK/AGENT_ID.jsonc, prints its path.
it_agent_config() {
  local f=$WORK/$1.jsonc
  lb_write_agent_config "$f" "$1" "$WORK/agent-$1" "$HUB_URL" "$CA" "$2" "${3:-4}" 1
  echo "$f"
}

# it_corpus DIR [args...] — generates a corpus, keeps its JSON summary in DIR.summary.json.
it_corpus() {
  local dir=$1
  shift
  "$CORPUS" "$dir" "$@" >"$dir.summary.json" 2>"$WORK/logs/corpus.log" || it_fail "lightbox-corpus failed"
}

# it_status CONFIG FILE — agent status --json into FILE.
it_status() { "$AGENT" status --config "$1" --json >"$2" || it_fail "agent status failed"; }

# it_hub_puts STATUS — PUT requests the hub logged with that status (needs IT_HUB_LOG_LEVEL=debug).
it_hub_puts() {
  jq -R --argjson s "$1" 'fromjson? | select(.msg == "request" and .method == "PUT" and .status == $s)' \
    "$WORK/logs/hub.log" | grep -c '"status"' || true
}

# it_api TOKEN METHOD PATH [curl args...] — prints the HTTP code; body goes to $WORK/body.
it_api() {
  local token=$1 method=$2 path=$3
  shift 3
  local -a auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  curl -sS --cacert "$CA" -o "$WORK/body" -w '%{http_code}' -X "$method" \
    "${auth[@]+"${auth[@]}"}" "$@" "$HUB_URL$path"
}

# it_sha FILE — lowercase hex SHA-256.
it_sha() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
