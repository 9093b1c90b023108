#!/usr/bin/env bash
# bench/fetch/segmented: segmented downloads on a link that caps each connection, in one run.
#   bash bench/fetch/segmented.sh [SCALE] [WORKDIR]
# nginx on loopback serves a generated set (4 large files of 192 MiB × SCALE and 12 small ones of
# 4 MiB) with `limit_rate 25m` per connection, standing in for a WAN link or proxy that caps each
# TCP connection. nginx's limit_rate is per request, and both tools keep connections alive from
# one range to the next, so each connection stays near 25 MiB/s (checked by hand: a 64 MiB range
# takes 2.6 s, a whole 192 MiB file 7.8 s; a 3 MiB range, about one piece of Ferry's, 0.10 s,
# since nginx sends the first chunk of each answer before it starts pacing). The bench prints
# both tools' peak connection counts. On 2 cores the sum (48 × 25 MiB/s) is more than the CPU
# can receive, so the result is bounded by CPU, not by the caps. Then, one after another:
#   1. curl, one file after another (what a script does);
#   2. aria2c -x8 -s8 -j6 -i list (the download accelerator: 6 files at once, 8 connections each);
#   3. ferry fetch --concurrency 6 --connections-per-host 8 (the same connection budget), which
#      also checks every byte against its sha256 and fsyncs what it commits.
# Goals (issue 17): Ferry ≥ 4× curl, ≥ 1.0× aria2. Uses the built CLI (out/cli/ferry-linux-x64,
# built when missing; FERRY_BIN overrides). Each run starts with `sync`, so nobody pays for the
# previous one's writes.
# FERRY_RAW_RANGES=0 runs Ferry with every piece on undici (the path before raw-range.ts), for A/B.
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE=${1:-1}
WORK=${2:-$(mktemp -d /tmp/ferry-bench-seg.XXXXXX)}
exe=${FERRY_BIN:-out/cli/ferry-linux-x64}
[ -x "$exe" ] || node scripts/build-cli.mjs --targets linux-x64 >/dev/null
for t in nginx curl aria2c; do command -v "$t" >/dev/null || { echo "needs $t"; exit 1; }; done
www="$WORK/www"
mkdir -p "$www" "$WORK/tmp"

