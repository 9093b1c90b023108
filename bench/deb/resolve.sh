#!/usr/bin/env bash
# Resolution of Kubespray v2.31.0's Debian 12 package set from the real bookworm indexes: Ferry
# (verify InRelease, stream+hash Packages, resolve with Recommends and Essential/required) against
# `apt-get -s install` of the same names in a throw-away root. Prints medians, peak RSS and the
# ratios (bench/deb/resolve.ts does the work; each side runs in its own process under GNU time).
#   bash bench/deb/resolve.sh [runs=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node node_modules/tsx/dist/cli.mjs bench/deb/resolve.ts "${1:-3}"
