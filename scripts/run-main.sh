#!/usr/bin/env bash
# README command 1, the main job: set up, fetch MNIST, train a standard and an
# iterative single-level model with the same architecture and budget, evaluate
# both on the test set (ELBO and importance-weighted log p(x)), and print them
# side by side with the paper's Table 1.
#
# The default budget (about 15 minutes on 2 cores) is set by:
#   IAI_EPOCHS         epochs for each model            (default 5)
#   IAI_EVAL_EXAMPLES  test examples for the evaluation (default 1000; 0 = all)
#   IAI_IW_SAMPLES     K importance samples for log p(x) (default 5000)
#   IAI_RUN_DIR        where the runs go (default runs/main-<date>-<time>)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${IAI_EPOCHS:-5}
eval_examples=${IAI_EVAL_EXAMPLES:-1000}
iw=${IAI_IW_SAMPLES:-5000}
dir=${IAI_RUN_DIR:-runs/main-$(date +%Y%m%d-%H%M%S)}

bash scripts/setup.sh
bash scripts/fetch-data.sh
start=$(date +%s)
for inference in standard iterative; do
  echo
  echo "=== training the $inference model ($epochs epochs) ==="
  ./build/iai train --config "configs/mnist-single-$inference.toml" \
    --epochs "$epochs" --out "$dir/$inference"
  echo
  echo "=== evaluating the $inference model ==="
  ./build/iai eval --checkpoint "$dir/$inference" --iw-samples "$iw" \
    --max-examples "$eval_examples"
done
echo
./build/iai table "$dir/standard" "$dir/iterative"
echo "main job: $(( $(date +%s) - start ))s of training and evaluation; runs in $dir"
