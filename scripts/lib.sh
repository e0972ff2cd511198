#!/usr/bin/env bash
# lib.sh — helpers shared by scripts/, tests/integration/ and bench/. Source it; it defines
# functions only (no side effects beyond LB_ROOT). Every function is prefixed lb_.
#
#   lb_install_deps          apt-get install whatever is missing (update once), as root or via sudo
#   lb_build [targets...]    cmake -G Ninja Release + ccache, ninja -j$(nproc)  (BUILD_DIR, default ./build)
#   lb_free_port             a free random TCP port on 127.0.0.1 (20000-60999)
#   lb_wait_port PORT [S]    wait until 127.0.0.1:PORT accepts a connection
#   lb_wait_healthz URL CA [S]  wait until GET URL/healthz answers 200 over TLS
#   lb_make_tls DIR          self-made CA + server cert (SAN IP:127.0.0.1, DNS:localhost) in DIR
#   lb_start NAME PIDFILE LOG cmd...   start a daemon in the background, stdio detached
#   lb_stop PIDFILE [SIGNAL] [SECONDS] signal the process in PIDFILE, wait for it; returns its exit code if ours
#   lb_write_hub_config / lb_write_agent_config   JSONC configs that follow docs/operator-guide.md
#   lb_json FILE FILTER      jq -r over a file, failing loudly
# shellcheck shell=bash

LB_ROOT=${LB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export LB_ROOT

# Packages every build, test, demo and benchmark needs (Debian 12 names).
LB_PACKAGES=(
  build-essential cmake ninja-build ccache g++ pkg-config
  libdcmtk-dev dcmtk libboost-dev nlohmann-json3-dev doctest-dev
  libssh2-1-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev
  sqlite3 curl ca-certificates jq openssl procps iproute2 util-linux time bc coreutils
  orthanc unixodbc-dev
)
# Real servers and tools the integration, package and fault tests start or call (README
# command 2 installs these too; the demo does not need them).
LB_TEST_PACKAGES=(
  vsftpd nginx openssh-server postgresql postgresql-client unixodbc odbc-postgresql libsqliteodbc
  dpkg-dev systemd binutils passwd python3 nftables
  chromium fonts-wqy-zenhei g++-mingw-w64-x86-64-posix
)

lb_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
lb_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo when it exists.
lb_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    lb_die "need root (or sudo) to run: $*"
  fi
}

