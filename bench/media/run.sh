#!/usr/bin/env bash
# bench/media: `ferry export` and `ferry import` (the built CLI, whole processes) against what a
# technician does by hand with cp, sync and sha256sum, on the same data, in one run.
#   bash bench/media/run.sh [TOTAL_MB] [WORKDIR]
# The bundle is bench/verify's (make-bundle.ts: 220 files of mixed sizes, TOTAL_MB default 1024).
# Target and store are on the same disk as the source (a folder stands in for the drive).
#
# Export, each side copying the bundle, making it durable and reading the copy back from the disk:
#   ferry export BUNDLE --to T            copy + fsync + O_DIRECT read-back + SHA-256, in parallel;
#   cp -r + sync, then sha256sum of T     with T's pages evicted from the page cache first (per file,
#                                         `dd iflag=nocache`, untimed), so sha256sum reads the disk
#                                         as O_DIRECT does. Dropping the whole page cache would be
#                                         simpler but hurts every other process on a shared machine.
# Import, each side copying a warm source into a store and checking every byte:
#   ferry import T --store S              signature, then copy + SHA-256 on every core, fsync;
#   cp -r + sync + sha256sum of the copy  (the copy is warm: that sha256sum proves the bytes cp
#                                         wrote, which is all the manual route can check).
# Also timed once per round: cp -r + sync alone (what the disk allows for a copy), sha256sum of
# the warm source (one process) and openssl's SHA-256 on all cores (the hashing ceiling), so the
# closing lines can say whether Ferry is bound by the disk or by hashing.
# Rounds alternate (ROUNDS, default 2) and the best of each counts; the machine is shared, so the
# load average is printed with every round.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOTAL_MB=${1:-1024}
WORK=${2:-$(mktemp -d /tmp/ferry-bench-media.XXXXXX)}
export FERRY_CONFIG_DIR="$WORK/config" FERRY_DATA_DIR="$WORK/data" HOME="$WORK/home"
BUNDLE="$WORK/bundle"
FERRY_BIN=${FERRY_BIN:-out/cli/ferry-linux-x64}
[ -x "$FERRY_BIN" ] || node scripts/build-cli.mjs --targets linux-x64 >/dev/null
for t in openssl dd sha256sum /usr/bin/time bc; do command -v "$t" >/dev/null || { echo "needs $t"; exit 1; }; done
CORES=$(nproc)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

if [ ! -f "$BUNDLE/manifest.json" ]; then
  echo "building a ${TOTAL_MB} MB bundle in $BUNDLE …"
  npx tsx bench/verify/make-bundle.ts "$BUNDLE" "$TOTAL_MB"
fi
bytes=$(du -sb --apparent-size "$BUNDLE" | cut -f1)
nfiles=$(find "$BUNDLE" -type f | wc -l)

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }
best() { echo "if ($1 < $2) $1 else $2" | bc -l; }
load() { cut -d' ' -f1 /proc/loadavg; }
evict() { find "$1" -type f -exec dd if={} iflag=nocache count=0 status=none \;; }
warm() { find "$1" -type f -exec cat {} + >/dev/null; }
# Every file of B has the same bytes as in A (the copies are what they claim to be).
same() { (cd "$1" && find . -type f -print0 | xargs -0 sha256sum) | (cd "$2" && sha256sum -c --quiet -); }

