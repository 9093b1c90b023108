#!/usr/bin/env bash
# Start-up of the standalone executable against the tsx path a developer runs, on the same
# machine in one run: `ferry --help` and `ferry plan` on a shared Kubespray folder, median wall
# and CPU time of N runs and the largest peak RSS (GNU time). Builds the executable if it is missing.
#   bash bench/cli/startup.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-7}
exe=out/cli/ferry-linux-x64
[ -x "$exe" ] || node scripts/build-cli.mjs --targets linux-x64 >/dev/null
ks=${FERRY_SHARED_DIR:-../shared}/kubespray/v2.31.0
measure() { # label, command...
  local label=$1; shift
  local times=() cpus=() rss=0
  for _ in $(seq "$n"); do
    local e u s m
    /usr/bin/time -o "/tmp/ferry-bench-$$-t" -f '%e %U %S %M' "$@" >/dev/null 2>&1
    read -r e u s m < <(tail -1 "/tmp/ferry-bench-$$-t")
    times+=("$e"); cpus+=("$(echo "$u + $s" | bc | sed "s/^\./0./")"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local med cpu
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  # CPU time (user + system) beside the wall time: on a shared, loaded machine the wall time
  # includes waiting for a core, the CPU time does not.
  printf '%-32s %6.2f s  (cpu %5.2f s)  %6d MB\n' "$label" "$med" "$cpu" "$(( rss / 1024 ))"
  echo "$med" >"/tmp/ferry-bench-$$-${label// /_}"
  echo "$med $(( rss / 1024 )) $cpu" >"/tmp/ferry-bench-$$-${label// /_}.full"
}
measure "standalone --help" "$exe" --help
measure "tsx --help" node node_modules/tsx/dist/cli.mjs src-main/cli/main.ts --help
# --offline: since plan asks the upstreams for sizes by default, the network would be measured too.
measure "standalone plan" "$exe" plan --offline --kubespray "$ks"
measure "tsx plan" node node_modules/tsx/dist/cli.mjs src-main/cli/main.ts plan --offline --kubespray "$ks"
for what in --help plan; do
  a=$(cat "/tmp/ferry-bench-$$-standalone_$what"); b=$(cat "/tmp/ferry-bench-$$-tsx_$what")
  echo "ratio tsx/standalone ($what): $(echo "scale=2; $b / $a" | bc)"
done
# The goals of issue 16 for the standalone executable.
read -r ht hm _ <"/tmp/ferry-bench-$$-standalone_--help.full"
read -r pt _ pc <"/tmp/ferry-bench-$$-standalone_plan.full"
verdict() { [ "$1" = 1 ] && echo met || echo MISSED; }
echo "goal --help < 0.2 s: $(verdict "$(echo "$ht < 0.2" | bc)") (${ht} s)"
echo "goal --help peak RSS < 80 MB: $(verdict "$(echo "$hm < 80" | bc)") (${hm} MB)"
echo "goal plan < 0.5 s: $(verdict "$(echo "$pt < 0.5" | bc)") (${pt} s; CPU ${pc} s, which load does not inflate)"
rm -f /tmp/ferry-bench-$$-*
