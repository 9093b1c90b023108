#!/usr/bin/env bash
# Writing an RPM repository's repodata for N packages. Ferry (bench/rpm/repodata-ferry.ts):
# hash each .rpm while streaming it and read its header from the same chunks, then write
# primary/filelists/other gz, repomd.xml and its detached signature. createrepo_c on the same
# files: --no-database (Ferry writes no sqlite), default workers, and --workers 1 since Ferry
# uses one thread; it does not sign, Ferry's time includes the OpenPGP signature. Median wall
# and CPU time of R runs and the largest peak RSS (GNU time); the packages are built once by
# rpmbuild and cached under /tmp/ferry-bench-rpm/<N>.
#   bash bench/rpm/repodata.sh [N=200] [R=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200}
r=${2:-5}
tsx="node node_modules/tsx/dist/cli.mjs"
repo=$($tsx bench/rpm/repodata-prepare.ts "$n")
keys=$(mktemp -d /tmp/ferry-bench-rpm-keys.XXXXXX)
trap 'rm -rf "$keys" /tmp/ferry-bench-$$-*' EXIT
echo "$(find "$repo/Packages" -name '*.rpm' | wc -l) packages, $(du -sm "$repo/Packages" | cut -f1) MB in $repo"
measure() { # label, command...
  local label=$1; shift
  local times=() cpus=() works=() rss=0
  for _ in $(seq "$r"); do
    rm -rf "$repo/repodata"
    local e u s m
    /usr/bin/time -o "/tmp/ferry-bench-$$-t" -f '%e %U %S %M' "$@" >"/tmp/ferry-bench-$$-out" 2>&1
    # Ferry's script prints its own in-process time (without Node's start-up and tsx).
    works+=("$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' "/tmp/ferry-bench-$$-out")")
    read -r e u s m < <(tail -1 "/tmp/ferry-bench-$$-t")
    times+=("$e"); cpus+=("$(echo "$u + $s" | bc | sed "s/^\./0./")"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local med cpu
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (r + 1) / 2 ))p")
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (r + 1) / 2 ))p")
  printf '%-28s %6.2f s  (cpu %5.2f s)  %6d MB\n' "$label" "$med" "$cpu" "$(( rss / 1024 ))"
  if [ -n "${works[0]}" ]; then
    printf '%-28s %6.2f s  (the work in-process, without start-up)\n' "$label" \
      "$(printf '%s\n' "${works[@]}" | sort -n | sed -n "$(( (r + 1) / 2 ))p")"
  fi
  echo "$med $cpu" >"/tmp/ferry-bench-$$-${label// /_}"
}
# The key is made once, outside the measured runs (fetch reuses the machine's key).
$tsx -e "import('./src-main/core/bundle/keys/repo-key.ts').then(m => m.ensureRepoSigner('$keys'))" >/dev/null
measure "ferry" $tsx bench/rpm/repodata-ferry.ts "$repo" "$keys"
# Sanity: Ferry's primary lists every package.
primary=$(ls "$repo"/repodata/*-primary.xml.gz 2>/dev/null || true)
if [ -n "$primary" ]; then echo "ferry primary: $(zcat "$primary" | grep -c '<package type="rpm">') packages"; fi
measure "createrepo_c" createrepo_c --no-database "$repo"
measure "createrepo_c --workers 1" createrepo_c --no-database --workers 1 "$repo"
rm -rf "$repo/repodata"
read -r f fc <"/tmp/ferry-bench-$$-ferry"
for label in createrepo_c "createrepo_c --workers 1"; do
  read -r c cc <"/tmp/ferry-bench-$$-${label// /_}"
  echo "ratio ferry/$label: wall $(echo "scale=2; $f / $c" | bc), cpu $(echo "scale=2; $fc / $cc" | bc)"
done
