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
# electronegativity's AST walker (estraverse) stops at class private members (#x) and then drops
# the whole file without a word, so a bundle using them would pass unscanned. It scans a copy
# with those lowered by esbuild (same code, ES2021 syntax); a file esbuild cannot read fails here.
scan="$report_dir/scan"
node -e '
const fs = require("fs"), path = require("path"), { transformSync } = require("esbuild");
const [src, dst] = process.argv.slice(1);
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
for (const f of fs.statSync(src).isDirectory() ? walk(src) : [src]) {
  const out = path.join(dst, path.relative(src, f));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (!/\.(c|m)?js$/.test(f)) { fs.copyFileSync(f, out); continue; }
  const format = f.endsWith(".cjs") ? "cjs" : "esm";
  fs.writeFileSync(out, transformSync(fs.readFileSync(f, "utf8"), { target: "es2021", format, loader: "js" }).code);
}' "$target" "$scan"
target_name=$target
target=$scan
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
  echo "electronegativity: high-severity findings in $target_name:" >&2
  echo "$high" >&2
  exit 1
fi
echo "electronegativity: $total finding(s) in $target_name, none of high severity (Electron $version)."
awk -F',' 'NR > 1 { print "  " $1 " " $2 " " $4 ":" $5 }' "$report"
