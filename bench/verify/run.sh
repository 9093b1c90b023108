#!/usr/bin/env bash
# bench/verify: `ferry verify` against sha256sum over the same files, in one run.
#   bench/verify/run.sh [TOTAL_MB] [WORKDIR]
# Builds a signed bundle of TOTAL_MB (default 3072) of random data in files of mixed sizes, then
# times: ferry verify; one sha256sum process over every file; two sha256sum processes, each on
# half of the bytes. The page cache is warmed first so every run reads from memory and the
# comparison is of hashing, not of the disk. Prints ratios and ferry's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOTAL_MB=${1:-3072}
WORK=${2:-$(mktemp -d /tmp/ferry-bench-verify.XXXXXX)}
export FERRY_CONFIG_DIR="$WORK/config"
BUNDLE="$WORK/bundle"

if [ ! -f "$BUNDLE/manifest.json" ]; then
  echo "building a ${TOTAL_MB} MB bundle in $BUNDLE …"
  npx tsx bench/verify/make-bundle.ts "$BUNDLE" "$TOTAL_MB"
fi

mapfile -t FILES < <(cd "$BUNDLE" && find files -type f | sort)
# Two halves by bytes, for the two-process baseline.
mapfile -t HALF_A < <(cd "$BUNDLE" && find files -type f -printf '%s %p\n' | sort -k2 | awk -v tot="$(du -sb --apparent-size "$BUNDLE" | cut -f1)" '{ s+=$1; if (s <= tot/2) print $2 }')
declare -A IN_A; for f in "${HALF_A[@]}"; do IN_A[$f]=1; done
HALF_B=(); for f in "${FILES[@]}"; do [ -n "${IN_A[$f]:-}" ] || HALF_B+=("$f"); done

cat "${FILES[@]/#/$BUNDLE/}" > /dev/null # warm the page cache

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f '%M' -o "$WORK/ferry.rss" npx tsx src-main/cli/main.ts verify "$BUNDLE" > "$WORK/ferry.out"
t1=$(now)
(cd "$BUNDLE" && sha256sum "${FILES[@]}" > /dev/null)
t2=$(now)
(cd "$BUNDLE" && { sha256sum "${HALF_A[@]}" > /dev/null & sha256sum "${HALF_B[@]}" > /dev/null & wait; })
t3=$(now)

ferry=$(echo "$t1 - $t0" | bc -l); one=$(echo "$t2 - $t1" | bc -l); two=$(echo "$t3 - $t2" | bc -l)
rss_kb=$(cat "$WORK/ferry.rss")
bytes=$(du -sb --apparent-size "$BUNDLE" | cut -f1)
printf 'data: %d files, %.0f MB\n' "${#FILES[@]}" "$(echo "$bytes/1000000" | bc -l)"
printf 'ferry verify:            %6.2f s  (%.0f MB/s)\n' "$ferry" "$(echo "$bytes/1000000/$ferry" | bc -l)"
printf 'sha256sum, 1 process:    %6.2f s  (%.0f MB/s)\n' "$one" "$(echo "$bytes/1000000/$one" | bc -l)"
printf 'sha256sum, 2 processes:  %6.2f s  (%.0f MB/s)\n' "$two" "$(echo "$bytes/1000000/$two" | bc -l)"
printf 'ratio ferry vs 1 sha256sum:  %.2fx faster\n' "$(echo "$one/$ferry" | bc -l)"
printf 'ratio ferry vs 2 sha256sum:  %.2fx (1.00 = same time)\n' "$(echo "$two/$ferry" | bc -l)"
printf 'ferry peak RSS: %d MB (tsx and node included)\n' "$((rss_kb / 1024))"
grep -q VERIFIED "$WORK/ferry.out" || { echo "ferry verify did not verify:"; cat "$WORK/ferry.out"; exit 1; }
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
