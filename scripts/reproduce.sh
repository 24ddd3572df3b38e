#!/usr/bin/env bash
# Reproduces one experiment of the paper as a campaign of resumable stretches:
# each call trains the experiment's models toward their configs' epoch counts
# for at most M minutes, continuing the run folders it finds, and evaluates
# every N epochs. Run it again (on this machine or another, CPU or GPU) to go
# on; see docs/reproduce.md.
#
#   scripts/reproduce.sh EXPERIMENT [--minutes M] [--device D] [options]
#
# EXPERIMENT (models trained, each from configs/<config>.toml):
#   mnist-single         standard, iterative                    (Table 1)
#   mnist-hierarchical   standard, ladder, iterative            (Table 1)
#   cifar10-single       standard, iterative                    (Table 2)
#   cifar10-hierarchical standard, iterative                    (Table 2)
#   rcv1                 standard, iterative                    (Table 2)
#   fig4                 iterative at T = 16 (Figure 4); at its last epoch
#                        also `iai compare --iterations 500`
#   fig7                 the sweep of Figure 7 (`iai sweep`, paper budget),
#                        stopped and resumed like the others; --until-epoch E
#                        takes every setting to epoch E first
#   init                 the MNIST iterative model with its per-matrix Glorot
#                        initialisation against one Glorot bound over each
#                        fused matrix (IAI_DENSE_INIT=fused), seeds 1 and 2
#
# Options:
#   --minutes M         wall-clock budget of this call (default 60; decimals
#                       allowed). The models share it: each gets an equal
#                       slice of what is left, in turn, so they advance
#                       together; with --jobs J, J models train at once
#   --device D          cpu, cuda, cuda:N or auto (default auto); a run
#                       started on one device resumes on another
#   --runs DIR          where the experiment's folders live (default
#                       runs/reproduce); copy DIR to move a campaign
#   --jobs J            models trained at the same time (default 1)
#   --threads N         CPU threads per model (default 0: all, or one per
#                       job when --jobs > 1)
#   --eval-every N      evaluate every N epochs (default 10)
#   --eval-examples N   fixed test subset for those points: the first N test
#                       examples (default 500); the last epoch is evaluated on
#                       the whole test set (init and fig4: on the subset too)
#   --iw-samples K      importance samples for log p(x) (default 5000)
#   --until-epoch E     stop each model at epoch E (default: its config's)
#   --only M[,M...]     train only these of the experiment's models
#   --data-dir DIR      the data set's folder (default: the config's)
#   -- FLAGS            further flags for a model's first `iai train` (e.g.
#                       --max-train 1000), kept by its run from then on
#
# Each model's folder <runs>/<experiment>/<model>/ is an `iai train` run
# folder plus evaluations.jsonl (one line per evaluation point: epoch, test
# ELBO with S = 1, importance-weighted log p(x), examples, K, machine, commit)
# and evaluations/epoch-E/ (eval.json, reconstructions.png).
# <runs>/<experiment>/stretches.jsonl has one line per model per call: the
# machine, device, commit, seconds spent and epochs before and after.
#
# Exit status: 0 when every model advanced or is done, 1 when one failed
# (its message is printed; the others still ran), 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
readonly ROOT=$PWD

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
die_usage() {
  echo "reproduce: $*" >&2
  echo "usage: scripts/reproduce.sh EXPERIMENT [--minutes M] [--device D] (--help for more)" >&2
  exit 2
}

# SIGTERM or SIGINT to this script: every running iai gets SIGTERM (through
# its timeout, which forwards it), writes a checkpoint and stops; no model
# starts after that.
stop_flag=$(mktemp); rm -f "$stop_flag"
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
stop_all() {
  touch "$stop_flag"
  local p
  for p in $(descendants $$); do
    [ "$(ps -o comm= -p "$p" 2>/dev/null)" = timeout ] && kill -TERM "$p" 2>/dev/null
  done
  return 0
}
trap stop_all TERM INT
trap 'rm -f "$stop_flag"' EXIT
stopped() { [ -e "$stop_flag" ]; }

