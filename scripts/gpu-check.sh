#!/usr/bin/env bash
# The GPU check, in one run on a machine with an NVIDIA GPU and a CUDA
# LibTorch (a pip torch's, found through python3, or --libtorch DIR): builds
# iai against it in build-gpu/ (header-only dependencies from vendor/,
# GoogleTest from its sources: scripts/vendor-deps.sh), then
#   1. the unit tests that take a device, on the GPU (IAI_TEST_DEVICE=cuda),
#      the CPU-vs-GPU agreement of a first training step among them (same
#      seed, data and noise: ELBO and every gradient within 1e-4 relative),
#      and a job of one process summing through NCCL (GroupOfOne*: the
#      process group and the training step's all-reduce that jobs of
#      several GPUs use);
#   2. a short MNIST training run and its evaluation on the GPU (the real
#      data in data/mnist when present, else synthetic data in its format);
#      `iai eval` of the 10,000 test examples with K = 5000, timed;
#   3. the GPU run's checkpoint evaluated on the CPU;
#   4. the benchmarks (bench/device_bench.cpp) on the GPU against the same
#      cases in Python PyTorch on the same GPU (bench/pytorch_baseline.py
#      --device cuda), and against iai on 2 CPU threads;
#   5. a slice of a CIFAR-10 single-level iterative epoch (paper settings,
#      synthetic data in the real format) on the GPU and on 2 CPU threads,
#      both extrapolated to the 50,000-example epoch;
# and prints one summary table. Meant to finish in under 8 minutes. On a
# machine without a GPU or a CUDA LibTorch it stops at once with one message.
#
#   bash scripts/gpu-check.sh [--libtorch DIR] [--copy-to DIR] [--tests-only]
#        --copy-to: also leave the logs and timings there as gpu-check.tgz
#        --tests-only: the build and step 1 alone (a minute or two)
#   bash scripts/gpu-check.sh --rehearse   # on a CPU machine: the same steps
#        on the CPU, small sizes, with the existing build/ (checks the script)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
libtorch=""
rehearse=0
copy_to=""
tests_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --libtorch) libtorch=${2:?--libtorch needs a folder}; shift 2 ;;
    --rehearse) rehearse=1; shift ;;
    --copy-to) copy_to=${2:?--copy-to needs a folder}; shift 2 ;;
    --tests-only) tests_only=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done

fail() { echo "gpu-check: $*" >&2; exit 1; }

# --- is there a GPU and a CUDA LibTorch? (before anything else) -----------
dev=cuda build=build-gpu
mnist_train=10000 eval_k=5000 eval_max=0 bench_seconds=2
cifar_gpu=2000 cifar_cpu=256
if [ $rehearse = 1 ]; then
  dev=cpu build=build
  mnist_train=512 eval_k=20 eval_max=200 bench_seconds=0.2
  cifar_gpu=32 cifar_cpu=16
  py=/usr/bin/python3
  [ -x build/iai ] || fail "--rehearse needs build/ (bash scripts/setup.sh)"
else
command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU ||
  fail "no NVIDIA GPU on this machine (nvidia-smi lists none); run this on a GPU machine (the CPU build is checked by ctest)"
py=$(command -v python3 || true)
if [ -z "$libtorch" ]; then
  [ -n "$py" ] && "$py" -c 'import torch' 2>/dev/null ||
    fail "no CUDA LibTorch: python3 has no torch, and no --libtorch DIR was given"
  libtorch=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
fi
[ -n "$py" ] && "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
  fail "python3's torch sees no GPU (torch.cuda.is_available() is false); the PyTorch baseline needs a CUDA torch"
fi

out=$root/$build/check
rm -rf "$out"; mkdir -p "$out"
log=$out/log.txt
rows=()
row() { rows+=("$(printf '%-44s %-6s %s' "$1" "$2" "$3")"); }
step() { echo "gpu-check: $*" | tee -a "$log" >&2; }
start=$(date +%s)

