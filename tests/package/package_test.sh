#!/usr/bin/env bash
# package_test.sh BUILD_DIR — builds the lightbox-agent and lightbox-hub .deb packages with cpack
# from an already built tree and checks: their files, conffiles, maintainer scripts and Depends;
# an install into a throwaway root (dpkg --root ... --force-script-chrootless) with the user, the
# directories and their modes; `check` on the packaged configs; `systemd-analyze verify` and
# `security` on the installed units; upgrade, remove, reinstall and purge; and the maintainer
# scripts once more without DPKG_ROOT, in a private mount namespace. The real system is not changed.
# Exit 0 = all passed, 1 = a check failed, 77 = a needed tool is missing (ctest shows SKIP).
# Env: KEEP=1 keeps the work directory; LIGHTBOX_PKG_<AGENT|HUB>_DEPENDS overrides the packages
# each Depends must name (space separated).
set -uo pipefail

build_dir=${1:?usage: package_test.sh BUILD_DIR}
build_dir=$(cd "$build_dir" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root: dpkg --root must chown files to the lightbox user"
for tool in cpack:cmake dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev systemd-analyze:systemd \
            systemctl:systemd useradd:passwd readelf:binutils; do
  command -v "${tool%%:*}" >/dev/null || skip "${tool%%:*} not found (Debian package ${tool##*:})"
done
[ -f "$build_dir/CPackConfig.cmake" ] || { echo "FAIL: no $build_dir/CPackConfig.cmake"; exit 1; }

passed=0
failed=0
ok()    { echo "ok - $*"; passed=$((passed + 1)); }
fail()  { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

work=$(mktemp -d /tmp/lightbox-package.XXXXXX)
cleanup() {
  if [ "${KEEP:-0}" = 1 ] || [ "$failed" != 0 ]; then echo "# work directory kept: $work"
  else rm -rf "$work"; fi
}
trap cleanup EXIT
root=$work/root
log=$work/dpkg.log

# --- build the packages ----------------------------------------------------------------------
echo "# cpack -G DEB (build dir $build_dir)"
if ! cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"; echo "FAIL - cpack"; exit 1
fi
deb() { find "$work/out" -maxdepth 1 -name "$1_*.deb" | head -n 1; }
agent_deb=$(deb lightbox-agent)
hub_deb=$(deb lightbox-hub)
if [ -z "$agent_deb" ] || [ -z "$hub_deb" ]; then ls "$work/out"; echo "FAIL - packages not built"; exit 1; fi
ok "cpack built $(basename "$agent_deb") and $(basename "$hub_deb")"

# --- package contents ------------------------------------------------------------------------
field() { dpkg-deb -f "$1" "$2"; }
# The package that ships the shared library NAME on this machine (what shlibdeps must name).
lib_package() {
  local path
  path=$(ldconfig -p | awk -v n="$1" '$1 == n && /x86-64|x86_64|64bit/ { print $NF; exit }')
  [ -n "$path" ] || path=$(ldconfig -p | awk -v n="$1" '$1 == n { print $NF; exit }')
  # dpkg may know the library under /lib or /usr/lib (merged /usr): try each spelling.
  local p owner
  for p in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr${path#/usr}"; do
    owner=$(dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1)
    [ -n "$owner" ] && { echo "$owner"; return; }
  done
}
depends_names() { field "$1" Depends | tr ',' '\n' | sed 's/^ *//; s/[ (|].*//'; }

for comp in agent hub; do
  pkg=lightbox-$comp
  file=$(deb "$pkg")
  contents=$(dpkg-deb -c "$file" | awk '{ print $NF }')
  for path in ./usr/bin/$pkg ./etc/lightbox/$comp.jsonc ./lib/systemd/system/$pkg.service \
              ./usr/share/doc/$pkg/README.md; do
    check "$pkg ships ${path#.}" grep -qxF "$path" <<<"$contents"
  done
  check "$pkg conffiles lists /etc/lightbox/$comp.jsonc" \
    test "$(dpkg-deb --ctrl-tarfile "$file" | tar -xOf - ./conffiles)" = "/etc/lightbox/$comp.jsonc"
  for script in postinst prerm postrm; do
    check "$pkg has an executable $script" \
      bash -c "dpkg-deb -I '$file' | grep -Eq '^ +[0-9]+ bytes, +[0-9]+ lines +\\* +$script '"
  done
  names=$(depends_names "$file")
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$comp")
  var=LIGHTBOX_PKG_${upper}_DEPENDS
  if [ "$comp" = agent ]; then default="passwd libc6 libstdc++6 libssl3 libsqlite3-0 libdcmtk17 libcurl4"
  else default="passwd libc6 libstdc++6 libssl3 libsqlite3-0 libdcmtk17"; fi
  for need in ${!var:-$default}; do
    check "$pkg Depends names $need" grep -qxF "$need" <<<"$names"
  done
  # Every library the binary links (NEEDED) must be covered by a Depends entry.
  dpkg-deb -x "$file" "$work/x-$comp"
  for lib in $(readelf -d "$work/x-$comp/usr/bin/$pkg" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    owner=$(lib_package "$lib")
    owner=${owner%%:*}
    if [ -z "$owner" ]; then fail "$pkg: no Debian package found for NEEDED $lib"; continue; fi
    check "$pkg Depends covers $lib ($owner)" grep -qxF "$owner" <<<"$names"
  done
  echo "# $pkg Depends: $(field "$file" Depends)"
done

# --- a throwaway root for dpkg --root --------------------------------------------------------
mkdir -p "$root"/var/lib/dpkg/{info,updates,triggers} "$root"/var/log "$root"/etc "$root"/bin
touch "$root/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\n' >"$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
[ -f /etc/login.defs ] && cp /etc/login.defs "$root/etc/login.defs"

# Library packages are not in the root, hence --force-depends; maintainer scripts run on the
# host with DPKG_ROOT set (--force-script-chrootless), so they need no shell inside the root.
dpkg_root() {
  dpkg --root="$root" --force-script-chrootless --force-depends --force-confdef --force-confold \
    "$@" >>"$log" 2>&1 </dev/null
}

uid_of() { grep "^$1:" "$root/etc/passwd" | cut -d: -f3; }
gid_of() { grep "^$1:" "$root/etc/group" | cut -d: -f3; }
# owner_mode PATH -> "uid:gid mode" (numbers: the root's ids are not the host's)
owner_mode() { stat -c '%u:%g %a' "$root$1"; }
status_of() { dpkg-query --root="$root" -W -f='${db:Status-Status}' "$1" 2>/dev/null; }

echo "# dpkg --root=$root -i (fresh install)"
check "install both packages" dpkg_root -i "$agent_deb" "$hub_deb"
check "both packages installed" test "$(status_of lightbox-agent) $(status_of lightbox-hub)" = "installed installed"
for path in /usr/bin/lightbox-agent /usr/bin/lightbox-hub /etc/lightbox/agent.jsonc \
            /etc/lightbox/hub.jsonc /lib/systemd/system/lightbox-agent.service \
            /lib/systemd/system/lightbox-hub.service; do
  check "installed $path" test -f "$root$path"
done
check "user lightbox exists, no login shell" \
  grep -qE '^lightbox:x:[0-9]+:[0-9]+:[^:]*:/var/lib/lightbox:/usr/sbin/nologin$' "$root/etc/passwd"
check "group lightbox exists" grep -q '^lightbox:' "$root/etc/group"
uid=$(uid_of lightbox)
gid=$(gid_of lightbox)
check "lightbox is a system user (uid $uid < 1000)" test "${uid:-1000}" -lt 1000
check "/etc/lightbox is root:lightbox 0750" test "$(owner_mode /etc/lightbox)" = "0:$gid 750"
for d in /var/lib/lightbox/agent /var/lib/lightbox/hub /var/log/lightbox; do
  check "$d is lightbox:lightbox 0750" test "$(owner_mode "$d")" = "$uid:$gid 750"
done
check "packaged agent config points at /var/lib/lightbox/agent" \
  grep -q '"data_dir": "/var/lib/lightbox/agent"' "$root/etc/lightbox/agent.jsonc"
check "packaged hub config points at /var/lib/lightbox/hub" \
  grep -q '"data_dir": "/var/lib/lightbox/hub"' "$root/etc/lightbox/hub.jsonc"

# The packaged configs are valid for the packaged programs: `check` with the root's paths put
# under $root (the programs run on the host), a throwaway TLS pair, and an unreachable hub.
if command -v openssl >/dev/null; then
  mkdir -p "$work/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/tls/hub.key" -out "$work/tls/hub.crt" \
    -subj /CN=localhost -days 2 >/dev/null 2>&1
  sed "s|\"/var/lib/lightbox/|\"$root/var/lib/lightbox/|; s|/etc/lightbox/tls/|$work/tls/|g" \
    "$root/etc/lightbox/hub.jsonc" >"$work/hub-check.jsonc"
  out=$("$root/usr/bin/lightbox-hub" check --config "$work/hub-check.jsonc" 2>&1); rc=$?
  if [ "$rc" = 0 ] && grep -qx 'config OK' <<<"$out"; then ok "lightbox-hub check accepts the packaged hub.jsonc"
  else fail "lightbox-hub check on the packaged hub.jsonc (rc $rc): $out"; fi
  sed "s|\"/var/lib/lightbox/|\"$root/var/lib/lightbox/|; s|/etc/lightbox/ca.pem|$work/tls/hub.crt|;
       s|https://127.0.0.1:8443|https://127.0.0.1:9|; s|\"/srv/pacs-export/ct\"|\"$work\"|" \
    "$root/etc/lightbox/agent.jsonc" >"$work/agent-check.jsonc"
  out=$(LIGHTBOX_AGENT_TOKEN=lbt_$(printf '0%.0s' $(seq 64)) timeout 60 \
        "$root/usr/bin/lightbox-agent" check --config "$work/agent-check.jsonc" 2>&1)
  if grep -q '^OK config' <<<"$out"; then ok "lightbox-agent check accepts the packaged agent.jsonc"
  else fail "lightbox-agent check on the packaged agent.jsonc: $out"; fi
else
  echo "# openssl not found: the packaged configs are not run through check"
fi

# --- systemd-analyze verify ------------------------------------------------------------------
# systemd 252: `verify --root` resolves the units' dependencies (sysinit.target, ...) and checks
# ExecStart/ExecReload binaries inside the root, so the root gets the host's systemd unit files
# (Debian's systemd package) and /bin/kill. verify exits 0 even on unknown keys or bad values,
# so any output at all counts as a failure.
cp -an /lib/systemd/system/. "$root/lib/systemd/system/"
cp /bin/kill "$root/bin/kill"
for unit in lightbox-agent.service lightbox-hub.service; do
  out=$( cd "$work" && systemd-analyze verify --root="$root" "$unit" 2>&1 ); rc=$?
  if [ "$rc" = 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $unit"
  else fail "systemd-analyze verify $unit (rc $rc): $out"; fi
  # Exposure score 0 (locked down) .. 10 (unprotected); the units score about 1.8-1.9.
  exposure=$(systemd-analyze security --offline=yes --root="$root" "$unit" 2>/dev/null \
             | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  check "systemd-analyze security $unit exposure ${exposure:-?} <= 2.5" \
    awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.5) }'
done

# --- upgrade keeps the config edit and the data ----------------------------------------------
echo '// site edit: kept across upgrades' >>"$root/etc/lightbox/agent.jsonc"
echo queued >"$root/var/lib/lightbox/agent/marker"
systemctl --root="$root" --quiet enable lightbox-agent.service >>"$log" 2>&1
check "enable makes the wants symlink" \
  test -L "$root/etc/systemd/system/multi-user.target.wants/lightbox-agent.service"

# Version 2 of the agent: same files, the packaged config changed too, so dpkg must keep the
# operator's edited copy (and put the new one beside it as .dpkg-dist).
rm -rf "$work/v2" && dpkg-deb -R "$agent_deb" "$work/v2"
version=$(field "$agent_deb" Version)
sed -i "s/^Version: .*/Version: ${version%-*}-99/" "$work/v2/DEBIAN/control"
echo '// changed in version 2' >>"$work/v2/etc/lightbox/agent.jsonc"
(cd "$work/v2" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | xargs -0 md5sum >DEBIAN/md5sums)
dpkg-deb --root-owner-group -b "$work/v2" "$work/lightbox-agent-v2.deb" >>"$log" 2>&1
check "upgrade the agent to ${version%-*}-99" dpkg_root -i "$work/lightbox-agent-v2.deb"
check "upgraded version installed" \
  test "$(dpkg-query --root="$root" -W -f='${Version}' lightbox-agent)" = "${version%-*}-99"
check "upgrade keeps the edited agent.jsonc" grep -q 'site edit' "$root/etc/lightbox/agent.jsonc"
check "upgrade leaves the new config as agent.jsonc.dpkg-dist" \
  grep -q 'changed in version 2' "$root/etc/lightbox/agent.jsonc.dpkg-dist"
check "upgrade keeps /var/lib/lightbox/agent/marker" grep -qx queued "$root/var/lib/lightbox/agent/marker"
check "upgrade keeps /etc/lightbox root:lightbox 0750" test "$(owner_mode /etc/lightbox)" = "0:$gid 750"
check "upgrade keeps /var/lib/lightbox/agent lightbox 0750" \
  test "$(owner_mode /var/lib/lightbox/agent)" = "$uid:$gid 750"
check "upgrade keeps the enable symlink" \
  test -L "$root/etc/systemd/system/multi-user.target.wants/lightbox-agent.service"
check "reinstalling the same version works" dpkg_root -i "$work/lightbox-agent-v2.deb"

# --- remove keeps data and config; reinstall finds them --------------------------------------
rm -f "$root/etc/lightbox/agent.jsonc.dpkg-dist"
check "remove lightbox-agent" dpkg_root -r lightbox-agent
check "removed: config-files state" test "$(status_of lightbox-agent)" = config-files
check "remove deletes the binary" test ! -e "$root/usr/bin/lightbox-agent"
check "remove deletes the unit" test ! -e "$root/lib/systemd/system/lightbox-agent.service"
check "remove disables the unit" \
  test ! -e "$root/etc/systemd/system/multi-user.target.wants/lightbox-agent.service"
check "remove keeps the edited config" grep -q 'site edit' "$root/etc/lightbox/agent.jsonc"
check "remove keeps the data" grep -qx queued "$root/var/lib/lightbox/agent/marker"
check "remove keeps the user" grep -q '^lightbox:' "$root/etc/passwd"
check "install again after remove" dpkg_root -i "$agent_deb"
check "reinstall keeps the edited config" grep -q 'site edit' "$root/etc/lightbox/agent.jsonc"
check "reinstall keeps the data" grep -qx queued "$root/var/lib/lightbox/agent/marker"
check "reinstall keeps the user's uid" test "$(uid_of lightbox)" = "$uid"

# --- purge -----------------------------------------------------------------------------------
echo hub-data >"$root/var/lib/lightbox/hub/marker"
check "purge lightbox-agent" dpkg_root -P lightbox-agent
check "purged: unknown to dpkg" bash -c "case '$(status_of lightbox-agent)' in ''|not-installed) ;; *) false;; esac"
check "purge deletes /var/lib/lightbox/agent" test ! -e "$root/var/lib/lightbox/agent"
check "purge deletes agent.jsonc" test ! -e "$root/etc/lightbox/agent.jsonc"
check "purge keeps the hub's data" grep -qx hub-data "$root/var/lib/lightbox/hub/marker"
check "purge keeps the user while lightbox-hub is installed" grep -q '^lightbox:' "$root/etc/passwd"
check "purge keeps /var/log/lightbox while lightbox-hub is installed" test -d "$root/var/log/lightbox"
check "purge lightbox-hub" dpkg_root -P lightbox-hub
check "last purge deletes /var/lib/lightbox" test ! -e "$root/var/lib/lightbox"
check "last purge deletes /var/log/lightbox" test ! -e "$root/var/log/lightbox"
check "last purge deletes /etc/lightbox" test ! -e "$root/etc/lightbox"
check "last purge deletes the user" bash -c "! grep -q '^lightbox:' '$root/etc/passwd'"
check "last purge deletes the group" bash -c "! grep -q '^lightbox:' '$root/etc/group'"

# --- the same scripts without DPKG_ROOT (an ordinary install) ----------------------------------
# Run in a private mount namespace where /etc is a copy and /var/lib, /var/log are empty tmpfs,
# so getent/useradd/chown act on "the system" without changing the real one.
if unshare -m true 2>/dev/null; then
  dpkg-deb -e "$agent_deb" "$work/ctrl"
  cp -a /etc "$work/etc-copy"
  mkdir -p "$work/etc-copy/lightbox"
  # shellcheck disable=SC2016  # $1 is expanded by the inner shell
  live=$(unshare -m sh -c '
    set -e
    mount --make-rprivate /
    mount --bind "$1/etc-copy" /etc
    mount -t tmpfs tmpfs /var/lib
    mount -t tmpfs tmpfs /var/log
    sh "$1/ctrl/postinst" configure "" >/dev/null
    echo "user=$(getent passwd lightbox | cut -d: -f6,7)"
    echo "etc=$(stat -c "%U:%G %a" /etc/lightbox)"
    echo "data=$(stat -c "%U:%G %a" /var/lib/lightbox/agent)"
    echo "log=$(stat -c "%U:%G %a" /var/log/lightbox)"
    sh "$1/ctrl/prerm" remove
    sh "$1/ctrl/postrm" remove
    sh "$1/ctrl/postrm" purge >/dev/null
    getent passwd lightbox >/dev/null && echo purged-user=kept || echo purged-user=gone
    [ -e /var/lib/lightbox ] && echo purged-data=kept || echo purged-data=gone
  ' sh "$work" 2>&1)
  check "live root: postinst creates the user" grep -qx 'user=/var/lib/lightbox:/usr/sbin/nologin' <<<"$live"
  check "live root: /etc/lightbox root:lightbox 0750" grep -qx 'etc=root:lightbox 750' <<<"$live"
  check "live root: data dir lightbox:lightbox 0750" grep -qx 'data=lightbox:lightbox 750' <<<"$live"
  check "live root: log dir lightbox:lightbox 0750" grep -qx 'log=lightbox:lightbox 750' <<<"$live"
  check "live root: purge deletes the user and data" \
    bash -c "grep -qx purged-user=gone <<<'$live' && grep -qx purged-data=gone <<<'$live'"
  check "live root: the real system has no lightbox user" bash -c '! getent passwd lightbox >/dev/null'
  if [ "$failed" != 0 ]; then while IFS= read -r line; do echo "#   $line"; done <<<"$live"; fi
else
  echo "# unshare -m not permitted here: the scripts' non-DPKG_ROOT path is not exercised"
fi

if [ "$failed" != 0 ]; then echo "# dpkg output:"; sed 's/^/#   /' "$log"; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
