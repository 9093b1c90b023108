#!/usr/bin/env bash
# bench/verify: `ferry verify` against sha256sum and the machine's SHA-256 ceiling, in one run.
#   bench/verify/run.sh [TOTAL_MB] [WORKDIR]
# Times the built CLI (out/cli/ferry-linux-x64, built when missing; FERRY_BIN overrides) as a
# whole process, and `openssl speed -evp sha256 -multi <cores>` (16 KiB blocks) as the ceiling:
# goals (issue 17) ≥ 75% of that ceiling, ≥ 2.5× one sha256sum process.
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
FERRY_BIN=${FERRY_BIN:-out/cli/ferry-linux-x64}
[ -x "$FERRY_BIN" ] || node scripts/build-cli.mjs --targets linux-x64 >/dev/null
CORES=$(nproc)

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
best() { echo "if ($1 < $2) $1 else $2" | bc -l; }
# The machine is shared: every measurement runs ROUNDS times, interleaved, and the best counts.
ROUNDS=${ROUNDS:-3}
ferry=999999; one=999999; two=999999; start=999999; ceiling_k=0
for r in $(seq "$ROUNDS"); do
  t0=$(now)
  /usr/bin/time -f '%M %U %S' -o "$WORK/ferry.rss" "$FERRY_BIN" verify "$BUNDLE" > "$WORK/ferry.out"
  t1=$(now)
  (cd "$BUNDLE" && sha256sum "${FILES[@]}" > /dev/null)
  t2=$(now)
  (cd "$BUNDLE" && { sha256sum "${HALF_A[@]}" > /dev/null & sha256sum "${HALF_B[@]}" > /dev/null & wait; })
  t3=$(now)
  # Start-up alone: what the process costs before it verifies anything.
  "$FERRY_BIN" --help > /dev/null
  t4=$(now)
  # The ceiling: OpenSSL's SHA-256 on every core at once, 16 KiB blocks, k = 1000 bytes per second.
  # -elapsed: wall-clock time, as ferry is timed (without it openssl divides by its CPU time).
  c=$(openssl speed -elapsed -evp sha256 -multi "$CORES" -seconds 2 2>/dev/null | awk '/^sha256 /{v=$NF} END{sub(/k$/,"",v); print v}')
  printf '  round %d: ferry %.2f s, sha256sum %.2f s, 2 × sha256sum %.2f s, openssl x%d %.0f MB/s\n' \
    "$r" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)" "$(echo "$t3 - $t2" | bc -l)" "$CORES" "$(echo "$c/1000" | bc -l)"
  ferry=$(best "$(echo "$t1 - $t0" | bc -l)" "$ferry"); one=$(best "$(echo "$t2 - $t1" | bc -l)" "$one")
  two=$(best "$(echo "$t3 - $t2" | bc -l)" "$two"); start=$(best "$(echo "$t4 - $t3" | bc -l)" "$start")
  ceiling_k=$(echo "if ($c > $ceiling_k) $c else $ceiling_k" | bc -l)
done
read -r rss_kb cpu_user cpu_sys < "$WORK/ferry.rss"
# Load-independent: bytes per CPU-second of ferry (whole process: start-up, reads, hashing) against
# one OpenSSL process's SHA-256 per CPU-second (openssl speed's default, CPU-time measure).
per_cpu_k=$(openssl speed -evp sha256 -seconds 2 2>/dev/null | awk '/^sha256 /{v=$NF} END{sub(/k$/,"",v); print v}')
bytes=$(du -sb --apparent-size "$BUNDLE" | cut -f1)
printf 'data: %d files, %.0f MB\n' "${#FILES[@]}" "$(echo "$bytes/1000000" | bc -l)"
printf 'ferry verify:            %6.2f s  (%.0f MB/s)\n' "$ferry" "$(echo "$bytes/1000000/$ferry" | bc -l)"
printf 'sha256sum, 1 process:    %6.2f s  (%.0f MB/s)\n' "$one" "$(echo "$bytes/1000000/$one" | bc -l)"
printf 'sha256sum, 2 processes:  %6.2f s  (%.0f MB/s)\n' "$two" "$(echo "$bytes/1000000/$two" | bc -l)"
printf 'openssl speed sha256 x%d:  %6.0f MB/s (16 KiB blocks)\n' "$CORES" "$(echo "$ceiling_k/1000" | bc -l)"
printf 'ferry start-up (--help):     %6.2f s\n' "$start"
printf 'ratio ferry vs openssl ceiling: %.0f%% (goal >= 75%%)\n' "$(echo "100*$bytes/1000/$ferry/$ceiling_k" | bc -l)"
printf 'CPU: ferry %.2f s user + %.2f s sys = %.0f MB per CPU-second; openssl %.0f MB per CPU-second (%.0f%%)\n' \
  "$cpu_user" "$cpu_sys" "$(echo "$bytes/1000000/($cpu_user+$cpu_sys)" | bc -l)" "$(echo "$per_cpu_k/1000" | bc -l)" \
  "$(echo "100*$bytes/1000/($cpu_user+$cpu_sys)/$per_cpu_k" | bc -l)"
printf 'ratio ferry vs 1 sha256sum:  %.2fx faster (goal >= 2.5)\n' "$(echo "$one/$ferry" | bc -l)"
printf 'ratio ferry vs 2 sha256sum:  %.2fx (1.00 = same time)\n' "$(echo "$two/$ferry" | bc -l)"
printf 'ferry peak RSS: %d MB (the built CLI)\n' "$((rss_kb / 1024))"
grep -q VERIFIED "$WORK/ferry.out" || { echo "ferry verify did not verify:"; cat "$WORK/ferry.out"; exit 1; }
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
