#!/usr/bin/env bash
# Copies the build's header-only dependencies and GoogleTest's sources from
# the installed Debian packages into one folder (default vendor/, ignored by
# git), so a machine without those packages (a GPU machine with a pip torch
# and no apt) can build iai: CMake takes from it whatever is not installed
# (cmake -DIAI_VENDOR_DIR=DIR; vendor/ is found by itself).
#
#   bash scripts/vendor-deps.sh [--out DIR]
#
# Copied: CLI11 (libcli11-dev; also reads the TOML --config files),
# nlohmann-json (nlohmann-json3-dev), stb (libstb-dev), zlib's two headers
# (zlib1g-dev; the library itself is on every machine) and GoogleTest's
# sources (googletest). Not copied: matio and gnuplot, which are optional.
set -euo pipefail
cd "$(dirname "$0")/.."
out=vendor
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "vendor-deps: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done

need() {  # need PATH PACKAGE
  [ -e "$1" ] || {
    echo "vendor-deps: $1 is missing; install the Debian package $2 " \
      "(bash scripts/setup.sh installs it)" >&2
    exit 1
  }
}
need /usr/include/CLI/CLI.hpp libcli11-dev
need /usr/include/nlohmann/json.hpp nlohmann-json3-dev
need /usr/include/stb/stb_image_write.h libstb-dev
need /usr/include/zlib.h zlib1g-dev
need /usr/src/googletest/googletest/CMakeLists.txt googletest

rm -rf "$out"
mkdir -p "$out/include/stb"
cp -r /usr/include/CLI "$out/include/"
cp -r /usr/include/nlohmann "$out/include/"
cp /usr/include/stb/stb_image_write.h "$out/include/stb/"
cp /usr/include/zlib.h /usr/include/zconf.h "$out/include/"
# zconf.h may be an arch-specific include on some systems.
[ -e /usr/include/x86_64-linux-gnu/zconf.h ] &&
  cp /usr/include/x86_64-linux-gnu/zconf.h "$out/include/"
cp -r /usr/src/googletest "$out/googletest"
echo "vendor-deps: $(du -sh "$out" | cut -f1) in $out (CLI11, nlohmann-json, stb, zlib headers, GoogleTest sources)"
