#!/usr/bin/env bash
# A pip newer than Debian 12's 23.0.1 for the tests that check Ferry's Python index against a
# current pip too (test/integration/python/serve-pip, pip-html-names). PyPI is out of reach on
# CI; Debian's archive is not: trixie's python3-pip-whl holds pip's wheel. Prints the wheel's path.
# The file is pinned by sha256; when trixie has moved on, the current one is taken from its index.
set -euo pipefail
cache=/var/cache/ferry-test/pip-whl
mkdir -p "$cache"
base=http://deb.debian.org/debian
file=pool/main/p/python-pip/python3-pip-whl_25.1.1+dfsg-1_all.deb
sha=e65351935aa4af2b10ae2abb5744f5059e9abad51aea6cd0cb825702010763f7
deb="$cache/$(basename "$file")"
if ! [ -s "$deb" ] || ! echo "$sha  $deb" | sha256sum -c --status; then
  if ! curl -sf --retry 3 -o "$deb.part" "$base/$file"; then
    stanza=$(curl -sf --retry 3 "$base/dists/trixie/main/binary-all/Packages.xz" | xz -dc |
      awk '/^Package: python3-pip-whl$/{p=1} p&&/^(Filename|SHA256):/{print $2} p&&/^$/{exit}')
    file=$(echo "$stanza" | sed -n 1p)
    sha=$(echo "$stanza" | sed -n 2p)
    deb="$cache/$(basename "$file")"
    curl -sf --retry 3 -o "$deb.part" "$base/$file"
  fi
  echo "$sha  $deb.part" | sha256sum -c --status || { echo "python3-pip-whl: sha256 mismatch" >&2; exit 1; }
  mv "$deb.part" "$deb"
fi
out="$cache/$(basename "$deb" .deb)"
[ -d "$out" ] || { dpkg-deb -x "$deb" "$out.tmp" && mv "$out.tmp" "$out"; }
find "$out" -name 'pip-*-py3-none-any.whl' | head -1
