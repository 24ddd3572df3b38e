#!/usr/bin/env bash
# Whether iai's steps depend on OpenBLAS: the bench's cases run alternately
# with OpenBLAS forced onto its generic Prescott kernels (what Debian's
# OpenBLAS 0.3.21 falls back to on CPUs it does not know) and onto the
# CPU's own (SkylakeX with AVX-512, Haswell with AVX2), in one run. The
# products of every step run through oneDNN, so the two columns should
# differ by noise only; the peak's OpenBLAS column shows what the forcing
# does to a program that does use OpenBLAS.
#
#   bash bench/openblas-pairs.sh [ROUNDS] [THREADS]   (defaults 3 and 1)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-1}
bench=build/bench/iai_bench
[ -x "$bench" ] || { echo "openblas-pairs: build first (bash scripts/setup.sh)" >&2; exit 1; }
own=""
grep -qw avx2 /proc/cpuinfo && own=Haswell
grep -qw avx512f /proc/cpuinfo && own=SkylakeX
[ -n "$own" ] || { echo "openblas-pairs: this CPU has neither AVX2 nor AVX-512; OpenBLAS's generic kernels are its own" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cases='peak/blas/mm2048|step/standard/S:1/T:1|step/iterative/S:10/T:5|infer/iterative/S:10/T:5|iw/K:5000'
for r in $(seq "$rounds"); do
  for core in Prescott "$own"; do
    echo "openblas-pairs: round $r of $rounds, OPENBLAS_CORETYPE=$core" >&2
    OPENBLAS_CORETYPE=$core "$bench" --benchmark_filter="^($cases)/thr:$threads/" \
      --benchmark_out="$out/$core-$r.json" --benchmark_out_format=json \
      >"$out/bench.log" 2>&1 || { cat "$out/bench.log" >&2; exit 1; }
  done
done
python3 - "$out" "$rounds" "$own" "$threads" <<'PY'
import json, statistics, sys
out, rounds, own, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def times(core):
    runs = []
    for r in range(1, rounds + 1):
        doc = json.load(open(f"{out}/{core}-{r}.json"))
        runs.append(({b["name"].split("/thr:")[0]: b for b in doc["benchmarks"]
                      if b.get("run_type") == "iteration"},
                     doc.get("context", {}).get("openblas_core", "?")))
    return runs
generic, mine = times("Prescott"), times(own)
print(f"{threads} thread(s), medians of {rounds} alternated round(s); OpenBLAS ran "
      f"'{generic[0][1]}' and '{mine[0][1]}'")
print(f"{'case':<26} {'Prescott':>10} {own:>10} {'ratio':>6}  (Prescott / {own}: 1 = no dependence)")
for name in generic[0][0]:
    if name.startswith("peak/"):
        a = statistics.median(run[name]["GFLOP/s"] for run, _ in generic)
        b = statistics.median(run[name]["GFLOP/s"] for run, _ in mine)
        print(f"{name:<26} {a:>8.1f}GF {b:>8.1f}GF {b / a:>6.2f}  (GFLOP/s; {own} / Prescott)")
        continue
    a = [run[name]["real_time"] for run, _ in generic]
    b = [run[name]["real_time"] for run, _ in mine]
    print(f"{name:<26} {statistics.median(a):>8.2f}ms {statistics.median(b):>8.2f}ms "
          f"{statistics.median(x / y for x, y in zip(a, b)):>6.3f}  "
          f"[{' '.join(f'{x / y:.3f}' for x, y in zip(a, b))}]")
PY