[ $# -gt 0 ] || die_usage "an experiment is required: mnist-single, mnist-hierarchical, cifar10-single, cifar10-hierarchical, rcv1, fig4 or fig7"
case "$1" in -h|--help) usage; exit 0 ;; esac
experiment=$1; shift
minutes=60 device=auto runs=runs/reproduce jobs=1 threads=0 eval_every=10
eval_examples=500 iw=5000 until_epoch="" data_dir="" only="" extra=()
number() {  # flag value kind(int|real)
  local re='^[0-9]+$'
  [ "$3" = real ] && re='^[0-9]+(\.[0-9]+)?$'
  [[ "$2" =~ $re ]] || die_usage "$1 must be a non-negative number (got '$2')"
}
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) number "$1" "${2:-}" real; minutes=$2; shift 2 ;;
    --device) [ -n "${2:-}" ] || die_usage "--device needs a value"; device=$2; shift 2 ;;
    --runs) [ -n "${2:-}" ] || die_usage "--runs needs a folder"; runs=$2; shift 2 ;;
    --jobs) number "$1" "${2:-}" int; jobs=$2; shift 2 ;;
    --threads) number "$1" "${2:-}" int; threads=$2; shift 2 ;;
    --eval-every) number "$1" "${2:-}" int; eval_every=$2; shift 2 ;;
    --eval-examples) number "$1" "${2:-}" int; eval_examples=$2; shift 2 ;;
    --iw-samples) number "$1" "${2:-}" int; iw=$2; shift 2 ;;
    --until-epoch) number "$1" "${2:-}" int; until_epoch=$2; shift 2 ;;
    --data-dir) [ -n "${2:-}" ] || die_usage "--data-dir needs a folder"; data_dir=$2; shift 2 ;;
    --only) [ -n "${2:-}" ] || die_usage "--only needs model names"; only=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown option '$1'" ;;
  esac
done
[ "$jobs" -ge 1 ] || die_usage "--jobs must be at least 1 (got $jobs)"
[ "$eval_every" -ge 1 ] || die_usage "--eval-every must be at least 1 (got $eval_every)"
[ "$iw" -ge 1 ] || die_usage "--iw-samples must be at least 1 (got $iw)"

# model name -> config (configs/<config>.toml), and what its first
# `iai train` adds: flags, environment
declare -A config_of flags_of env_of
case "$experiment" in
  mnist-single) models=(standard iterative) ;;
  mnist-hierarchical) models=(standard ladder iterative) ;;
  cifar10-single|cifar10-hierarchical|rcv1) models=(standard iterative) ;;
  fig4) models=(iterative-t16) ;;
  fig7) models=(sweep) ;;
  init) models=(per-matrix-seed1 fused-seed1 per-matrix-seed2 fused-seed2) ;;
  *) die_usage "unknown experiment '$experiment' (mnist-single, mnist-hierarchical, cifar10-single, cifar10-hierarchical, rcv1, fig4, fig7, init)" ;;
esac
if [ -n "$only" ]; then
  chosen=()
  IFS=, read -r -a wanted <<<"$only"
  for w in "${wanted[@]}"; do
    [[ " ${models[*]} " == *" $w "* ]] ||
      die_usage "--only: $experiment has no model '$w' (it has: ${models[*]})"
    chosen+=("$w")
  done
  models=("${chosen[@]}")
fi
for m in "${models[@]}"; do
  case "$experiment" in
    rcv1) config_of[$m]=rcv1-$m ;;
    fig4) config_of[$m]=mnist-single-iterative-t16 ;;
    fig7) config_of[$m]=sweep-fig7-paper ;;
    init) config_of[$m]=mnist-single-iterative
          flags_of[$m]="--seed ${m##*seed}"
          env_of[$m]=IAI_DENSE_INIT=$([ "${m%%-seed*}" = fused ] && echo fused || echo per-matrix) ;;
    *) config_of[$m]=$experiment-$m ;;
  esac
  [ -f "configs/${config_of[$m]}.toml" ] ||
    die_usage "configs/${config_of[$m]}.toml is missing"
