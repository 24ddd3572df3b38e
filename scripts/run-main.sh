#!/usr/bin/env bash
# README command 1, the main job: set up, fetch MNIST, train a standard and an
# iterative model (single-level, or hierarchical with IAI_MODEL=hierarchical,
# which also trains the ladder baseline) with the same architecture and
# budget, evaluate
# both on the test set (ELBO and importance-weighted log p(x)), and print them
# side by side with the paper's Table 1; then compare the iterative model with
# tuned optimisers on lambda (Figure 4), measure both models' amortisation
# gaps, and write one self-contained report.html of it all.
#
# The default budget (about 30 minutes on 2 cores) is set by:
#   IAI_MODEL          single (default) or hierarchical (Section 4.1)
#   IAI_EPOCHS         epochs for each model            (default 5)
#   IAI_EVAL_EXAMPLES  test examples for the evaluation (default 1000; 0 = all)
#   IAI_IW_SAMPLES     K importance samples for log p(x) (default 5000)
#   IAI_COMPARE_EXAMPLES test examples for compare and gap (default 200; 0 skips them)
#   IAI_RUN_DIR        where the runs go (default runs/main-<date>-<time>)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${IAI_MODEL:-single}
case "$model" in
  single) inferences=(standard iterative) ;;
  hierarchical) inferences=(standard ladder iterative) ;;
  *) echo "run-main: IAI_MODEL must be single or hierarchical, got '$model'" >&2; exit 2 ;;
esac
epochs=${IAI_EPOCHS:-5}
eval_examples=${IAI_EVAL_EXAMPLES:-1000}
iw=${IAI_IW_SAMPLES:-5000}
compare_examples=${IAI_COMPARE_EXAMPLES:-200}
dir=${IAI_RUN_DIR:-runs/main-$(date +%Y%m%d-%H%M%S)}

bash scripts/setup.sh
bash scripts/fetch-data.sh
start=$(date +%s)
runs=()
for inference in "${inferences[@]}"; do
  runs+=("$dir/$inference")
  echo
  echo "=== training the $model $inference model ($epochs epochs) ==="
  ./build/iai train --config "configs/mnist-$model-$inference.toml" \
    --epochs "$epochs" --out "$dir/$inference"
  echo
  echo "=== evaluating the $inference model ==="
  ./build/iai eval --checkpoint "$dir/$inference" --iw-samples "$iw" \
    --max-examples "$eval_examples"
done
echo
./build/iai table "${runs[@]}"
if [ "$compare_examples" -gt 0 ]; then
  echo
  echo "=== Figure 4: the iterative model against optimisers on lambda ==="
  ./build/iai compare --checkpoint "$dir/iterative" \
    --max-examples "$compare_examples" --iterations 500
  for inference in "${inferences[@]}"; do
    echo
    echo "=== amortisation gap of the $inference model ==="
    ./build/iai gap --checkpoint "$dir/$inference" \
      --max-examples "$compare_examples" --iw-samples "$iw"
  done
fi
echo
echo "=== report: tables, training curves and figures of the runs ==="
./build/iai report "${runs[@]}" --out "$dir/report.html"
echo "main job: $(( $(date +%s) - start ))s of training and evaluation; runs in $dir"
echo "report: $dir/report.html"
