#!/usr/bin/env bash
# iai against the same work in Python PyTorch, in one run: at 1 and 2
# threads, each case's ms, the ratio (PyTorch time / iai time: above 1 means
# iai is faster) and both implementations' fraction of the machine's GEMM
# peak measured in the same run. Both use the same LibTorch and OpenBLAS
# (Debian's libtorch-dev and python3-torch).
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
cases='step/standard/S:1/T:1|step/iterative/S:10/T:5|infer/iterative/S:10/T:5|iw/K:5000'
for r in $(seq "$rounds"); do
  for t in 1 2; do
    echo "compare: round $r of $rounds, iai, $t thread(s)" >&2
    "$bench" --benchmark_filter="^(peak/mm2048|$cases)/thr:$t/" \
      --benchmark_out="$out/iai-$t-$r.json" --benchmark_out_format=json \
      >"$out/iai-$t.log" 2>&1 || { cat "$out/iai-$t.log" >&2; exit 1; }
    echo "compare: round $r of $rounds, PyTorch, $t thread(s)" >&2
    /usr/bin/python3 bench/pytorch_baseline.py --threads "$t" --seconds "$seconds" \
      --json >"$out/torch-$t-$r.json"
  done
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
print(f"medians of {rounds} round(s); in brackets, each round's iai %pk")
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
    peaks = [run["peak/mm2048"]["GFLOP/s"] for run in iai_runs]
    peak = statistics.median(peaks)
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
