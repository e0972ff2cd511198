#!/usr/bin/env bash
# test.sh — README command 2: install what the tests need, build everything (with tests), then
# run every ctest label (unit, integration, fault). Exits non-zero when any test fails.
# Usage: scripts/test.sh [--no-deps] [extra ctest args, e.g. -L integration]
# Env:   BUILD_DIR (default ./build), CTEST_PARALLEL (default 2)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LB_ROOT"

deps=1
if [ "${1:-}" = "--no-deps" ]; then deps=0; shift; fi
[ "$deps" = 1 ] && lb_install_deps "${LB_TEST_PACKAGES[@]}"

BUILD_DIR=${BUILD_DIR:-$LB_ROOT/build}
export BUILD_DIR
LB_CMAKE_ARGS="-DLIGHTBOX_TESTS=ON ${LB_CMAKE_ARGS:-}" lb_build

lb_log "ctest --output-on-failure (unit, integration, fault)"
ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error \
  -j "${CTEST_PARALLEL:-2}" "$@"