done

# IAI_BIN: another iai binary (a copy kept for a long campaign while build/
# is rebuilt).
iai=${IAI_BIN:-$ROOT/build/iai}
[ -x "$iai" ] || { echo "reproduce: $iai is missing; run bash scripts/setup.sh first" >&2; exit 1; }
# Debian's python3 where it is (a python3 earlier on PATH may be a slow
# version-manager shim); the records need only its standard library.
python3() { if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else command python3 "$@"; fi; }
command -v /usr/bin/python3 >/dev/null || command -v python3 >/dev/null ||
  { echo "reproduce: python3 is needed for the run records (apt-get install python3)" >&2; exit 1; }
if [ "$jobs" -gt 1 ] && [ "$threads" -eq 0 ]; then
  threads=$(( $(nproc) / jobs )); [ "$threads" -ge 1 ] || threads=1
fi

exp_dir=$runs/$experiment
mkdir -p "$exp_dir" || { echo "reproduce: cannot create $exp_dir" >&2; exit 1; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
machine=$(python3 scripts/reproduce_record.py machine --device "$device")
budget_s=$(python3 -c "print(int(float('$minutes') * 60))")
start_s=$(date +%s)

log() { echo "[reproduce $experiment/$1 $(date +%H:%M:%S)] ${*:2}"; }
epochs_of() {  # completed epochs of a run folder (0 when none)
  python3 "$ROOT/scripts/reproduce_record.py" epochs "$1"
}
evaluated() {  # DIR E: whether DIR/evaluations.jsonl has a point at epoch E
  grep -q "\"epoch\": $2[,}]" "$1/evaluations.jsonl" 2>/dev/null
}
target_of() {  # the epoch a model trains toward
  local cfg_epochs
  cfg_epochs=$(sed -n 's/^epochs *= *\([0-9]*\).*/\1/p' "configs/$1.toml" | head -1)
  cfg_epochs=${cfg_epochs:-1000}
  if [ -n "$until_epoch" ] && [ "$until_epoch" -lt "$cfg_epochs" ]; then
    echo "$until_epoch"
  else
    echo "$cfg_epochs"
  fi
}
device_flags=(--device "$device")
[ "$threads" -gt 0 ] && device_flags+=(--threads "$threads")

# Runs COMMAND with at most SECONDS of wall time; SIGTERM at the end (iai
# then writes a checkpoint and exits 143). Returns 124 when time ran out.
bounded() {
  local seconds=$1; shift
  [ "$seconds" -ge 1 ] || return 124
  local rc=0
  timeout -s TERM -k 120 "$seconds" "$@" || rc=$?
  [ "$rc" -eq 143 ] && rc=124
  return "$rc"
}

# Evaluates DIR's checkpoint (at the end of epoch E) and appends the point to
# DIR/evaluations.jsonl; at the last epoch on the whole test set, except for
# the initialisation comparison and Figure 4's model, whose points all stay
# on the fixed subset (no row of the paper's tables: the one compares its
# models at equal epochs, the other goes on to `iai compare`).
evaluate() {  # model dir epoch last(0|1) seconds
  local model=$1 dir=$2 epoch=$3 last=$4 seconds=$5
  local out=$dir/evaluations/epoch-$epoch examples=$eval_examples
  [ "$last" -eq 1 ] && [ "$experiment" != init ] && [ "$experiment" != fig4 ] && examples=0
  log "$model" "evaluating epoch $epoch (S = 1, K = $iw, $( [ "$examples" -eq 0 ] && echo 'all' || echo "$examples") test examples)"
  local t0 rc=0; t0=$(date +%s)
  local data=(); [ -n "$data_dir" ] && data=(--data-dir "$data_dir")
  bounded "$seconds" "$iai" eval --checkpoint "$dir" --samples 1 --iw-samples "$iw" \
    --max-examples "$examples" --out "$out" "${data[@]}" "${device_flags[@]}" \
    >"$dir/evaluations/epoch-$epoch.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && { log "$model" "evaluation of epoch $epoch left for the next call (time is up)"; return 124; }
    log "$model" "evaluation failed (exit $rc):"; tail -n 5 "$dir/evaluations/epoch-$epoch.log" >&2
    return 1
  fi
  python3 "$ROOT/scripts/reproduce_record.py" evaluation "$dir" "$out/eval.json" \
    --epoch "$epoch" --seconds $(( $(date +%s) - t0 )) --commit "$commit" --machine "$machine"
  if [ "$experiment" = fig4 ] && [ "$last" -eq 1 ]; then
    log "$model" "Figure 4: iai compare over 500 iterations"
    bounded "$seconds" "$iai" compare --checkpoint "$dir" --iterations 500 \
      --max-examples 200 --out "$dir/compare" "${data[@]}" "${device_flags[@]}" \
      >"$dir/compare.log" 2>&1 || { log "$model" "compare did not finish (see $dir/compare.log)"; return 0; }
  fi
  return 0
}

# Trains one model for at most SECONDS, evaluating at every point it passes.
advance() {  # model seconds
  local model=$1 seconds=$2 dir=$exp_dir/$1 cfg=${config_of[$1]}
  local target; target=$(target_of "$cfg")
  local deadline=$(( $(date +%s) + seconds ))
  mkdir -p "$dir/evaluations" 2>/dev/null || true
  local before; before=$(epochs_of "$dir")
  local t0; t0=$(date +%s)
  local rc=0 status=advanced
  while :; do
    local left=$(( deadline - $(date +%s) ))
    local done_epochs; done_epochs=$(epochs_of "$dir")
    # An evaluation point the run has reached but not yet evaluated comes
    # first (an earlier call ran out of time in or just after its training,
    # or in its evaluation): the checkpoint is still the one at its end.
    if [ "$done_epochs" -gt 0 ] && ! evaluated "$dir" "$done_epochs" &&
       { [ $(( done_epochs % eval_every )) -eq 0 ] || [ "$done_epochs" -ge "$target" ]; }; then
      local last=0; [ "$done_epochs" -ge "$target" ] && last=1
      evaluate "$model" "$dir" "$done_epochs" "$last" "$left" || { rc=$?; break; }
      continue
    fi
    if [ "$done_epochs" -ge "$target" ]; then status=done; break; fi
    { [ "$left" -ge 1 ] && ! stopped; } || { rc=124; break; }
    local next=$(( (done_epochs / eval_every + 1) * eval_every ))
    [ "$next" -gt "$target" ] && next=$target
    local train_log=$dir/../$model.train.log
    if [ -e "$dir/checkpoint.pt" ] || [ -e "$dir/checkpoint.prev.pt" ]; then
      log "$model" "epoch $done_epochs -> $next of $target (resuming, ${left}s left)"
      bounded "$left" "$iai" train --resume "$dir" --epochs "$next" "${device_flags[@]}" \
        --checkpoint-minutes 5 || rc=$?
    else
      # A folder without a checkpoint holds nothing to keep (a first call
      # stopped before its first checkpoint); iai train never overwrites one.
      if [ -e "$dir/config.json" ]; then
        find "$dir" -mindepth 1 -maxdepth 1 ! -name evaluations -exec rm -rf {} +
      fi
      local data=(); [ -n "$data_dir" ] && data=(--data-dir "$data_dir")
      log "$model" "new run: configs/$cfg.toml, epoch 0 -> $next of $target"
      rmdir "$dir/evaluations" "$dir" 2>/dev/null || true
      local first=(); [ -n "${flags_of[$model]:-}" ] && read -r -a first <<<"${flags_of[$model]}"
      local envs=(); [ -n "${env_of[$model]:-}" ] && envs=("${env_of[$model]}")
      bounded "$left" env "${envs[@]}" "$iai" train --config "configs/$cfg.toml" --out "$dir" "${first[@]}" \
        --epochs "$next" --test-every "$eval_every" "${data[@]}" "${device_flags[@]}" \
        --checkpoint-minutes 5 "${extra[@]}" || rc=$?
      mkdir -p "$dir/evaluations"
    fi
    [ "$rc" -eq 0 ] || break
    local now_epochs; now_epochs=$(epochs_of "$dir")
    if [ "$now_epochs" -ne "$next" ]; then
      log "$model" "iai train ended at epoch $now_epochs, not $next"; rc=1; break
    fi
  done
  [ "$rc" -eq 124 ] && { status=stopped; rc=0; }
  [ "$rc" -ne 0 ] && status=failed
  local after; after=$(epochs_of "$dir")
  python3 "$ROOT/scripts/reproduce_record.py" stretch "$exp_dir/stretches.jsonl" \
    --model "$model" --status "$status" --seconds $(( $(date +%s) - t0 )) \
    --epochs-before "$before" --epochs-after "$after" --target "$target" \
    --device "$device" --threads "$threads" --commit "$commit" --machine "$machine"
  log "$model" "$status at epoch $after of $target"
  return "$rc"
}


# Figure 7's sweep has its own resume (finished settings are not retrained);
# the budget bounds the whole call. With --until-epoch E every setting is
# trained to epoch E before any goes further (call again with a larger E),
# so the sweep's curves advance together.
if [ "$experiment" = fig7 ]; then
  dir=$exp_dir/sweep
  epochs_flag=()
  [ -n "$until_epoch" ] && epochs_flag=(--epochs "$until_epoch")
  log sweep "iai sweep --config configs/sweep-fig7-paper.toml ${epochs_flag[*]} for at most ${budget_s}s"
  # In the background, so that a signal to this script is handled at once.
  bounded "$budget_s" "$iai" sweep --config configs/sweep-fig7-paper.toml --out "$dir" \
    "${epochs_flag[@]}" "${device_flags[@]}" "${extra[@]}" &
  p=$!
  while :; do
    rc=0; wait "$p" || rc=$?
    [ "$rc" -gt 128 ] && kill -0 "$p" 2>/dev/null && continue
    break
  done
  [ "$rc" -eq 124 ] && { log sweep "time is up; call again to go on"; rc=0; }
  exit "$rc"
fi

# Lane i trains models i, i + J, ... one after another, each an equal share
# of the lane's time that is left.
lane() {
  # A background subshell starts with default signal handling: without this
  # a TERM sent to every reproduce.sh process (pkill -f) would kill the lane
  # and leave its iai running, its stretch unrecorded.
  trap stop_all TERM INT
  local lane_models=("$@") failed=0 i
  for i in "${!lane_models[@]}"; do
    stopped && break
    local left=$(( start_s + budget_s - $(date +%s) ))
    local share=$(( left / (${#lane_models[@]} - i) ))
    advance "${lane_models[$i]}" "$share" || failed=1
  done
  return "$failed"
}
pids=()
for (( j = 0; j < jobs; j++ )); do
  mine=()
  for (( i = j; i < ${#models[@]}; i += jobs )); do mine+=("${models[$i]}"); done
  [ ${#mine[@]} -gt 0 ] || continue
  lane "${mine[@]}" &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do
  # wait returns early (status > 128) when a trapped signal arrives.
  while :; do
    rc=0; wait "$p" || rc=$?
    [ "$rc" -gt 128 ] && kill -0 "$p" 2>/dev/null && continue
    break
  done
  [ "$rc" -eq 0 ] || failed=1
done
for m in "${models[@]}"; do
  printf '  %-14s epoch %s of %s\n' "$m" "$(epochs_of "$exp_dir/$m")" "$(target_of "${config_of[$m]}")"
done
exit "$failed"
