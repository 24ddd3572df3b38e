#!/usr/bin/env bash
# Trains MNIST's iterative inference model twice at the same budget, once
# with the paper's MLP decoder and once with the convolutional decoder of
# conv_decoder.py, then measures both: the ELBO after inference, the
# importance-weighted log p(x), and the amortisation gap (iai gap).
#
#   bash examples/conv-decoder/run.sh [OUT] [-- extra iai train flags]
#
# OUT (default runs/conv-decoder) gets one run folder per decoder and
# table.md. Budget: EPOCHS (default 5) epochs on the first MAX_TRAIN
# (default 10000) training examples, THREADS (default 1) threads; the
# measurements use the first 500 test examples.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/conv-decoder}; shift || true
[ "${1:-}" = "--" ] && shift
iai=${IAI_BIN:-build/iai}
py=/usr/bin/python3
epochs=${EPOCHS:-5} max_train=${MAX_TRAIN:-10000} threads=${THREADS:-1}
[ -x "$iai" ] || { echo "run.sh: $iai is missing; build first (bash scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$out"

$py examples/conv-decoder/conv_decoder.py "$out/conv-decoder.pt"
common=(--inference iterative --epochs "$epochs" --max-train "$max_train"
        --threads "$threads" --seed 1 "$@")
for name in mlp conv; do
  run=$out/$name
  flags=(); [ "$name" = conv ] && flags=(--decoder "$out/conv-decoder.pt")
  if [ -f "$run/checkpoint.pt" ]; then
    "$iai" train --resume "$run" --epochs "$epochs" --threads "$threads"
  else
    "$iai" train "${common[@]}" "${flags[@]}" --out "$run"
  fi
  "$iai" eval --checkpoint "$run" --max-examples 500 --iw-samples 1000 \
    --threads "$threads" --out "$run/eval"
  "$iai" gap --checkpoint "$run" --max-examples 100 --refine-iterations 200 \
    --iw-samples 1000 --threads "$threads" --out "$run/gap"
done

$py - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = ["| decoder | train s/epoch (median) | ELBO (T = 5) | log p(x), K = 1000 "
        "| amortisation gap | approximation gap |", "|---|---|---|---|---|---|"]
for name, label in (("mlp", "MLP (the paper's)"), ("conv", "convolutional (TorchScript)")):
    ev = json.load(open(f"{out}/{name}/eval/eval.json"))
    gap = json.load(open(f"{out}/{name}/gap/gap.json"))
    metrics = [json.loads(l) for l in open(f"{out}/{name}/metrics.jsonl")]
    secs = sorted(m["seconds"] for m in metrics)[len(metrics) // 2]  # median
    rows.append(f"| {label} | {secs:.0f} | {ev['elbo']:.2f} "
                f"| {ev['log_px']:.2f} | {gap['amortization_gap']:.2f} "
                f"| {gap['approximation_gap']:.2f} |")
text = "\n".join(rows) + "\n"
open(f"{out}/table.md", "w").write(text)
print(text)
PY
