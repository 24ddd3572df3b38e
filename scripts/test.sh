#!/usr/bin/env bash
# README command 2: set up (install + build), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
# Each test runs single-threaded (see tests/CMakeLists.txt); two at a time.
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
