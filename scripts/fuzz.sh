#!/usr/bin/env bash
# Fuzzes every reader of outside bytes with libFuzzer + AddressSanitizer +
# UndefinedBehaviorSanitizer (clang; Debian's clang-14 and
# libclang-rt-14-dev, installed when missing):
#
#   scripts/fuzz.sh [SECONDS] [READER...]   each reader for SECONDS (60)
#   scripts/fuzz.sh --runs N [READER...]    each reader for N executions
#   scripts/fuzz.sh --make-corpus           rewrite the seed corpus
#
# Readers: idx cifar10 mat bag_of_words vocabulary config checkpoint
# (fuzz/*_fuzz.cpp; fuzz/CMakeLists.txt is a project of its own: the
# readers instrumented, the rest of iai from the Release build in build/,
# which scripts/setup.sh makes). Builds into build-fuzz/; each reader starts from its
# seed corpus (fuzz/corpus/READER, committed) and grows its own working
# corpus in build-fuzz/corpus/READER. A crash, a sanitizer report, a leak, an
# input over 2 GB of memory or 10 s (IAI_FUZZ_TIMEOUT), or an exception
# other than iai::Error leaves its input in build-fuzz/findings/READER/ and
# fails the script. The
# last lines are a table: executions, executions per second, findings.
set -euo pipefail
cd "$(dirname "$0")/.."

all_readers=(idx cifar10 mat bag_of_words vocabulary config checkpoint)
seconds=60
runs=""
make_corpus=0
case "${1:-}" in
  --runs) runs=$2; shift 2 ;;
  --make-corpus) make_corpus=1; shift ;;
  ''|*[!0-9]*) ;;
  *) seconds=$1; shift ;;
esac
readers=("$@")
[ ${#readers[@]} -gt 0 ] || readers=("${all_readers[@]}")

missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "fuzz: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Release build (build/) provides the uninstrumented rest of iai.
bash scripts/setup.sh >/dev/null
dir=build-fuzz
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S fuzz -B "$dir" -DCMAKE_BUILD_TYPE=None "${launcher[@]}" \
  -DCMAKE_CXX_COMPILER=clang++-14 -DIAI_BUILD_DIR="$(pwd)/build" >/dev/null
jobs=$(nproc 2>/dev/null || echo 2)
targets=()
if [ $make_corpus -eq 1 ]; then
  targets=(fuzz_make_corpus)
else
  for r in "${readers[@]}"; do targets+=("fuzz_$r"); done
fi
echo "fuzz: building ${targets[*]} into $dir with $jobs jobs"
if ! cmake --build "$dir" -j "$jobs" --target "${targets[@]}" >"$dir/build.log" 2>&1; then
  tail -n 60 "$dir/build.log" >&2
  echo "fuzz: build failed (full log: $dir/build.log)" >&2
  exit 1
fi

supp=$(pwd)/scripts/sanitizers
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:suppressions=$supp/asan.supp"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
# LibTorch's own thread pools only slow a one-input-at-a-time fuzzer.
export OMP_NUM_THREADS=1

if [ $make_corpus -eq 1 ]; then
  rm -rf fuzz/corpus
  "$dir/fuzz_make_corpus" fuzz/corpus
  find fuzz/corpus -type f | sort
  exit 0
fi

# A unit running longer than this many seconds is a finding (libFuzzer's
# -timeout, and its slow-unit report). libFuzzer times a unit by the wall
# clock, so a fuzzer stopped (SIGSTOP, a suspended job) for longer while it
# runs one reports a timeout: raise IAI_FUZZ_TIMEOUT where the fuzzers may
# be paused.
timeout=${IAI_FUZZ_TIMEOUT:-10}
summary=()
failed=0
for r in "${readers[@]}"; do
  work="$dir/corpus/$r"
  findings="$dir/findings/$r"
  mkdir -p "$work" "$findings"
  log="$dir/fuzz-$r.log"
  limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  echo "fuzz: $r (${runs:+$runs runs}${runs:-$seconds s}), log $log"
  # Checkpoints and .mat files are tens of kB; the other formats' seeds are
  # under 7 kB, and shorter inputs mutate faster.
  max_len=16384
  case $r in checkpoint|mat) max_len=65536 ;; esac
  code=0
  # -close_fd_mask=3: the readers' own error messages are not findings.
  "$dir/fuzz_$r" "${limit[@]}" -max_len=$max_len -timeout="$timeout" \
    -report_slow_units="$timeout" \
    -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$work" "fuzz/corpus/$r" >"$log" 2>&1 || code=$?
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  speed=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -1)
  found=$(find "$findings" -type f | wc -l)
  if [ $code -ne 0 ] || [ "$found" -gt 0 ]; then
    failed=1
    grep -m 3 -E "ERROR|runtime error|deadly signal|uncaught" "$log" >&2 || true
  fi
  summary+=("$(printf '%-13s %12s %10s %9s' "$r" "${execs:-?}" "${speed:-?}" "$found")")
done
printf '%-13s %12s %10s %9s\n' reader executions "exec/s" findings
printf '%s\n' "${summary[@]}"
exit $failed
