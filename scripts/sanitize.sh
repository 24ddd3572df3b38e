#!/usr/bin/env bash
# scripts/test.sh --sanitize: builds iai, its CLI and its tests with
# AddressSanitizer + UndefinedBehaviorSanitizer into build-sanitize/ and runs
# the suite there. LibTorch, OpenBLAS and matio stay uninstrumented (Debian's
# builds); reports from inside them are suppressed in scripts/sanitizers/,
# each suppression with its reason. Any other report fails the test it
# occurs in. Arguments go to ctest (e.g. -LE other-kernels, -R Checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null   # the packages (and the plain build)

dir=build-sanitize
here=$(pwd)
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g1 -O1"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=None -DIAI_BUILD_BENCH=OFF \
  "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
jobs=$(nproc 2>/dev/null || echo 2)
echo "sanitize: building into $dir with $jobs jobs"
if ! cmake --build "$dir" -j "$jobs" >"$dir/build.log" 2>&1; then
  tail -n 60 "$dir/build.log" >&2
  echo "sanitize: build failed (full log: $dir/build.log)" >&2
  exit 1
fi

supp="$here/scripts/sanitizers"
# halt_on_error / exitcode: a report fails the test. detect_leaks: LeakSanitizer
# too. The CLI binary the kill tests start inherits these.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:suppressions=$supp/asan.supp"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
cd "$dir"
ctest --output-on-failure -j "$jobs" "$@"