ROUNDS=${ROUNDS:-2}
fe=999999; me=999999; fi_=999999; mi=999999; cps=999999; one=999999; ceiling_k=0
for r in $(seq "$ROUNDS"); do
  T="$WORK/export"; C="$WORK/cp-export"; S="$WORK/store"; CS="$WORK/cp-store"
  rm -rf "$T" "$C" "$S" "$CS"

  # Export.
  warm "$BUNDLE"; sync
  t0=$(now)
  "$FERRY_BIN" export "$BUNDLE" --to "$T" --force --json >"$WORK/export.json"
  e=$(since "$t0")
  warm "$BUNDLE"; sync
  t0=$(now)
  cp -r "$BUNDLE" "$C" && sync
  c=$(since "$t0")
  evict "$C"
  t0=$(now)
  (cd "$C" && find . -type f -print0 | xargs -0 sha256sum >/dev/null)
  h=$(since "$t0")
  m=$(echo "$c + $h" | bc -l)
  same "$BUNDLE" "$T"
  rm -rf "$C"

  # Import, from the export just made (its pages warm, as the verify bench has them).
  warm "$T"; sync
  t0=$(now)
  "$FERRY_BIN" import "$T" --store "$S" --json >"$WORK/import.json"
  i=$(since "$t0")
  grep -q '"status": "complete"' "$WORK/import.json" || { echo "ferry import did not complete:"; cat "$WORK/import.json"; exit 1; }
  rm -rf "$S"
  warm "$T"; sync
  t0=$(now)
  cp -r "$T" "$CS" && sync && (cd "$CS" && find . -type f -print0 | xargs -0 sha256sum >/dev/null)
  j=$(since "$t0")
  rm -rf "$CS"

  # What the machine allows: a copy alone, one hashing process, and every core hashing.
  warm "$T"; sync
  t0=$(now)
  (cd "$T" && find . -type f -print0 | xargs -0 sha256sum >/dev/null)
  o=$(since "$t0")
  k=$(openssl speed -elapsed -evp sha256 -multi "$CORES" -seconds 2 2>/dev/null | awk '/^sha256 /{v=$NF} END{sub(/k$/,"",v); print v}')

  printf '  round %d (load %s): export ferry %.2f s, cp+sync %.2f + sha256sum from disk %.2f s; import ferry %.2f s, cp+sync+sha256sum %.2f s; sha256sum warm %.2f s; openssl x%d %.0f MB/s\n' \
    "$r" "$(load)" "$e" "$c" "$h" "$i" "$j" "$o" "$CORES" "$(echo "$k/1000" | bc -l)"
  fe=$(best "$e" "$fe"); me=$(best "$m" "$me"); fi_=$(best "$i" "$fi_"); mi=$(best "$j" "$mi")
  cps=$(best "$c" "$cps"); one=$(best "$o" "$one")
  ceiling_k=$(echo "if ($k > $ceiling_k) $k else $ceiling_k" | bc -l)
done

mbs() { echo "$bytes/1000000/$1" | bc -l; }
printf 'data: %d files, %.0f MB; target and store on the source disk\n' "$nfiles" "$(echo "$bytes/1000000" | bc -l)"
printf 'ferry export (fsync + O_DIRECT read-back):   %6.2f s  (%4.0f MB/s)\n' "$fe" "$(mbs "$fe")"
printf 'cp -r + sync + sha256sum from disk:          %6.2f s  (%4.0f MB/s)\n' "$me" "$(mbs "$me")"
printf 'ferry import (verify + copy + fsync):        %6.2f s  (%4.0f MB/s)\n' "$fi_" "$(mbs "$fi_")"
printf 'cp -r + sync + sha256sum of the copy:        %6.2f s  (%4.0f MB/s)\n' "$mi" "$(mbs "$mi")"
printf 'cp -r + sync alone (the disk'"'"'s copy speed):   %6.2f s  (%4.0f MB/s)\n' "$cps" "$(mbs "$cps")"
printf 'sha256sum, 1 process, warm:                  %6.2f s  (%4.0f MB/s)\n' "$one" "$(mbs "$one")"
printf 'openssl speed sha256 x%d:                     %6.0f MB/s\n' "$CORES" "$(echo "$ceiling_k/1000" | bc -l)"
printf 'ratio export, manual / ferry:   %.2fx (above 1 = Ferry faster)\n' "$(echo "$me/$fe" | bc -l)"
printf 'ratio import, manual / ferry:   %.2fx (above 1 = Ferry faster)\n' "$(echo "$mi/$fi_" | bc -l)"
printf 'export vs the bare copy:        %.0f%% (cp+sync time / ferry export: the share the copy alone costs)\n' "$(echo "100*$cps/$fe" | bc -l)"
printf 'import vs the bare copy:        %.0f%% (cp+sync time / ferry import)\n' "$(echo "100*$cps/$fi_" | bc -l)"
printf 'import vs 1 sha256sum (read only, warm): %.2fx\n' "$(echo "$one/$fi_" | bc -l)"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
