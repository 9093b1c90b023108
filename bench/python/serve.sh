#!/usr/bin/env bash
# bench/python/serve.sh [RUNS] [WORKDIR]: `pip install --require-hashes` of the deploy host's set
# (13 real wheels built from Debian 12's packages: ansible-core, cryptography, …) into a fresh
# venv, from Ferry's served index (ferry serve --bundle) against the same pages as static files
# served by python3 -m http.server and by nginx (when installed). Debian's pip 23.0.1, no cache;
# venv creation is not timed. Prints the median of RUNS (default 5) per server and the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
WORK=${2:-$(mktemp -d /tmp/ferry-bench-python.XXXXXX)}
PY=/usr/bin/python3
# py-serve's port range (HELPERS.md): ferry files, ferry registry, http.server, nginx.
P_FERRY=41400 P_REG=41401 P_HTTP=41402 P_NGINX=41403
export FERRY_CONFIG_DIR="$WORK/config" PIP_CONFIG_FILE=/dev/null PIP_NO_CACHE_DIR=1 \
  PIP_DISABLE_PIP_VERSION_CHECK=1 NO_PROXY='*'

npx tsx bench/python/prepare.ts "$WORK" >&2
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

node --import tsx src-main/cli/bin.ts serve --bundle "$WORK/bundle" --allow-unsigned --listen 127.0.0.1 \
  --hostname 127.0.0.1 --files-port $P_FERRY --registry-port $P_REG --quiet > "$WORK/ferry.log" 2>&1 &
pids+=($!)
$PY -m http.server --bind 127.0.0.1 -d "$WORK/static" $P_HTTP > "$WORK/http.log" 2>&1 &
pids+=($!)
servers=(ferry http.server)
urls=("http://127.0.0.1:$P_FERRY/simple/" "http://127.0.0.1:$P_HTTP/simple/")
if command -v nginx > /dev/null; then
  mkdir -p "$WORK/nginx"
  cat > "$WORK/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $WORK/nginx/pid; error_log $WORK/nginx/error.log;
events {}
http { access_log off; include /etc/nginx/mime.types;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$P_NGINX; root $WORK/static; index index.html; } }
CONF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
  pids+=($!)
  servers+=(nginx); urls+=("http://127.0.0.1:$P_NGINX/simple/")
fi
for i in $(seq 1 200); do grep -q 'Press Ctrl-C' "$WORK/ferry.log" && break; sleep 0.1; done
grep -q 'Press Ctrl-C' "$WORK/ferry.log" || { cat "$WORK/ferry.log" >&2; exit 1; }
sleep 0.5

# Round robin, so the load of a shared machine drifts over every server alike.
declare -A MED TIMES
for r in $(seq 1 "$RUNS"); do
  for idx in "${!servers[@]}"; do
    s=${servers[$idx]} u=${urls[$idx]}
    rm -rf "$WORK/venv"; $PY -m venv "$WORK/venv"
    t0=$(date +%s.%N)
    "$WORK/venv/bin/pip" install -q --index-url "$u" --require-hashes --only-binary=:all: -r "$WORK/requirements.txt"
    t1=$(date +%s.%N)
    TIMES[$s]="${TIMES[$s]:-} $(echo "$t1 - $t0" | bc -l)"
  done
done
for s in "${servers[@]}"; do
  MED[$s]=$(printf '%s\n' ${TIMES[$s]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-12s median %.2f s of %d runs (%s)\n' "$s" "${MED[$s]}" "$RUNS" "$(printf '%.2f ' ${TIMES[$s]})"
done
"$WORK/venv/bin/ansible-playbook" --version > "$WORK/ansible.version"; head -1 "$WORK/ansible.version"
for s in "${servers[@]}"; do
  [ "$s" = ferry ] && continue
  printf 'ferry / %s: %.2f\n' "$s" "$(echo "${MED[ferry]} / ${MED[$s]}" | bc -l)"
done
