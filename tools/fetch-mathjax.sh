#!/usr/bin/env bash
# The math renderer the HTML exports of the notebooks carry inline (kernels/run_notebooks.py --html), so their
# formulas typeset without internet: MathJax's single-file TeX-to-SVG bundle (es5/tex-svg-full.js: every TeX
# extension included, nothing loaded at run time), from the npm package `mathjax`, pinned and checksummed.
#
#   tools/fetch-mathjax.sh          # prints the path of the cached file, fetching it first if needed
#
# Cached in cache/mathjax/VERSION/ at the repository root (ignored by git); needs npm only the first time.
set -euo pipefail

VERSION=3.2.2
FILE=es5/tex-svg-full.js
# sha256 of package/es5/tex-svg-full.js in mathjax-3.2.2.tgz (npm also checks the tarball's own integrity).
SHA256=a4354ff94fd868aea0cc6eaaa79a57fda0588646fc46ee3700a349ee0a11cbe6

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest_dir="$root/cache/mathjax/$VERSION"
dest="$dest_dir/$(basename "$FILE")"

if [[ -f "$dest" ]] && echo "$SHA256  $dest" | sha256sum -c --status; then
  echo "$dest"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "fetch-mathjax: npm is needed to fetch mathjax@$VERSION (Debian: apt-get install npm)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-mathjax: fetching mathjax@$VERSION with npm" >&2
(cd "$tmp" && npm pack "mathjax@$VERSION" --silent >/dev/null) \
  || { echo "fetch-mathjax: npm pack mathjax@$VERSION failed" >&2; exit 1; }
tar -xzf "$tmp/mathjax-$VERSION.tgz" -C "$tmp" "package/$FILE"
echo "$SHA256  $tmp/package/$FILE" | sha256sum -c --status \
  || { echo "fetch-mathjax: checksum mismatch for $FILE of mathjax@$VERSION (expected sha256 $SHA256)" >&2; exit 1; }
mkdir -p "$dest_dir"
mv "$tmp/package/$FILE" "$dest"
echo "$dest"
