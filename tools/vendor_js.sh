#!/usr/bin/env bash
# Vendor the JavaScript the built book needs, so it renders with no network:
#   MathJax 3 (math), require.js + @jupyter-widgets/html-manager (static ipywidgets).
# Without this the HTML would load all three from CDNs (blank widgets, raw TeX offline).
#
# Usage: tools/vendor_js.sh [DEST]      (DEST defaults to book/_vendor; git-ignored)
#
# Fetches exact versions from the npm registry with `npm pack`, checks each tarball's
# sha512 against the pins below, and copies only the files the pages load:
#   DEST/require.js, DEST/embed-amd.js, DEST/mathjax/{tex-mml-chtml.js, output/, input/tex/extensions/}
# plus each package's licence under DEST/licenses/. _config.yml points html_static_path,
# mathjax_path and nb_ipywidgets_js at them. DEST must NOT be named _static: Jupyter Book
# auto-includes every .js found in a `_static` folder as a <script> on every page.
# Re-running is a no-op while DEST/.vendored matches the pins.
set -euo pipefail

DEST=${1:-book/_vendor}
case "$DEST" in ""|/|.|..) echo "vendor_js: refusing DEST='$DEST'" >&2; exit 2 ;; esac
# package spec | tarball name written by npm pack | sha512 (base64, as npm's `dist.integrity`)
PINS=(
  "@jupyter-widgets/html-manager@1.0.15|jupyter-widgets-html-manager-1.0.15.tgz|5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA=="
  "requirejs@2.3.8|requirejs-2.3.8.tgz|7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw=="
  "mathjax@3.2.2|mathjax-3.2.2.tgz|Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
)
want=$(printf '%s\n' "${PINS[@]}")
if [[ -f "$DEST/.vendored" && "$(cat "$DEST/.vendored")" == "$want" ]]; then
  echo "vendor_js: $DEST is up to date"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "vendor_js: npm not found. Install Node.js (which provides npm) to vendor the offline JS" >&2
  echo "           (MathJax, require.js, @jupyter-widgets/html-manager) for 'make book'." >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
specs=()
for pin in "${PINS[@]}"; do specs+=("${pin%%|*}"); done
echo "vendor_js: npm pack ${specs[*]}"
(cd "$tmp" && npm pack --silent "${specs[@]}" >/dev/null)

sha512_b64() {
  if command -v openssl >/dev/null 2>&1; then openssl dgst -sha512 -binary "$1" | base64 | tr -d '\n'
  else python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode(), end="")' "$1"
  fi
}
for pin in "${PINS[@]}"; do
  IFS='|' read -r spec tgz sum <<<"$pin"
  got=$(sha512_b64 "$tmp/$tgz")
  if [[ "$got" != "$sum" ]]; then
    echo "vendor_js: checksum mismatch for $spec ($tgz): got sha512-$got" >&2
    exit 1
  fi
  mkdir -p "$tmp/x/${tgz%.tgz}"
  tar -xzf "$tmp/$tgz" -C "$tmp/x/${tgz%.tgz}"
done

hm="$tmp/x/jupyter-widgets-html-manager-1.0.15/package"
rq="$tmp/x/requirejs-2.3.8/package"
mj="$tmp/x/mathjax-3.2.2/package"
out="$tmp/out"
mkdir -p "$out/mathjax/input/tex" "$out/mathjax/output" "$out/licenses"
cp "$rq/require.js" "$out/require.js"
cp "$hm/dist/embed-amd.js" "$out/embed-amd.js"
cp "$mj/es5/tex-mml-chtml.js" "$out/mathjax/"
cp -r "$mj/es5/output/chtml" "$out/mathjax/output/chtml"           # CHTML fonts, loaded relative to the script
cp -r "$mj/es5/input/tex/extensions" "$out/mathjax/input/tex/"    # \boldsymbol, \cancel ... (autoloaded)
cp "$mj/LICENSE" "$out/licenses/mathjax-LICENSE"
cp "$hm/dist/embed.js.LICENSE.txt" "$out/licenses/html-manager-bundled-LICENSES.txt"
for d in "$hm" "$rq" "$mj"; do    # name, version and licence of each package (requirejs ships no LICENSE file)
  python3 -c 'import json, sys; p = json.load(open(sys.argv[1])); print(p["name"], p["version"], "license:", p.get("license"))' \
    "$d/package.json"
done > "$out/licenses/PACKAGES.txt"
printf '%s\n' "$want" > "$out/.vendored"

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$out" "$DEST"
echo "vendor_js: wrote $(du -sh "$DEST" | cut -f1) to $DEST"
