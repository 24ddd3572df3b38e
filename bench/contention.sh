#!/usr/bin/env bash
# How much of its throughput iai keeps when another CPU-bound process
# shares the machine, under OpenMP wait policies: for each policy, the
# 2-thread training steps of iai_bench idle and beside a busy loop on one
# core, and the fraction kept (idle time / contended time).
#
#   bash bench/contention.sh [VAR=VALUE ...]
#
# (needs build/; ~3 minutes; run it on an otherwise idle machine). With
# arguments, each VAR=VALUE is one policy instead of the built-in list.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=build/bench/iai_bench
[ -x "$bench" ] || { echo "contention: build first (bash scripts/setup.sh)" >&2; exit 1; }
filter='^step/(standard/S:1/T:1|iterative/S:10/T:5)/thr:2/'
out=$(mktemp -d)
run() {  # name, env assignments...
  local name=$1; shift
  env "$@" "$bench" --benchmark_filter="$filter" --benchmark_out="$out/$name.json" \
    --benchmark_out_format=json >/dev/null 2>&1
}
# iai_bench takes the environment as it is (only the iai binary sets a
# policy of its own), so "libgomp default" is no variable at all.
policies=("libgomp default|IAI_POLICY=default"
          "GOMP_SPINCOUNT=10000|GOMP_SPINCOUNT=10000"
          "GOMP_SPINCOUNT=1000|GOMP_SPINCOUNT=1000"
          "GOMP_SPINCOUNT=100|GOMP_SPINCOUNT=100"
          "OMP_WAIT_POLICY=PASSIVE|OMP_WAIT_POLICY=PASSIVE")
# Or the policies named on the command line, each one VAR=VALUE
# (bash bench/contention.sh GOMP_SPINCOUNT=3000 GOMP_SPINCOUNT=30000).
if [ $# -gt 0 ]; then
  policies=()
  for setting in "$@"; do policies+=("$setting|$setting"); done
fi
for p in "${policies[@]}"; do
  name=${p%%|*}; vars=${p#*|}; key=$(echo "$name" | tr -c 'a-zA-Z0-9' _)
  echo "contention: $name, idle" >&2
  run "$key-idle" $vars
  echo "contention: $name, beside a busy loop" >&2
  ( while :; do :; done ) & busy=$!
  run "$key-busy" $vars
  kill $busy; wait $busy 2>/dev/null || true
done
/usr/bin/python3 - "$out" "${policies[@]}" <<'PY'
import json, re, sys
out = sys.argv[1]
print(f"{'policy':<24} {'case':<28} {'idle ms':>9} {'busy ms':>9} {'kept':>6}")
for p in sys.argv[2:]:
    name = p.split("|")[0]
    key = re.sub(r"[^a-zA-Z0-9]", "_", name) + "_"
    def load(kind):
        data = json.load(open(f"{out}/{key}-{kind}.json"))["benchmarks"]
        return {b["name"].split("/thr:")[0]: b["real_time"] for b in data
                if b.get("run_type") == "iteration"}
    idle, busy = load("idle"), load("busy")
    for case in idle:
        print(f"{name:<24} {case:<28} {idle[case]:>9.1f} {busy[case]:>9.1f} "
              f"{100 * idle[case] / busy[case]:>5.0f}%")
PY
