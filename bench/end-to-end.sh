#!/usr/bin/env bash
# The whole command against the bench, in one run: `iai train`'s own
# examples/s (metrics.jsonl, the epoch's training time: drawing and
# binarising the batches, the steps, the progress line, the gradient record)
# against the bench's training step, for the standard and the iterative
# MNIST models, and `iai eval`'s importance-weighted log p(x) (K = 5000)
# against the bench's `iw` case, at 1 and 2 threads. ROUNDS rounds,
# everything interleaved; medians.
#
#   bash bench/end-to-end.sh [ROUNDS] [STANDARD_EXAMPLES] [ITERATIVE_EXAMPLES]
#     (defaults 3, 25600 and 6400; needs build/ and data/mnist; about a
#      minute a round)
#
# The ratio is the command's examples/s over the bench's: 1.00 means the
# command runs at the pace of its step, with nothing else costing time.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
standard_examples=${2:-25600}
iterative_examples=${3:-6400}
eval_examples=64
bench=build/bench/iai_bench
iai=build/iai
[ -x "$bench" ] && [ -x "$iai" ] || {
  echo "end-to-end: build first (bash scripts/setup.sh)" >&2
  exit 1
}
[ -e data/mnist/train-images-idx3-ubyte ] || [ -e data/mnist/train-images-idx3-ubyte.gz ] || {
  echo "end-to-end: needs MNIST in data/mnist (bash scripts/fetch-data.sh)" >&2
  exit 1
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cases='step/standard/S:1/T:1|step/iterative/S:10/T:5|iw/K:5000'
for r in $(seq "$rounds"); do
  for t in 1 2; do
    echo "end-to-end: round $r of $rounds, $t thread(s): bench" >&2
    "$bench" --benchmark_filter="^($cases)/thr:$t/" \
      --benchmark_out="$out/bench-$t-$r.json" --benchmark_out_format=json \
      >"$out/bench.log" 2>&1 || { cat "$out/bench.log" >&2; exit 1; }
    for model in standard iterative; do
      n=$standard_examples
      [ "$model" = iterative ] && n=$iterative_examples
      echo "end-to-end: round $r of $rounds, $t thread(s): iai train $model, $n examples" >&2
      "$iai" train --config "configs/mnist-single-$model.toml" --epochs 1 \
        --max-train "$n" --test-every 0 --threads "$t" \
        --out "$out/$model-$t-$r" >"$out/train.log" 2>&1 ||
        { cat "$out/train.log" >&2; exit 1; }
    done
    echo "end-to-end: round $r of $rounds, $t thread(s): iai eval, $eval_examples examples, K = 5000" >&2
    "$iai" eval --checkpoint "$out/standard-$t-$r" --max-examples "$eval_examples" \
      --iw-samples 5000 --grid-examples 0 --threads "$t" \
      --out "$out/eval-$t-$r" >"$out/eval.log" 2>&1 ||
      { cat "$out/eval.log" >&2; exit 1; }
  done
done
python3 - "$out" "$rounds" "$eval_examples" <<'PY'
import json, statistics, sys
out, rounds, eval_examples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def bench(t, r):
    runs = json.load(open(f"{out}/bench-{t}-{r}.json"))["benchmarks"]
    return {b["name"].split("/thr:")[0]: b["ex/s"] for b in runs
            if b.get("run_type") == "iteration"}
def train(model, t, r):
    lines = open(f"{out}/{model}-{t}-{r}/metrics.jsonl").read().splitlines()
    return json.loads(lines[-1])["examples_per_second"]
def evaluate(t, r):
    return eval_examples / json.load(open(f"{out}/eval-{t}-{r}/eval.json"))["seconds"]
rows = [("standard training", "step/standard/S:1/T:1", lambda t, r: train("standard", t, r)),
        ("iterative training", "step/iterative/S:10/T:5", lambda t, r: train("iterative", t, r)),
        ("eval, log p(x) K=5000", "iw/K:5000", evaluate)]
print(f"medians of {rounds} interleaved round(s); ex/s; in brackets each round's ratio")
print(f"{'case':<22} {'thr':>3} {'command':>9} {'bench':>9} {'ratio':>6}")
for t in (1, 2):
    for label, case, command in rows:
        mine = [command(t, r) for r in range(1, rounds + 1)]
        theirs = [bench(t, r)[case] for r in range(1, rounds + 1)]
        each = " ".join(f"{m / b:.3f}" for m, b in zip(mine, theirs))
        print(f"{label:<22} {t:>3} {statistics.median(mine):>9.1f} "
              f"{statistics.median(theirs):>9.1f} "
              f"{statistics.median(m / b for m, b in zip(mine, theirs)):>6.3f}  [{each}]")
PY
