#!/usr/bin/env bash
# iai against the same work in Python PyTorch, in one run: at 1 and 2
# threads, each case's ms, the ratio (PyTorch time / iai time: above 1 means
# iai is faster) and both implementations' fraction of the machine's GEMM
# peak measured in the same run: the better of LibTorch's BLAS (OpenBLAS)
# and oneDNN on a 2048^3 product, both printed. Both sides use the same
# LibTorch and OpenBLAS (Debian's libtorch-dev and python3-torch).
#
# Where OpenBLAS would run its generic pre-AVX kernels on this CPU (Debian's
# 0.3.21 on CPUs it does not know), the PyTorch baseline gets
# OPENBLAS_CORETYPE for the CPU (SkylakeX with AVX-512, Haswell with AVX2),
# so that iai is compared with PyTorch at its best; OPENBLAS_CORETYPE set by
# the caller is kept. The kernels each side ran are printed.
#
#   bash bench/compare.sh [SECONDS] [ROUNDS]   (needs build/; ~1 minute a round)
#
# ROUNDS (default 3) runs everything that many times, iai and PyTorch
# interleaved, and reports each figure's median: a machine whose speed
# drifts (a shared host) moves single readings by 5-10%, the GEMM peak
# included.
#
# Below the table, for each training step: the ms of it spent in its matrix
# products (gemm::ProductClock) and the fraction of peak reached there, so
# that what stands between a step and the peak reads as products against
# everything else.
#
# Installs python3-torch when it is missing (as setup.sh installs the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-2}
rounds=${2:-3}
bench=build/bench/iai_bench
[ -x "$bench" ] || { echo "compare: build first (bash scripts/setup.sh)" >&2; exit 1; }
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "compare: installing python3-torch (the PyTorch baseline)" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    python3-torch >/dev/null
fi
out=$(mktemp -d)
# The baseline's OpenBLAS core as it would be, and the CPU's own.
torch_core=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "bench"); import torch, pytorch_baseline as p; print(p.openblas_core())')
cpu_core=""
grep -qw avx2 /proc/cpuinfo && cpu_core=Haswell
grep -qw avx512f /proc/cpuinfo && cpu_core=SkylakeX
baseline_env=()
case "${torch_core,,}" in
  prescott|core2|penryn|dunnington|nehalem|atom|katmai|banias|generic)
    if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$cpu_core" ]; then
      echo "compare: OpenBLAS would run its generic '$torch_core' kernels here;" \
        "the PyTorch baseline runs with OPENBLAS_CORETYPE=$cpu_core" >&2
      baseline_env=(OPENBLAS_CORETYPE="$cpu_core")
    fi ;;
esac
cases='step/standard/S:1/T:1|step/iterative/S:10/T:5|infer/iterative/S:10/T:5|iw/K:5000'
for r in $(seq "$rounds"); do
  for t in 1 2; do
    echo "compare: round $r of $rounds, iai, $t thread(s)" >&2
    "$bench" --benchmark_filter="^(peak/[a-z]+/mm2048|$cases)/thr:$t/" \
      --benchmark_out="$out/iai-$t-$r.json" --benchmark_out_format=json \
      >"$out/iai-$t.log" 2>&1 || { cat "$out/iai-$t.log" >&2; exit 1; }
    echo "compare: round $r of $rounds, PyTorch, $t thread(s)" >&2
    env "${baseline_env[@]}" /usr/bin/python3 bench/pytorch_baseline.py --threads "$t" \
      --seconds "$seconds" --json >"$out/torch-$t-$r.json"
  done
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
first = json.load(open(f"{out}/iai-1-1.json"))
ctx = first.get("context", {})
base = json.load(open(f"{out}/torch-1-1.json"))
print(f"iai: products on {ctx.get('products', '?')}, OpenBLAS {ctx.get('openblas_core', '?')}; "
      f"PyTorch {base.get('torch', '?')}: OpenBLAS {base.get('openblas_core', '?')}")
print(f"medians of {rounds} round(s); in brackets, each round's iai %pk; "
      f"peak = the better of OpenBLAS and oneDNN on a 2048^3 product")
print(f"{'case':<26} {'thr':>3} {'peak GF/s':>9} {'iai ms':>9} {'torch ms':>9} "
      f"{'torch/iai':>9} {'iai %pk':>8} {'torch %pk':>9}")
splits = []
for t in (1, 2):
    iai_runs, torch_runs = [], []
    for r in range(1, rounds + 1):
        iai = json.load(open(f"{out}/iai-{t}-{r}.json"))["benchmarks"]
        iai_runs.append({b["name"].split("/thr:")[0]: b for b in iai
                         if b.get("run_type") == "iteration"})
        torch_runs.append(json.load(open(f"{out}/torch-{t}-{r}.json"))["results"])
    peaks = [max(b["GFLOP/s"] for k, b in run.items() if k.startswith("peak/"))
             for run in iai_runs]
    peak = statistics.median(peaks)
    each_peak = {k: statistics.median(run[k]["GFLOP/s"] for run in iai_runs)
                 for k in iai_runs[0] if k.startswith("peak/")}
    print(f"peak at {t} thread(s): " + ", ".join(
        f"{k.split('/')[1]} {v:.1f}" for k, v in sorted(each_peak.items())) + " GFLOP/s")
    for name, b in iai_runs[0].items():
        if name.startswith("peak") or name not in torch_runs[0]:
            continue
        gflop = b["GFLOP/s"] * b["real_time"] / 1e3  # per iteration (ms times)
        each = [run[name]["real_time"] for run in iai_runs]
        ms = statistics.median(each)
        tms = statistics.median(run[name]["ms"] for run in torch_runs)
        rounds_pk = " ".join(f"{100 * gflop / (m / 1e3) / p:.0f}" for m, p in zip(each, peaks))
        print(f"{name:<26} {t:>3} {peak:>9.1f} {ms:>9.2f} {tms:>9.2f} {tms / ms:>9.2f} "
              f"{100 * gflop / (ms / 1e3) / peak:>7.1f}% {100 * gflop / (tms / 1e3) / peak:>8.1f}%"
              f"  [{rounds_pk}]")
        if "products_ms" in b:
            pms = statistics.median(run[name]["products_ms"] for run in iai_runs)
            splits.append(f"{name} at {t} thread(s): {pms:.2f} of {ms:.2f} ms in "
                          f"products ({100 * gflop / (pms / 1e3) / peak:.1f}% of peak there), "
                          f"{ms - pms:.2f} ms in the rest")
for line in splits:
    print(line)
PY