# --- build -------------------------------------------------------------------
if [ $rehearse = 1 ]; then
  row "build (rehearsal: the existing build/)" ok ""
else
if [ ! -d vendor ] && [ -e /usr/src/googletest ]; then
  bash scripts/vendor-deps.sh >>"$log" 2>&1
fi
[ -d vendor ] || fail "vendor/ is missing: run scripts/vendor-deps.sh on a machine with the Debian packages and copy vendor/ here"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cuda_args=()
[ -x /usr/local/cuda/bin/nvcc ] && cuda_args=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
# NCCL's header: a pip torch's is in its nvidia-nccl package; else a CUDA
# toolkit's or the system's.
nccl_include=$("$py" -c 'import os, nvidia.nccl as n; print(os.path.join(list(n.__path__)[0], "include"))' 2>/dev/null || true)
for d in "$nccl_include" /usr/local/cuda/include /usr/include; do
  if [ -n "$d" ] && [ -f "$d/nccl.h" ]; then nccl_include=$d; break; fi
done
nccl_args=(-DIAI_WITH_NCCL=ON)
[ -f "$nccl_include/nccl.h" ] && nccl_args+=(-DIAI_NCCL_INCLUDE_DIR="$nccl_include")
step "configuring build-gpu/ against $libtorch (nccl.h: ${nccl_include:-not found})"
# Gloo stays out (the tests of several CPU processes run on the CPU); NCCL
# is in where this LibTorch has it and nccl.h was found.
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$libtorch" "${cuda_args[@]}" -DIAI_VENDOR_DIR="$root/vendor" \
  "${nccl_args[@]}" \
  -DIAI_WITH_C10D=OFF -DIAI_WITH_ONEDNN=OFF -DIAI_WITH_OPENMP=OFF >>"$log" 2>&1 || { tail -40 "$log" >&2; fail "configure failed (log: $log)"; }
