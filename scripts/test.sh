#!/usr/bin/env bash
# README command 2: set up (install + build), then run the whole test suite.
#   scripts/test.sh             the suite on the Release build (build/)
#   scripts/test.sh --sanitize  the suite on an AddressSanitizer +
#                               UndefinedBehaviorSanitizer build
#                               (build-sanitize/); extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--sanitize" ]; then
  shift
  exec bash scripts/sanitize.sh "$@"
fi

bash scripts/setup.sh
cd build
# Each test runs single-threaded (see tests/CMakeLists.txt); two at a time.
# The trajectory-dependent tests run a second time under other kernels
# (ctest label other-kernels), so a margin that holds only for this CPU's
# rounding fails here too.
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