echo "generating files in $www …"
big_mb=$((192 * SCALE))
for i in 0 1 2 3; do [ -f "$www/big$i.bin" ] || head -c "$((big_mb << 20))" /dev/urandom >"$www/big$i.bin"; done
for i in $(seq 0 11); do [ -f "$www/small$i.bin" ] || head -c $((4 << 20)) /dev/urandom >"$www/small$i.bin"; done
mapfile -t FILES < <(cd "$www" && ls | sort)
bytes=$(du -cb --apparent-size "$www"/* | tail -1 | cut -f1)

# A port from this helper's range, else any free one nginx can take.
port=${PORT:-47131}
cat >"$WORK/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 2;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  client_body_temp_path $WORK/tmp;
  proxy_temp_path $WORK/tmp;
  fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp;
  scgi_temp_path $WORK/tmp;
  server {
    listen 127.0.0.1:$port;
    root $www;
    limit_rate 25m;
  }
}
EOF
nginx -c "$WORK/nginx.conf" -p "$WORK" &
nginx_pid=$!
trap 'kill -QUIT $nginx_pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/small0.bin" && break; sleep 0.1; done
kill -0 $nginx_pid 2>/dev/null || { echo "nginx did not start (port $port taken? set PORT=)"; exit 1; }
base="http://127.0.0.1:$port"

# The plan Ferry fetches and the list aria2 reads: the same URLs.
: >"$WORK/list"
files_json=""
for f in "${FILES[@]}"; do
  echo "$base/$f" >>"$WORK/list"
  sha=$(sha256sum "$www/$f" | cut -d' ' -f1)
  files_json+="${files_json:+,}{\"key\":\"${f%.bin}\",\"url\":\"$base/$f\",\"checksum\":\"sha256:$sha\",\"path\":\"files/$f\",\"enabled\":true}"
done
cat >"$WORK/plan.json" <<EOF
{"kubespray":"v2.29.1","kubeVersion":"v1.33.4","arches":["amd64"],"files":[$files_json],"images":[],"vars":{}}
EOF

now() { date +%s.%N; }
timed() { # prints seconds
  sync
  local t0 t1
  t0=$(now)
  "$@"
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
curl_seq() { for f in "${FILES[@]}"; do curl -fsSo "$WORK/curl/$f" "$base/$f"; done; }
mkdir -p "$WORK/curl" "$WORK/aria2"
export HOME="$WORK/home" FERRY_CONFIG_DIR="$WORK/config" FERRY_DATA_DIR="$WORK/data"
ferry_fetch() {
  /usr/bin/time -o "$WORK/ferry.cpu" -f '%U %S' \
    "$exe" fetch --plan "$WORK/plan.json" --out "$WORK/bundle" --concurrency 6 --connections-per-host 8 --no-tools \
    >"$WORK/ferry.out" 2>&1 || { cat "$WORK/ferry.out" >&2; return 1; }
}
echo "data: ${#FILES[@]} files, $((bytes >> 20)) MiB, limit_rate 25m per connection"
# Bounded by the rate limit, so once is enough (SKIP_CURL=1 for quick aria2/Ferry iterations).
if [ -n "${SKIP_CURL:-}" ]; then t_curl=$(echo "$bytes / 26214400" | bc -l); else t_curl=$(timed curl_seq); fi
rm -rf "$WORK/curl"
# aria2 and Ferry alternate ROUNDS times; the best of each counts (the machine is shared).
# Each run's CPU time (user + system, from /usr/bin/time) is kept too: with other work on the
# machine, CPU seconds per run compare the tools' costs where wall time mostly measures the load.
# aria2 does not fsync; the `sync` after it is timed on its own, for an "aria2c + sync" row with
# Ferry's durability (the goal is against aria2c alone).
ROUNDS=${ROUNDS:-3}
t_aria=999999; t_ferry=999999; t_sync=999999; cpu_aria=999999; cpu_ferry=999999
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }
cpu_of() { awk '{print $1 + $2}' "$1"; }
for r in $(seq "$ROUNDS"); do
  rm -rf "$WORK/bundle" "$WORK/data" "$WORK/aria2"
  a=$(timed /usr/bin/time -o "$WORK/aria2.cpu" -f '%U %S' aria2c -q -x8 -s8 -j6 -d "$WORK/aria2" -i "$WORK/list")
  s0=$(now); sync; sy=$(echo "$(now) - $s0" | bc -l)
  rm -rf "$WORK/aria2"
  f=$(timed ferry_fetch)
  # Every file is in the bundle, byte for byte.
  for x in "${FILES[@]}"; do cmp -s "$www/$x" "$WORK/bundle/files/$x" || { echo "ferry: $x differs"; exit 1; }; done
  rm -rf "$WORK/bundle" "$WORK/data"
  ca=$(cpu_of "$WORK/aria2.cpu"); cf=$(cpu_of "$WORK/ferry.cpu")
  printf '  round %d (load %s): aria2c %.2f s (CPU %.2f s, then sync %.2f s), ferry %.2f s (CPU %.2f s)\n' \
    "$r" "$(cut -d' ' -f1 /proc/loadavg)" "$a" "$ca" "$sy" "$f" "$cf"
  t_aria=$(min "$a" "$t_aria"); t_ferry=$(min "$f" "$t_ferry"); t_sync=$(min "$sy" "$t_sync")
  cpu_aria=$(min "$ca" "$cpu_aria"); cpu_ferry=$(min "$cf" "$cpu_ferry")
done

# The same connection budget for both: the most connections each held open at once (ss, sampled
# every 50 ms in one extra, untimed run each), so neither wins by opening more.
peak_conns() {
  local m=0 n
  while [ ! -f "$WORK/stop" ]; do
    n=$(ss -Htn state established "( sport = :$port )" | wc -l)
    [ "$n" -gt "$m" ] && m=$n
    sleep 0.05
  done
  echo "$m"
}
conns() {
  rm -f "$WORK/stop"
  peak_conns >"$WORK/peak" &
  local p=$!
  "$@" >/dev/null 2>&1
  touch "$WORK/stop"
  wait "$p"
  cat "$WORK/peak"
}
c_aria=$(conns aria2c -q -x8 -s8 -j6 -d "$WORK/aria2" -i "$WORK/list")
rm -rf "$WORK/aria2"
c_ferry=$(conns ferry_fetch)
rm -rf "$WORK/bundle" "$WORK/data"

mb() { echo "$bytes / 1048576 / $1" | bc -l; }
printf 'curl, one file after another:        %7.2f s  (%4.0f MiB/s)\n' "$t_curl" "$(mb "$t_curl")"
printf 'aria2c -x8 -s8 -j6 -i list (best):   %7.2f s  (%4.0f MiB/s)\n' "$t_aria" "$(mb "$t_aria")"
printf 'aria2c + sync (same durability):     %7.2f s  (%4.0f MiB/s)\n' "$(echo "$t_aria + $t_sync" | bc -l)" "$(mb "$(echo "$t_aria + $t_sync" | bc -l)")"
printf 'ferry fetch 6 × 8, sha256 + fsync:   %7.2f s  (%4.0f MiB/s)\n' "$t_ferry" "$(mb "$t_ferry")"
printf 'CPU per run (best): aria2c %.2f s, ferry %.2f s (ferry also hashes every byte and fsyncs)\n' "$cpu_aria" "$cpu_ferry"
printf 'peak connections to the server: aria2c %d, ferry %d (limit_rate applies per request;\n' "$c_aria" "$c_ferry"
printf '  both keep their connections alive across requests, so each connection stays at 25 MiB/s)\n'
printf 'ratio ferry vs curl sequential:  %.2fx (goal >= 4)\n' "$(echo "$t_curl / $t_ferry" | bc -l)"
printf 'ratio ferry vs aria2c:           %.2fx (goal >= 1.0)\n' "$(echo "$t_aria / $t_ferry" | bc -l)"
printf 'load average during the run: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