# Installs the missing packages of LB_PACKAGES (plus any given as arguments). Runs
# `apt-get update` once, and only when something is missing.
lb_install_deps() {
  local missing=() pkg status
  for pkg in "${LB_PACKAGES[@]}" "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    lb_log "dependencies: all ${#LB_PACKAGES[@]} packages present"
    return 0
  fi
  lb_log "dependencies: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  lb_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  lb_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configures (once) and builds. BUILD_DIR defaults to $LB_ROOT/build; extra CMake options
# come from LB_CMAKE_ARGS (a string). With no targets, builds everything (tests included).
lb_build() {
  local build_dir=${BUILD_DIR:-$LB_ROOT/build}
  local -a cmake_args=(-S "$LB_ROOT" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release)
  if command -v ccache >/dev/null 2>&1; then
    cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  if [ -n "${LB_CMAKE_ARGS:-}" ]; then
    local -a extra
    read -r -a extra <<<"$LB_CMAKE_ARGS"
    cmake_args+=("${extra[@]}")
  fi
  lb_log "configure: cmake ${cmake_args[*]}"
  cmake "${cmake_args[@]}" >/dev/null
  lb_log "build: ninja -C $build_dir -j$(nproc) $*"
  ninja -C "$build_dir" -j"$(nproc)" "$@"
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
lb_free_port() {
  local port i
  for i in $(seq 200); do
    # Below the kernel's ephemeral range (32768-60999 by default): a port picked there can be
    # taken by some client's outgoing connection before our server binds it.
    port=$(( 20000 + (RANDOM * 32768 + RANDOM + i) % 12700 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
       [ -z "$(ss -Htan "sport = :$port" 2>/dev/null)" ]; then
      echo "$port"
      return 0
    fi
  done
  lb_die "no free port found"
}

# Waits until 127.0.0.1:PORT accepts a TCP connection (default 30 s).
lb_wait_port() {
  local port=$1 seconds=${2:-30} i
  for i in $(seq $(( seconds * 10 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Waits until GET BASE/healthz answers 200 over TLS verified with CA (default 30 s).
lb_wait_healthz() {
  local base=$1 ca=$2 seconds=${3:-30} i
  for i in $(seq $(( seconds * 10 ))); do
    if curl -fsS --max-time 2 --cacert "$ca" "$base/healthz" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# Makes DIR/ca.{key,crt} (a throwaway CA) and DIR/server.{key,crt} signed by it, valid for
# 127.0.0.1 and localhost. Keeps existing material unless LB_TLS_FORCE=1.
lb_make_tls() {
  local dir=$1
  mkdir -p "$dir"
  if [ -s "$dir/server.crt" ] && [ -s "$dir/ca.crt" ] && [ "${LB_TLS_FORCE:-0}" != 1 ]; then
    return 0
  fi
  (
    cd "$dir" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout ca.key -out ca.crt -subj "/CN=Lightbox Demo CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr \
      -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
      "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
      -days 825 -out server.crt -extfile server.ext 2>/dev/null
    rm -f server.csr server.ext ca.srl
    chmod 600 ca.key server.key
    chmod 644 ca.crt server.crt
  )
}

# Starts "cmd..." in the background with stdin from /dev/null and stdout+stderr appended to
# LOG, and writes its pid to PIDFILE. The process is a direct child of the calling shell, so
# `lb_stop` can collect its exit status. With LB_WATCHDOG=1 a watchdog also SIGTERMs it once the
# calling shell is gone, even after a SIGKILL that skipped the shell's EXIT trap (a ctest timeout).
lb_start() {
  local name=$1 pidfile=$2 logfile=$3 pid owner=$$
  shift 3
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  "$@" </dev/null >>"$logfile" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  if [ "${LB_WATCHDOG:-0}" = 1 ]; then
    (
      while kill -0 "$owner" 2>/dev/null && lb_pid_alive "$pid"; do sleep 1; done
      lb_pid_alive "$pid" && kill -TERM "$pid" 2>/dev/null
      exit 0
    ) </dev/null >/dev/null 2>&1 &
  fi
  lb_log "started $name (pid $pid), log $logfile"
}

# True while the pid is alive (a zombie counts as gone: PID 1 here may reap late).
lb_pid_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ') || true
  [ -n "$st" ] && [[ $st != Z* ]]
}

# Sends SIGNAL (default TERM) to the pid in PIDFILE and waits up to SECONDS (default 20) for it
# to exit; then SIGKILLs it. Sets LB_STOP_RC to its exit code when it is our child (else "").
# Removes the pidfile. Never touches processes other than the one named in the file.
lb_stop() {
  local pidfile=$1 sig=${2:-TERM} seconds=${3:-20} pid i
  LB_STOP_RC=""  # read by callers
  export LB_STOP_RC
  [ -s "$pidfile" ] || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -s "$sig" "$pid" 2>/dev/null || true
  for i in $(seq $(( seconds * 10 ))); do
    lb_pid_alive "$pid" || break
    sleep 0.1
  done
  if lb_pid_alive "$pid"; then
    lb_log "pid $pid did not exit after SIG$sig within ${seconds}s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if wait "$pid" 2>/dev/null; then LB_STOP_RC=0; else LB_STOP_RC=$?; fi
  rm -f "$pidfile"
}

# lb_write_hub_config FILE PORT DATA_DIR TLS_DIR [LOG_LEVEL]
lb_write_hub_config() {
  local file=$1 port=$2 data_dir=$3 tls_dir=$4 level=${5:-info}
  cat >"$file" <<EOF
// Lightbox hub config, written by scripts/lib.sh (every key: docs/operator-guide.md)
{
  "listen": {"address": "127.0.0.1", "port": $port},
  "tls": {"cert_file": "$tls_dir/server.crt", "key_file": "$tls_dir/server.key"},
  "data_dir": "$data_dir",
  "limits": {"max_body_bytes": 4294967296, "header_timeout_seconds": 30,
             "idle_timeout_seconds": 120, "max_connections": 512},
  "threads": 0,
  "shutdown_grace_seconds": ${LB_HUB_GRACE:-20},
  "log": {"level": "$level", "file": ""}
}
EOF
}

# lb_write_agent_config FILE AGENT_ID DATA_DIR HUB_URL CA_FILE SOURCE_DIR [CONCURRENCY] [STABLE_SECONDS]
# The token is read from ${LIGHTBOX_AGENT_TOKEN} at start-up, never written to the file.
lb_write_agent_config() {
  local file=$1 id=$2 data_dir=$3 url=$4 ca=$5 src=$6 conc=${7:-4} stable=${8:-1}
  cat >"$file" <<EOF
// Lightbox agent config, written by scripts/lib.sh (every key: docs/operator-guide.md)
{
  "agent": {"id": "$id", "data_dir": "$data_dir"},
  "hub": {"url": "$url", "ca_file": "$ca", "token": "\${LIGHTBOX_AGENT_TOKEN}",
          "connect_timeout_seconds": 10, "timeout_seconds": 300},
  "upload": {"concurrency": $conc, "retry_initial_seconds": 1, "retry_max_seconds": 30},
  "verify": {"allow_lossy": false, "allow_raw_dataset": true, "attachments": ["pdf", "jpg", "jpeg"]},
  "sources": [
    {"name": "images", "kind": "folder", "path": "$src", "recursive": true,
     "stable_seconds": $stable, "poll_seconds": 1, "include": ["*"], "exclude": ["*.tmp"],
     "after_upload": "keep"}
  ],
  "log": {"level": "info", "file": ""}
}
EOF
}

# lb_json FILE FILTER — jq -r FILTER FILE; fails (with the file's head) when FILE is not JSON.
lb_json() {
  local file=$1 filter=$2
  if ! jq -r "$filter" "$file"; then
    echo "--- not the JSON expected in $file:" >&2
    head -c 2000 "$file" >&2
    return 1
  fi
}

# Seconds since the epoch with nanoseconds, and a difference helper (awk: no bc needed).
lb_now() { date +%s.%N; }
lb_elapsed() { awk -v a="$1" -v b="$(lb_now)" 'BEGIN{printf "%.3f", b-a}'; }
