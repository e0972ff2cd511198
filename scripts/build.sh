#!/usr/bin/env bash
# build.sh — configures (CMake, Ninja, Release, ccache) and builds Lightbox.
# Usage: scripts/build.sh [ninja-target...]      (no target = everything, unit tests included)
# Env:   BUILD_DIR (default ./build), LB_CMAKE_ARGS (extra cmake options, space separated)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lb_build "$@"