grep -E "^-- iai:" "$log" >&2
step "building (log: $log)"
keep_going=()
[ ${#generator[@]} -gt 0 ] && keep_going=(-- -k 0)  # every error in one pass
built=0
cmake --build build-gpu -j "$(nproc)" "${keep_going[@]}" >>"$log" 2>&1 && built=1
if [ $built = 0 ] && grep -E "parallel/process_group\.cpp.*error:|undefined reference to .*c10d" "$log" >/dev/null; then
  # The NCCL process group did not build against this LibTorch: its errors
  # for the next try, then the rest of the check without it.
  grep -E -A3 "process_group\.cpp.*error:" "$log" | head -40 >&2
  row "NCCL process group: build" FAIL "errors above; the rest runs without NCCL"
  step "process_group.cpp failed with NCCL; building with -DIAI_WITH_NCCL=OFF"
  cmake -S . -B build-gpu -DIAI_WITH_NCCL=OFF >>"$log" 2>&1 &&
    cmake --build build-gpu -j "$(nproc)" "${keep_going[@]}" >>"$log" 2>&1 && built=1
fi
if [ $built = 0 ] && grep -E "include/(torch|ATen|c10)/.*error:" "$log" >/dev/null; then
  # The LibTorch's own headers failed in C++17: every error, then one more
  # try in C++20 (a LibTorch whose headers need it).
  grep -E -A3 "error:|Error [0-9]|undefined reference" "$log" | head -80 >&2
  step "C++17 build failed in LibTorch's headers; trying -DCMAKE_CXX_STANDARD=20"
  cmake -S . -B build-gpu -DCMAKE_CXX_STANDARD=20 >>"$log" 2>&1 &&
    cmake --build build-gpu -j "$(nproc)" "${keep_going[@]}" >>"$log" 2>&1 && built=1
fi
if [ $built = 1 ]; then
  row "build against torch $("$py" -c 'import torch;print(torch.__version__)')" ok "$(( $(date +%s) - start )) s"
else
  # Every compiler error, for the next try; what did build still runs.
  grep -E -A3 "error:|Error [0-9]|undefined reference" "$log" | head -150 >&2
  row "build against torch $("$py" -c 'import torch;print(torch.__version__)')" FAIL "see the errors above ($log)"
fi
fi
iai=$build/iai

# --- 1. unit tests on the GPU ----------------------------------------------
step "device-taking unit tests with IAI_TEST_DEVICE=$dev"
if IAI_TEST_DEVICE=$dev $build/tests/iai_tests \
     --gtest_filter='Device*:CrossDevice*:DeviceAgreement*:GroupOfOne*' >"$out/tests.txt" 2>&1; then
  row "unit tests on $dev (Device*, CrossDevice*, GroupOfOne*)" ok "$(grep -c '^\[       OK' "$out/tests.txt") passed"
else
  row "unit tests on $dev (Device*, CrossDevice*, GroupOfOne*)" FAIL "$(grep -m 3 -E 'FAILED  \]|Failure' "$out/tests.txt" | tr '\n' ' ')"
fi
# A job of one process through its process group: NCCL on a GPU (Gloo in
# the rehearsal); skipped where the build has neither.
backend=NCCL; [ "$dev" = cpu ] && backend=Gloo
if grep -q '^\[  SKIPPED \] GroupOfOne' "$out/tests.txt"; then
  row "$backend at world size 1 (sum, step, job device)" FAIL "not built ($("$iai" --version 2>/dev/null | grep -m1 "c10d/$backend" | tr -s ' '))"
elif [ "$(grep -c '^\[       OK \] GroupOfOne' "$out/tests.txt")" = 3 ]; then
  row "$backend at world size 1 (sum, step, job device)" ok "GroupOfOne*: 3 passed"
else
  row "$backend at world size 1 (sum, step, job device)" FAIL "see $out/tests.txt"
fi
if grep -q '^\[       OK \] DeviceAgreement' "$out/tests.txt"; then
  row "CPU/GPU first step: ELBO, gradients 1e-4" ok "relative, same seed and noise"
else
  row "CPU/GPU first step: ELBO, gradients 1e-4" FAIL "see $out/tests.txt"
fi

if [ $tests_only = 1 ]; then
  grep -E '^\[ +(OK|FAILED|SKIPPED) +\]' "$out/tests.txt" | grep -v ' tests\?,' >&2
else  # steps 2 to 5
# --- 2. MNIST on the GPU -----------------------------------------------------
mnist=data/mnist
if [ ! -e $mnist/t10k-images-idx3-ubyte ] && [ ! -e $mnist/t10k-images-idx3-ubyte.gz ]; then
  mnist=$out/mnist-synthetic
  step "no data/mnist: synthetic MNIST-format data in $mnist"
  "$py" scripts/synthetic-data.py mnist "$mnist" --train "$mnist_train" >>"$log" 2>&1 || fail "synthetic data failed"
fi
run=$out/mnist-run
step "training 1 epoch ($mnist_train examples) on $dev"
if "$iai" train --config configs/mnist-single-iterative.toml --data-dir "$mnist" \
     --epochs 1 --max-train $mnist_train --max-test 1000 --device $dev --out "$run" >"$out/train.txt" 2>&1; then
  row "MNIST train, $mnist_train examples, $dev" ok "$("$py" -c "import json;m=json.loads(open('$run/metrics.jsonl').readline());print('%.1f s, %.0f ex/s, train ELBO %.1f, test ELBO %.1f' % (m['seconds'], m['examples_per_second'], m['train_elbo'], m.get('test_elbo', float('nan'))))")"
else
  row "MNIST train, $mnist_train examples, $dev" FAIL "$(tail -1 "$out/train.txt")"
fi
graph=$(grep -m1 -oE "training step captured \(batches of [0-9]+\) in a CUDA graph" "$out/train.txt")
if [ -n "$graph" ]; then
  row "training step in a CUDA graph" ok "$graph"
elif [ $rehearse = 1 ]; then
  row "training step in a CUDA graph" ok "not on the CPU (rehearsal)"
else
  row "training step in a CUDA graph" FAIL "$(grep -m1 "CUDA graph" "$out/train.txt" || echo "never captured")"
fi
# --precision: tf32 and bf16 against fp32, with a second fp32 seed as the
# size of the noise between runs.
metric() {  # run-folder key -> the first metrics line's value
  "$py" -c "import json;print(json.loads(open('$1/metrics.jsonl').readline()).get('$2', 'nan'))" 2>/dev/null || echo nan
}
if [ $rehearse = 1 ]; then
  row "--precision tf32, bf16 vs fp32" ok "GPU only (rehearsal)"
else
  step "training the same epoch with --seed 2, --precision tf32 and bf16"
  for variant in seed2 tf32 bf16; do
    extra=(--seed 2); [ $variant != seed2 ] && extra=(--precision $variant)
    "$iai" train --config configs/mnist-single-iterative.toml --data-dir "$mnist" \
      --epochs 1 --max-train $mnist_train --max-test 1000 --device $dev "${extra[@]}" \
      --out "$out/mnist-$variant" >"$out/train-$variant.txt" 2>&1
  done
  ref=$(metric "$run" test_elbo); noise=$(metric "$out/mnist-seed2" test_elbo)
  for variant in tf32 bf16; do
    got=$(metric "$out/mnist-$variant" test_elbo)
    verdict=$("$py" -c "
import math
ref, noise, got = float('$ref'), float('$noise'), float('$got')
d, n = abs(got - ref), abs(noise - ref)
print('ok' if math.isfinite(got) and d <= max(2 * n, 0.5) else 'below')" 2>/dev/null || echo FAIL)
    row "--precision $variant vs fp32 (test ELBO)" "$verdict" "$got vs $ref (seed 2: $noise), $(metric "$out/mnist-$variant" examples_per_second) ex/s"
  done
fi
step "iai eval of the test set with K = $eval_k on $dev (CUDA graphs, then eager)"
# Each full batch replayed from a CUDA graph (eval.json's cuda_graph says
# whether it was captured), then --cuda-graph off: the same log p(x), and
# the time of each.
eval_row() {  # eval_row FOLDER LABEL
  "$py" -c "import json;e=json.load(open('$1/eval.json'));print('%.1f s, log p(x) %.3f, ELBO %.3f, graph: %s' % (e['seconds'], e.get('log_px', float('nan')), e['elbo'], e.get('cuda_graph', '?')))" 2>/dev/null || echo "?"
}
# And with the graph in TensorFloat-32 (a GPU's fast products; not the
# paper's arithmetic).
for variant in auto:fp32 off:fp32 auto:tf32; do
  mode=${variant%%:*} precision=${variant#*:}
  [ "$dev" = cpu ] && [ "$precision" = tf32 ] && continue
  name=eval-gpu-$mode; [ "$precision" = fp32 ] || name=$name-$precision
  label="iai eval, test set, K=$eval_k, $dev, --cuda-graph $mode, $precision (10k, K=5000: <= 2 s)"
  if "$iai" eval --checkpoint "$run" --device $dev --iw-samples $eval_k --max-examples $eval_max --cuda-graph $mode --precision $precision --out "$out/$name" >"$out/$name.txt" 2>&1; then
    row "$label" ok "$(eval_row "$out/$name")"
  else
    row "$label" FAIL "$(tail -1 "$out/$name.txt")"
  fi
done
# The graph's numbers are the eager ones: log p(x) within 1e-4 relative.
same=$("$py" -c "
import json
a = json.load(open('$out/eval-gpu-auto/eval.json')); b = json.load(open('$out/eval-gpu-off/eval.json'))
ok = abs(a['log_px'] - b['log_px']) <= 1e-4 * abs(b['log_px']) and abs(a['elbo'] - b['elbo']) <= 1e-4 * abs(b['elbo'])
print(('ok' if ok else 'FAIL') + ' %.4f vs %.4f' % (a['log_px'], b['log_px']))" 2>/dev/null || echo "FAIL no eval.json")
row "eval with CUDA graphs = eager (log p(x), ELBO)" "${same%% *}" "${same#* }"

# --- 3. the GPU checkpoint on the CPU -------------------------------------
step "the GPU run's checkpoint evaluated on the CPU"
if "$iai" eval --checkpoint "$run" --device cpu --max-examples 500 --iw-samples 0 --out "$out/eval-cpu" >"$out/eval-cpu.txt" 2>&1; then
  row "GPU checkpoint evaluated on the CPU" ok "$("$py" -c "import json;e=json.load(open('$out/eval-cpu/eval.json'));print('ELBO %.2f on %d test examples' % (e['elbo'], e['examples']))")"
else
  row "GPU checkpoint evaluated on the CPU" FAIL "$(tail -1 "$out/eval-cpu.txt")"
fi

# --- 4. benchmarks: iai on the GPU, PyTorch on the GPU, iai on 2 CPU threads
step "benchmarks: iai cuda, PyTorch cuda, iai cpu (2 threads)"
$build/bench/iai_device_bench --device $dev --seconds $bench_seconds --json >"$out/bench-iai-gpu.json" 2>>"$log"
"$py" bench/pytorch_baseline.py --device $dev --seconds $bench_seconds --json >"$out/bench-torch-gpu.json" 2>>"$log"
# PyTorch 2's own answer: torch.compile(mode="reduce-overhead") (Inductor and
# CUDA graphs); an empty file where this torch has no torch.compile.
"$py" bench/pytorch_baseline.py --device $dev --seconds $bench_seconds --compile --json \
  >"$out/bench-torch-compiled-gpu.json" 2>>"$log" || true
$build/bench/iai_device_bench --device cpu --threads 2 --seconds $bench_seconds --json >"$out/bench-iai-cpu.json" 2>>"$log"
bench_rows=$("$py" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def load(name):
    try:
        return json.load(open(f"{out}/{name}"))["results"]
    except Exception:
        return {}
gpu, torch_gpu, cpu = load("bench-iai-gpu.json"), load("bench-torch-gpu.json"), load("bench-iai-cpu.json")
compiled = load("bench-torch-compiled-gpu.json")
for case in ("step/standard/S:1/T:1", "step/iterative/S:10/T:5",
             "step/standard/S:1/T:1/eager", "step/iterative/S:10/T:5/eager",
             "infer/iterative/S:10/T:5", "iw/K:5000"):
    if case not in gpu:
        if not case.endswith("/eager"):  # eager rows: a GPU's only
            print(f"bench {case}|FAIL|no iai GPU timing")
        continue
    base = case.removesuffix("/eager")
    g = gpu[case]["ms"]
    t = torch_gpu.get(base, {}).get("ms")
    c = cpu.get(base, {}).get("ms")
    parts = [f"iai {g:.3f} ms"]
    k = compiled.get(base, {}).get("ms")
    if t: parts.append(f"PyTorch {t:.3f} ms (x{t / g:.2f})")
    if k: parts.append(f"PyTorch compiled {k:.3f} ms (x{k / g:.2f})")
    if c: parts.append(f"CPU 2 thr {c:.1f} ms (x{c / g:.1f})")
    target = case == "step/iterative/S:10/T:5"
    # The iterative step: at least 1.5x the compiled PyTorch step (3x eager
    # where no torch.compile ran) and at most 1 ms.
    if k:
        good = k / g >= 1.5 and g <= 1.0
        label = f"bench {case} (>= 1.5x compiled PyTorch, <= 1 ms)"
    else:
        good = bool(t) and t / g >= 3
        label = f"bench {case} (>= 3x PyTorch)"
    verdict = "ok" if not target or good else "below"
    if not target:
        label = f"bench {case}"
    print(f"{label}|{verdict}|{', '.join(parts)}")
PY
)
while IFS='|' read -r name verdict detail; do row "$name" "$verdict" "$detail"; done <<<"$bench_rows"
# Where the eager iterative step's time goes, operator by operator, and how
# many operators (on a GPU, kernel launches) it runs: what a CUDA graph
# replays, and what fusing kernels would cut (bench/profile_table.py).
# Rehearsed on a CPU, the step takes the GPU's operators (IAI_KERNELS=libtorch).
pcase=step/iterative/S:10/T:5; [ "$dev" = cpu ] || pcase=$pcase/eager
kernels=own; [ "$dev" = cpu ] && kernels=libtorch
IAI_KERNELS=$kernels $build/bench/iai_device_bench --device $dev --seconds 1 --filter "$pcase" \
  --profile "$out/iterative-profile.json" >/dev/null 2>"$out/iterative-profile.txt"
calls=$(grep -oE ': [0-9]+ calls' "$out/iterative-profile.txt" | grep -oE '[0-9]+')
if [ -n "$calls" ] && "$py" bench/profile_table.py "$out/iterative-profile.json" --calls "$calls" --top 40 \
     >"$out/iterative-operators.txt" 2>>"$log"; then
  row "eager iterative step, operators per step" ok "$(awk '$1 == "all" {all = $NF; ms = $3} $1 == "operators" && $3 == "launch" {launch = $NF} END {printf "%.0f operators, %.0f of them launching work (kernels), %.2f ms of their own time (iterative-operators.txt)", all, launch, ms}' "$out/iterative-operators.txt")"
else
  row "eager iterative step, operators per step" FAIL "see $out/iterative-profile.txt"
fi

# --- 5. a CIFAR-10 epoch slice: GPU vs 2 CPU threads ------------------------
cifar=$out/cifar10-synthetic
step "CIFAR-10 (synthetic, real format): $cifar_gpu examples on $dev, $cifar_cpu on 2 CPU threads"
"$py" scripts/synthetic-data.py cifar10 "$cifar" >>"$log" 2>&1
epoch_seconds() {  # run-folder -> seconds per 50,000 examples
  "$py" -c "import json;m=json.loads(open('$1/metrics.jsonl').readline());print('%.0f' % (50000 / m['examples_per_second']))" 2>/dev/null
}
"$iai" train --config configs/cifar10-single-iterative.toml --data-dir "$cifar" --epochs 1 \
  --max-train $cifar_gpu --test-every 0 --device $dev --out "$out/cifar-gpu" >"$out/cifar-gpu.txt" 2>&1
"$iai" train --config configs/cifar10-single-iterative.toml --data-dir "$cifar" --epochs 1 \
  --max-train $cifar_cpu --test-every 0 --device cpu --threads 2 --out "$out/cifar-cpu" >"$out/cifar-cpu.txt" 2>&1
g=$(epoch_seconds "$out/cifar-gpu"); c=$(epoch_seconds "$out/cifar-cpu")
if [ -n "$g" ] && [ -n "$c" ] && [ "$g" -gt 0 ] 2>/dev/null; then
  ratio=$(( c / g ))
  row "CIFAR-10 epoch, cuda vs 2 CPU threads (>= 50x)" "$([ $ratio -ge 50 ] && echo ok || echo below)" "~$g s vs ~$c s per epoch (x$ratio)"
else
  row "CIFAR-10 epoch, cuda vs 2 CPU threads (>= 50x)" FAIL "see $out/cifar-*.txt"
fi

fi  # steps 2 to 5

# --- summary -----------------------------------------------------------------
echo
echo "gpu-check on $([ $rehearse = 1 ] && echo "the CPU (rehearsal)" || nvidia-smi -L | head -1), torch $("$py" -c 'import torch;print(torch.__version__)'), $(( $(date +%s) - start )) s"
printf '%-44s %-6s %s\n' check result detail
for r in "${rows[@]}"; do echo "$r"; done
echo "(files: $out)"
if [ -n "$copy_to" ]; then
  mkdir -p "$copy_to"
  tar czf "$copy_to/gpu-check.tgz" -C "$out" --exclude='*.pt' --exclude='*synthetic*' . &&
    echo "(logs and timings: $copy_to/gpu-check.tgz)"
fi
! printf '%s\n' "${rows[@]}" | grep -q ' FAIL '
