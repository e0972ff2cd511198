#!/usr/bin/env bash
# install_service — `lightbox-agent install-service --unit-dir DIR` writes the packaged unit with
# ExecStart = this binary (absolute) + the given config and User/Group set; systemd-analyze verify
# accepts it (when installed); uninstall-service removes it. No real systemd is touched: with
# --unit-dir, systemctl is never run.
set -euo pipefail
# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

UNITS=$WORK/units
mkdir -p "$UNITS" "$WORK/etc"
CFG=$WORK/etc/agent.jsonc
echo '{}' >"$CFG"
AGENT_ABS=$(readlink -f "$AGENT")
UNIT=$UNITS/lightbox-agent.service

# A relative --config must come out absolute.
( cd "$WORK" && "$AGENT" install-service --unit-dir "$UNITS" --config etc/agent.jsonc --user lightbox ) \
  >"$WORK/install.out" 2>&1 || { cat "$WORK/install.out" >&2; it_fail "install-service failed"; }
[ -f "$UNIT" ] || it_fail "no $UNIT"
it_note "unit written"

expect_line() {  # expect_line LINE — an exact line of the unit
  grep -qxF -- "$1" "$UNIT" || { cat "$UNIT" >&2; it_fail "unit lacks the line: $1"; }
  it_note "has: $1"
}
expect_line "ExecStart=$AGENT_ABS run --config $CFG"
expect_line "User=lightbox"
case "$AGENT_ABS" in /*) ;; *) it_fail "binary path is not absolute: $AGENT_ABS" ;; esac
grep -q '^Group=.' "$UNIT" || it_fail "no Group="
for l in Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
         "ReadWritePaths=/var/lib/lightbox/agent /var/log/lightbox" CapabilityBoundingSet= \
         SystemCallFilter=@system-service UMask=0027 WantedBy=multi-user.target; do
  expect_line "$l"
done
# One source of truth: apart from the header comment, ExecStart, User and Group, the unit is the
# packaged one byte for byte.
diff <(grep -v '^#' "$LB_ROOT/installer/systemd/lightbox-agent.service" | grep -Ev '^(ExecStart|User|Group)=') \
     <(grep -v '^#' "$UNIT" | grep -Ev '^(ExecStart|User|Group)=') >"$WORK/diff.out" \
  || { cat "$WORK/diff.out" >&2; it_fail "unit differs from installer/systemd/lightbox-agent.service"; }
it_note "same as the packaged unit apart from ExecStart, User, Group"
grep -q 'systemctl daemon-reload' "$WORK/install.out" || it_fail "install-service did not say what to run"
[ "$(stat -c %a "$UNIT")" = 644 ] || it_fail "unit mode is $(stat -c %a "$UNIT"), not 644"

# A config path with a space is quoted for systemd.
mkdir -p "$WORK/my etc" && echo '{}' >"$WORK/my etc/agent.jsonc"
"$AGENT" install-service --unit-dir "$UNITS" --config "$WORK/my etc/agent.jsonc" --user lightbox >/dev/null 2>&1 \
  || it_fail "install-service (path with a space) failed"
expect_line "ExecStart=$AGENT_ABS run --config \"$WORK/my etc/agent.jsonc\""
"$AGENT" install-service --unit-dir "$UNITS" --config "$CFG" --user lightbox >/dev/null 2>&1 \
  || it_fail "install-service (again) failed"

if command -v systemd-analyze >/dev/null; then
  # verify exits 0 even on unknown keys or bad values: any output counts as a failure.
  out=$(cd "$WORK" && systemd-analyze verify "$UNIT" 2>&1) && rc=0 || rc=$?
  if [ "$rc" != 0 ] || [ -n "$out" ]; then it_fail "systemd-analyze verify (rc $rc): $out"; fi
  it_note "systemd-analyze verify accepts it"
else
  it_note "SKIPPED systemd-analyze verify: systemd-analyze not found (Debian package systemd)"
fi

"$AGENT" uninstall-service --unit-dir "$UNITS" >"$WORK/uninstall.out" 2>&1 \
  || { cat "$WORK/uninstall.out" >&2; it_fail "uninstall-service failed"; }
[ ! -e "$UNIT" ] || it_fail "uninstall-service left $UNIT"
it_note "uninstall-service removed it"
"$AGENT" uninstall-service --unit-dir "$UNITS" >"$WORK/uninstall2.out" 2>&1 || it_fail "uninstall-service twice fails"
grep -q 'not installed' "$WORK/uninstall2.out" || it_fail "second uninstall did not say 'not installed'"
[ -f "$CFG" ] || it_fail "uninstall-service removed the config"
it_pass
