#!/usr/bin/env bash
# check_config — `check` names the full path of every bad key and exits 1; the shipped examples
# (config/*.example.jsonc, with their file paths pointed at this test's temp dir) pass.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

mkdir -p "$WORK/src"
it_write_hub_config

expect_fail() {  # expect_fail WHAT OUTFILE cmd... — must exit 1 (not 0, not a crash)
  local what=$1 out=$2 rc=0
  shift 2
  "$@" >"$out" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$out" >&2; it_fail "$what: expected exit 1, got $rc"; }
  it_note "$what exits 1"
}
expect_mention() {  # expect_mention OUTFILE TEXT
  grep -qF -- "$2" "$1" || { cat "$1" >&2; it_fail "output does not name '$2'"; }
  it_note "names '$2'"
}

# --- agent: an unknown key and stable_seconds 0 in sources[0].
export LIGHTBOX_AGENT_TOKEN=lbt_0000000000000000000000000000000000000000000000000000000000000000
BAD=$WORK/agent-bad.jsonc
lb_write_agent_config "$BAD" agent-x "$WORK/agent-x" "$HUB_URL" "$CA" "$WORK/src" 4 0
sed -i 's/"after_upload": "keep"/"after_upload": "keep", "colour": "blue"/' "$BAD"
grep -q '"colour"' "$BAD" || it_fail "test setup: could not add the unknown key"
expect_fail "agent check (bad config)" "$WORK/agent-bad.out" "$AGENT" check --config "$BAD"
expect_mention "$WORK/agent-bad.out" "sources[0].stable_seconds"
expect_mention "$WORK/agent-bad.out" "sources[0].colour"
# The same problems stop `run` before it does anything.
expect_fail "agent run (bad config)" "$WORK/agent-run-bad.out" "$AGENT" run --once --config "$BAD"
expect_mention "$WORK/agent-run-bad.out" "sources[0].stable_seconds"
[ ! -e "$WORK/agent-x/queue.db" ] || it_fail "agent run created a queue despite a bad config"

# --- hub: an unknown key and a value of the wrong type.
HBAD=$WORK/hub-bad.jsonc
sed -e 's/"max_connections": 512/"max_connections": 512, "turbo": true/' \
    -e 's/"shutdown_grace_seconds": [0-9]*/"shutdown_grace_seconds": "soon"/' "$HUB_CONFIG" >"$HBAD"
grep -q '"turbo"' "$HBAD" || it_fail "test setup: could not add the unknown hub key"
expect_fail "hub check (bad config)" "$WORK/hub-bad.out" "$HUB" check --config "$HBAD"
expect_mention "$WORK/hub-bad.out" "limits.turbo"
expect_mention "$WORK/hub-bad.out" "shutdown_grace_seconds"
expect_fail "hub serve (bad config)" "$WORK/hub-serve-bad.out" "$HUB" serve --config "$HBAD"

# --- hub: a good config passes; a missing certificate does not.
"$HUB" check --config "$HUB_CONFIG" >"$WORK/hub-ok.out" 2>&1 || { cat "$WORK/hub-ok.out"; it_fail "hub check on a good config"; }
expect_mention "$WORK/hub-ok.out" "config OK"
sed 's#server.crt#missing.crt#' "$HUB_CONFIG" >"$WORK/hub-nocert.jsonc"
expect_fail "hub check (missing cert file)" "$WORK/hub-nocert.out" "$HUB" check --config "$WORK/hub-nocert.jsonc"

# --- the shipped examples: point file paths at this test's dir, then check must pass.
point_paths() {  # point_paths IN OUT — rewrites "key": "value" for the file/dir keys
  sed -E \
    -e "s#(\"cert_file\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"#\1\"$WORK/tls/server.crt\"#" \
    -e "s#(\"key_file\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"#\1\"$WORK/tls/server.key\"#" \
    -e "s#(\"ca_file\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"#\1\"$CA\"#" \
    -e "s#(\"data_dir\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"#\1\"$WORK/example-data\"#" \
    -e "s#(\"path\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"#\1\"$WORK/src\"#" \
    -e "s#(\"move_to\"[[:space:]]*:[[:space:]]*)\"[^\"]*\"#\1\"$WORK/moved\"#" \
    -e "s#(\"url\"[[:space:]]*:[[:space:]]*)\"https://[^\"]*\"#\1\"$HUB_URL\"#" \
    -e "s#(\"port\"[[:space:]]*:[[:space:]]*)[0-9]+#\1$HUB_PORT#" \
    -e "s#(\"file\"[[:space:]]*:[[:space:]]*)\"[^\"]+\"#\1\"$WORK/logs/example.log\"#" \
    "$1" >"$2"
}
mkdir -p "$WORK/example-data" "$WORK/moved"
examples=0
for ex in "$LB_ROOT"/config/*hub*.example.jsonc; do
  [ -f "$ex" ] || continue
  point_paths "$ex" "$WORK/$(basename "$ex")"
  "$HUB" check --config "$WORK/$(basename "$ex")" >"$WORK/ex.out" 2>&1 ||
    { cat "$WORK/ex.out"; it_fail "hub check on $(basename "$ex")"; }
  it_note "$(basename "$ex"): config OK"
  examples=$((examples + 1))
done
# The agent example reaches a hub: start one and give the example a real token.
it_start_hub
LIGHTBOX_AGENT_TOKEN=$(it_new_agent hosp-a agent-01)
export LIGHTBOX_AGENT_TOKEN
for ex in "$LB_ROOT"/config/*agent*.example.jsonc; do
  [ -f "$ex" ] || continue
  point_paths "$ex" "$WORK/$(basename "$ex")"
  rm -rf "$WORK/example-data"; mkdir -p "$WORK/example-data"
  "$AGENT" check --config "$WORK/$(basename "$ex")" >"$WORK/ex.out" 2>&1 ||
    { cat "$WORK/ex.out"; it_fail "agent check on $(basename "$ex")"; }
  grep -q '^OK' "$WORK/ex.out" || { cat "$WORK/ex.out"; it_fail "agent check printed no OK line"; }
  it_note "$(basename "$ex"): every check OK"
  examples=$((examples + 1))
done
[ "$examples" -ge 2 ] || it_fail "expected config/hub.example.jsonc and config/agent.example.jsonc, found $examples"

# --- agent check against a hub with a wrong token: FAIL line, exit 1.
GOOD=$(it_agent_config agent-01 "$WORK/src")
LIGHTBOX_AGENT_TOKEN=lbt_$(printf 'a%.0s' $(seq 64)) expect_fail "agent check (wrong token)" "$WORK/agent-tok.out" "$AGENT" check --config "$GOOD"
grep -q '^FAIL' "$WORK/agent-tok.out" || { cat "$WORK/agent-tok.out"; it_fail "no FAIL line for a wrong token"; }
"$AGENT" check --config "$GOOD" >"$WORK/agent-ok.out" 2>&1 || { cat "$WORK/agent-ok.out"; it_fail "agent check with a good token"; }
it_note "agent check passes with a good token and fails with a wrong one"

it_pass
