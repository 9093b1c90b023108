#!/bin/sh
# Electron security lint of the built app. electronegativity always exits 0, so this reads its
# CSV and fails on any HIGH or CRITICAL finding (and when it produced no report at all).
#   scripts/electronegativity.sh            # builds, then scans out/ (what ships)
#   scripts/electronegativity.sh DIR        # scans DIR as is
# Runs offline: the only network check (AvailableSecurityFixesGlobalCheck) is excluded and the
# Electron version comes from node_modules instead of being looked up.
set -eu
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
  target=$1
else
  npx electron-vite build >/dev/null
  target=out
fi
version=$(node -p "require('electron/package.json').version")
report_dir=$(mktemp -d)
trap 'rm -rf "$report_dir"' EXIT
report="$report_dir/electronegativity.csv"
npx electronegativity -i "$target" -x AvailableSecurityFixesGlobalCheck -e "$version" -r -o "$report" >"$report_dir/log" 2>&1 || true
if [ ! -s "$report" ]; then
  echo "electronegativity produced no report:" >&2
  cat "$report_dir/log" >&2
  exit 2
fi
# Columns: issue, severity, confidence, filename, location, sample, description, url
high=$(awk -F',' 'NR > 1 && ($2 == "\"HIGH\"" || $2 == "\"CRITICAL\"")' "$report")
total=$(($(wc -l <"$report") - 1))
if [ -n "$high" ]; then
  echo "electronegativity: high-severity findings in $target:" >&2
  echo "$high" >&2
  exit 1
fi
echo "electronegativity: $total finding(s) in $target, none of high severity (Electron $version)."
awk -F',' 'NR > 1 { print "  " $1 " " $2 " " $4 ":" $5 }' "$report"
