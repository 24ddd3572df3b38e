#!/usr/bin/env bash
# Installs every Debian package the build needs (when missing), then
# configures and builds iai (Release) into build/. Idempotent; run as root or
# with sudo on Debian 12.
#
#   bash scripts/setup.sh [--libtorch DIR]
#
# --libtorch DIR: build against another LibTorch (e.g. a CUDA one: a pip
# torch's `python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'`)
# instead of Debian's libtorch-dev, which is then not installed. Where apt is
# not available, the header-only dependencies come from vendor/
# (scripts/vendor-deps.sh, run on a machine that has them).
set -euo pipefail
cd "$(dirname "$0")/.."

libtorch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --libtorch) libtorch=${2:?--libtorch needs a folder}; shift 2 ;;
    *) echo "setup: unknown argument '$1' (usage: setup.sh [--libtorch DIR])" >&2
       exit 1 ;;
  esac
done
if [ -n "$libtorch" ] && [ ! -d "$libtorch" ]; then
  echo "setup: --libtorch '$libtorch' is not a folder" >&2
  exit 1
fi

packages=(
  build-essential cmake pkg-config
  libtorch-dev            # tensors, autograd, modules, optimisers
  libgloo-dev             # headers of c10d's Gloo process group (iai train --nproc-per-node)
  libopenblas0-openmp     # fast BLAS: reference BLAS is ~10x slower
  libopenblas-openmp-dev
  libdnnl-dev             # oneDNN's headers: float32 products of thin batches near peak
  libcli11-dev nlohmann-json3-dev libstb-dev zlib1g-dev
  libmatio-dev            # MATLAB .mat files (SVHN, Omniglot)
  libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox             # PNG plots (iai compare, sweeps, surface, report)
  procps                  # pgrep and ps: scripts/reproduce.sh stops its runs through them
  help2man                # the man page, iai.1, from iai's help texts
  chromium                # headless: the report test renders report.html
  googletest              # GoogleTest's sources (scripts/vendor-deps.sh)
  # The Python package (python/): Debian's torch shares libtorch-dev's
  # LibTorch; pytest runs its tests.
  python3-torch python3-dev pybind11-dev python3-pytest
)
if [ -n "$libtorch" ]; then
  # Another LibTorch: Debian's and its BLAS are not needed.
  kept=()
  for p in "${packages[@]}"; do
    case "$p" in libtorch-dev|libopenblas*|libdnnl-dev|python3-torch) ;; *) kept+=("$p") ;; esac
  done
  packages=("${kept[@]}")
fi

missing=()
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
elif [ -n "$libtorch" ]; then
  echo "setup: no apt here; the header-only dependencies come from vendor/" \
    "(scripts/vendor-deps.sh)"
else
  echo "setup: no apt here: pass --libtorch DIR (and copy vendor/ from" \
    "scripts/vendor-deps.sh)" >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's LibTorch calls whatever libblas.so.3 the alternatives system
# names; make sure that is OpenBLAS (OpenMP build), not the reference BLAS.
blas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$blas" ] && command -v update-alternatives >/dev/null; then
  current=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null |
    awk '/^Value:/ {print $2}')
  if [ "$current" != "$blas" ] && [ "$(id -u)" -eq 0 ]; then
    update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >/dev/null
  fi
fi

jobs=$(nproc 2>/dev/null || echo 2)
prefix=()
# Another LibTorch brings its own oneDNN and OpenMP runtime inside; a second
# of either (Debian's libdnnl, libgomp) in one process is not worth the risk.
[ -n "$libtorch" ] && prefix=("-DCMAKE_PREFIX_PATH=$libtorch" -DIAI_WITH_ONEDNN=OFF -DIAI_WITH_OPENMP=OFF)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${prefix[@]}" >/dev/null
echo "setup: building iai with $jobs jobs (first build takes a few minutes)"
if ! cmake --build build -j "$jobs" >build/build.log 2>&1; then
  tail -n 60 build/build.log >&2
  echo "setup: build failed (full log: build/build.log)" >&2
  exit 1
fi
echo "setup: done, build/iai is ready"
# The Python package, when the build found a Python whose torch runs on
# this LibTorch (python/CMakeLists.txt).
if ls build/python/iai/_iai*.so >/dev/null 2>&1; then
  python=$(sed -n 's/^Python3_EXECUTABLE:FILEPATH=//p' build/CMakeCache.txt)
  echo "setup: Python package built: export PYTHONPATH=$PWD/build/python," \
    "then 'import iai' in ${python:-python3} (docs/python.md)"
fi
