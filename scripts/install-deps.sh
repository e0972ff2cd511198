#!/usr/bin/env bash
# install-deps.sh — installs (apt, Debian 12) every package that the build, the tests, the demo
# and the benchmark need, and only what is missing. Root, or sudo when available.
# Usage: scripts/install-deps.sh [extra-package...]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export DEBIAN_FRONTEND=noninteractive
lb_install_deps "$@"
