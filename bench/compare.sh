#!/usr/bin/env bash
# iai against the same work in Python PyTorch, in one run: at 1 and 2
# threads, each case's ms, the ratio (PyTorch time / iai time: above 1 means
# iai is faster) and both implementations' fraction of the machine's GEMM
# peak measured in the same run. Both use the same LibTorch and OpenBLAS
# (Debian's libtorch-dev and python3-torch).
#
#   bash bench/compare.sh [SECONDS]     (needs build/; ~5 minutes)
#
# Installs python3-torch when it is missing (as setup.sh installs the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-2}
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
for t in 1 2; do
  echo "compare: iai, $t thread(s)" >&2
  "$bench" --benchmark_filter="^(peak/mm2048|$cases)/thr:$t/" \
    --benchmark_out="$out/iai-$t.json" --benchmark_out_format=json \
    >"$out/iai-$t.log" 2>&1 || { cat "$out/iai-$t.log" >&2; exit 1; }
  echo "compare: PyTorch, $t thread(s)" >&2
  /usr/bin/python3 bench/pytorch_baseline.py --threads "$t" --seconds "$seconds" \
    --json >"$out/torch-$t.json"
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print(f"{'case':<26} {'thr':>3} {'peak GF/s':>9} {'iai ms':>9} {'torch ms':>9} "
      f"{'torch/iai':>9} {'iai %pk':>8} {'torch %pk':>9}")
for t in (1, 2):
    iai = json.load(open(f"{out}/iai-{t}.json"))["benchmarks"]
    torch = json.load(open(f"{out}/torch-{t}.json"))["results"]
    rows = {b["name"].split("/thr:")[0]: b for b in iai if b.get("run_type") == "iteration"}
    peak = rows["peak/mm2048"]["GFLOP/s"]
    for name, b in rows.items():
        if name.startswith("peak") or name not in torch:
            continue
        ms = b["real_time"]  # the benchmarks report milliseconds
        gflop = b["GFLOP/s"] * ms / 1e3  # per iteration
        tms = torch[name]["ms"]
        print(f"{name:<26} {t:>3} {peak:>9.1f} {ms:>9.2f} {tms:>9.2f} {tms / ms:>9.2f} "
              f"{100 * gflop / (ms / 1e3) / peak:>7.1f}% {100 * gflop / (tms / 1e3) / peak:>8.1f}%")
PY
