#!/bin/sh
# Ferry's fetch of a Debian 12 closure (Kubespray v2.31.0's roots + baseline, real .debs) against
# `apt-get download` of the same name=version list, both from the same loopback mirror behind
# nginx with a per-connection cap (limit_rate), the way public mirrors throttle. Prints both
# times and the ratio. Usage: bench/deb/fetch.sh [RATE]   (nginx limit_rate, default 4m)
set -eu
cd "$(dirname "$0")/../.."
RATE=${1:-4m}
PORT=41601
W=$(mktemp -d /tmp/ferry-bench-deb-XXXXXX)
chmod 755 "$W"
ARCHIVE=${FERRY_TEST_CACHE:-/var/cache/ferry-test}/debian-archive
npx tsx bench/deb/fetch-prepare.ts "$W" >"$W/prepare.json"
cat > "$W/nginx.conf" <<CONF
worker_processes 2;
pid $W/nginx.pid;
error_log $W/error.log;
events { worker_connections 256; }
http {
  access_log off;
  # Small buffers and no sendfile: the cap then applies to small files too, not only after a first big write.
  sendfile off;
  output_buffers 1 32k;
  server {
    listen 127.0.0.1:$PORT;
    root $ARCHIVE;
    limit_rate $RATE;
  }
}
CONF
nginx -c "$W/nginx.conf" -p "$W"
trap 'kill $(cat "$W/nginx.pid") 2>/dev/null; rm -rf "$W"' EXIT
URL=http://127.0.0.1:$PORT

# apt-get download in a throw-away root over the same mirror (Debian's real signed indexes).
R=$W/apt
mkdir -p "$R/etc/apt/preferences.d" "$R/etc/apt/apt.conf.d" "$R/state/lists/partial" "$R/cache/archives/partial" "$W/dl"
: > "$R/status"
K=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb [signed-by=%s] %s/debian bookworm main\ndeb [signed-by=%s] %s/debian bookworm-updates main\ndeb [signed-by=%s] %s/debian-security bookworm-security main\n' \
  $K $URL $K $URL $K $URL > "$R/etc/apt/sources.list"
APT="apt-get -q -o Dir=$R -o Dir::Etc=$R/etc/apt -o Dir::State=$R/state -o Dir::State::status=$R/status \
 -o Dir::Cache=$R/cache -o Dir::Etc::sourceparts=- -o Dir::Etc::Trusted=/dev/null -o Dir::Etc::TrustedParts=$R/none \
 -o APT::Architecture=amd64 -o Acquire::Languages=none -o Acquire::Check-Valid-Until=false -o Debug::NoLocking=1 \
 -o APT::Sandbox::User=root"
$APT update >/dev/null
t0=$(date +%s.%N)
(cd "$W/dl" && $APT download $(cat "$W/apt-list.txt") >/dev/null)
t1=$(date +%s.%N)
APT_S=$(echo "$t1 - $t0" | bc)
APT_N=$(ls "$W/dl" | wc -l)

FERRY=$(npx tsx bench/deb/fetch-ferry.ts "$W/plan.json" "$W/bundle" "$URL")
FERRY_S=$(echo "$FERRY" | sed 's/.*"seconds":\([0-9.]*\).*/\1/')
echo "closure: $(cat "$W/prepare.json")"
echo "cap: nginx limit_rate $RATE per connection"
echo "apt-get download: ${APT_S}s for $APT_N files"
echo "ferry fetch:      ${FERRY_S}s ($FERRY)"
echo "ratio (apt-get download / ferry): $(echo "scale=2; $APT_S / $FERRY_S" | bc)"
