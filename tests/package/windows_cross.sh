#!/usr/bin/env bash
# windows_cross — the agent's Windows-only files build with the mingw-w64 cross compiler:
#   1. service_windows.cpp (SCM registration + service host), stop_signals_windows.cpp and the
#      metrics endpoint compile with -Werror for x86_64 Windows;
#   2. they link, with a stand-in `run` (windows_service_probe.cpp), into a PE executable that
#      imports the service and console APIs the host relies on;
#   3. the portable part of the agent pipeline (config, queue, uploader, report...) compiles too.
# Nothing is run (no Windows, no wine here): see docs/windows.md for what this does not show.
# Exits 77 (skip) when the compiler or the header-only dependencies are missing.
set -euo pipefail
ROOT=${LB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CXX=${LIGHTBOX_MINGW_CXX:-x86_64-w64-mingw32-g++-posix}
OBJDUMP=${LIGHTBOX_MINGW_OBJDUMP:-x86_64-w64-mingw32-objdump}
command -v "$CXX" >/dev/null 2>&1 || { echo "SKIP: $CXX not found (Debian package g++-mingw-w64-x86-64-posix)"; exit 77; }
command -v "$OBJDUMP" >/dev/null 2>&1 || { echo "SKIP: $OBJDUMP not found (Debian package binutils-mingw-w64-x86-64)"; exit 77; }
for h in /usr/include/boost/asio.hpp /usr/include/nlohmann/json.hpp /usr/include/sqlite3.h; do
  [ -e "$h" ] || { echo "SKIP: $h missing (libboost-dev, nlohmann-json3-dev, libsqlite3-dev)"; exit 77; }
done

OUT=$(mktemp -d "${TMPDIR:-/tmp}/lb-wincross.XXXXXX")
ok=0
cleanup() { if [ "$ok" = 1 ]; then rm -rf "$OUT"; else echo "--- kept $OUT" >&2; fi; }
trap cleanup EXIT
# Only the portable header-only libraries from the native system, never glibc's headers.
mkdir -p "$OUT/include"
ln -s /usr/include/boost "$OUT/include/boost"
ln -s /usr/include/nlohmann "$OUT/include/nlohmann"
ln -s /usr/include/sqlite3.h "$OUT/include/sqlite3.h"
FLAGS=(-std=c++20 -O1 -Wall -Wextra -Wno-unused-parameter -I"$ROOT" -isystem "$OUT/include"
       -D_WIN32_WINNT=0x0A00 -DBOOST_ASIO_NO_DEPRECATED -DBOOST_BEAST_USE_STD_STRING_VIEW)

compile() {  # compile STRICT FILE
  local strict=$1 f=$2 o
  o=$OUT/$(echo "$f" | tr '/' '_').o
  local -a extra=()
  [ "$strict" = 1 ] && extra=(-Werror)
  if ! "$CXX" "${FLAGS[@]}" "${extra[@]+"${extra[@]}"}" -c "$ROOT/$f" -o "$o" 2>"$o.err"; then
    cat "$o.err" >&2
    echo "FAIL windows_cross: $f does not compile for Windows" >&2
    exit 1
  fi
  echo "  - compiled $f"
}

# 1. Windows-only files and the metrics endpoint: no warnings allowed.
for f in agent/app/service_windows.cpp agent/app/stop_signals_windows.cpp agent/metrics/listen.cpp \
         agent/metrics/metrics.cpp agent/metrics/server.cpp tests/package/windows_service_probe.cpp; do
  compile 1 "$f"
done

# 2. Link the service host into a PE executable and check what it imports.
exe=$OUT/lightbox-service-probe.exe
"$CXX" -static -o "$exe" "$OUT"/agent_app_service_windows.cpp.o "$OUT"/agent_app_stop_signals_windows.cpp.o \
  "$OUT"/tests_package_windows_service_probe.cpp.o -ladvapi32 ||
  { echo "FAIL windows_cross: the service host does not link" >&2; exit 1; }
file_format=$("$OBJDUMP" -f "$exe" | sed -n 's/.*file format //p')
[ "$file_format" = pei-x86-64 ] || { echo "FAIL windows_cross: $exe is '$file_format', not pei-x86-64" >&2; exit 1; }
"$OBJDUMP" -p "$exe" >"$OUT/imports.txt"
for sym in StartServiceCtrlDispatcherW RegisterServiceCtrlHandlerExW SetServiceStatus ReportEventW \
           RegisterEventSourceW CreateServiceW ChangeServiceConfig2W ControlService SetConsoleCtrlHandler; do
  grep -qw "$sym" "$OUT/imports.txt" || { echo "FAIL windows_cross: $exe does not import $sym" >&2; exit 1; }
done
echo "  - linked $(basename "$exe") ($(stat -c %s "$exe") bytes, $file_format), imports the SCM/event log/console APIs"

# 3. The portable part of the agent that the Windows build reuses as is.
for f in agent/app/config.cpp agent/app/source_kinds.cpp agent/app/status_command.cpp \
         agent/queue/intake.cpp agent/queue/self_check.cpp agent/queue/spool.cpp agent/queue/sqlite_queue.cpp \
         agent/report/status.cpp agent/report/task_report.cpp agent/report/heartbeat.cpp \
         agent/upload/uploader.cpp agent/upload/records_decision.cpp agent/verify/verifier.cpp \
         agent/sources/seen_store.cpp common/error/errc.cpp common/wire/protocol.cpp common/wire/records.cpp; do
  compile 0 "$f"
done
ok=1
echo "PASS windows_cross"
