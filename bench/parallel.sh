#!/usr/bin/env bash
# Data parallelism on this machine: MNIST-sized iterative training (784
# pixels, the paper's single-level networks: T=5, S=10, batch 64) as
# 2 processes x 1 thread (`--nproc-per-node 2`) against 1 process x 2
# threads, taken alternately (so a neighbour's load hits both alike), with
# the examples/s of each epoch from metrics.jsonl and rank 0's bytes summed
# per step and time in collective operations.
#
#   bash bench/parallel.sh [rounds=2] [examples=3200]   (needs build/)
#
# The images are random bytes in IDX files (the cost of a step does not
# depend on the pixels).
set -euo pipefail
cd "$(dirname "$0")/.."
iai=build/iai
[ -x "$iai" ] || { echo "parallel: build first (bash scripts/setup.sh)" >&2; exit 1; }
rounds=${1:-2}
examples=${2:-3200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" "$examples" <<'PY'
import os, struct, sys
work, n = sys.argv[1], int(sys.argv[2])
for name, count in (("train.idx", n), ("test.idx", 64)):
    with open(os.path.join(work, name), "wb") as f:
        f.write(struct.pack(">IIII", 0x0803, count, 28, 28))
        f.write(os.urandom(count * 784))
PY
common=(train --dataset idx --train-images "$work/train.idx"
        --test-images "$work/test.idx" --inference iterative --batch-size 64
        --epochs 1 --test-every 0 --record-gradients-every 0
        --checkpoint-minutes 0)
speed() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["examples_per_second"])' "$1/metrics.jsonl"; }
for r in $(seq 1 "$rounds"); do
  "$iai" "${common[@]}" --threads 1 --nproc-per-node 2 --out "$work/two-$r" \
    > "$work/two-$r.log" 2>&1
  echo "round $r: 2 processes x 1 thread: $(speed "$work/two-$r") examples/s"
  grep "bytes summed per step" "$work/two-$r.log" | sed 's/^ */         /'
  "$iai" "${common[@]}" --threads 2 --out "$work/one-$r" > "$work/one-$r.log" 2>&1
  echo "round $r: 1 process x 2 threads: $(speed "$work/one-$r") examples/s"
done
