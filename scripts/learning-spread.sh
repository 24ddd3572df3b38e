#!/usr/bin/env bash
# Measures how the suite's learning problems (tests/learning_problems.h) end
# over seeds, in float and double, under three kernel selections: this
# machine's own, ATen's AVX2 kernels with OpenBLAS's Zen kernels (an AMD
# EPYC machine's; ATen 1.13 picks AVX2 on AVX-512 CPUs too, so on an
# AVX-512 Xeon this differs from the machine's own in OpenBLAS's kernels),
# and ATen's default (scalar) kernels with OpenBLAS's Sandybridge kernels. Prints, per problem and precision, the spread over
# seeds of L_T - L_1 and L_T - L_0 (min / mean / max), and the largest
# difference between kernel selections for the same seed: the numbers the
# learning tests' margins are set from. "collapsed" counts the runs whose
# trained model ignores z (its ELBO at lambda_0 within 1 nat of the best
# z-blind model's, learning_problems.h): inference has nothing to improve
# there, so L_T - L_0 is small or negative.
#
#   bash scripts/learning-spread.sh [SEEDS [PROBLEM [STEPS LR]]]
#                                   (default 8 seeds, all problems; needs build/)
#
# PROBLEM (single, hierarchical, likelihood or all) runs that problem only;
# STEPS and LR measure another training budget than the tests' own;
# IAI_LEARNING_SPREAD names another build's tool (to compare two versions).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-8}
problem=${2:-all}
budget=${3:+$3 ${4:?learning-spread: STEPS needs LR}}
tool=${IAI_LEARNING_SPREAD:-build/tests/iai_learning_spread}
[ -x "$tool" ] || { echo "learning-spread: build first (bash scripts/setup.sh)" >&2; exit 1; }
out=$(mktemp -d)
run() {  # name, then env assignments
  local name=$1; shift
  echo "learning-spread: kernels $name ($seeds seeds, float and double)" >&2
  env OMP_NUM_THREADS=1 "$@" "$tool" "$seeds" both $problem $budget | tail -n +2 |
    sed "s/^/$name\t/" >"$out/$name.tsv"
}
run native
run avx2-zen ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Zen
run default-sandybridge ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Sandybridge
cat "$out"/*.tsv >"$out/all.tsv"
echo "# columns: kernels problem form dtype seed start first last z_blind" >&2
echo "# raw lines: $out/all.tsv" >&2
printf "%-48s %28s %28s %12s %10s\n" "form / dtype" "L_T - L_1 min/mean/max" \
  "L_T - L_0 min/mean/max" "kernel diff" "collapsed"
awk -F'\t' '
  { key = $3 " / " $4; d = $8 - $7; g = $8 - $6;
    n[key]++; sd[key] += d; sg[key] += g;
    if ($9 != "nan" && $6 >= $9 - 1) collapsed[key]++;
    if (!(key in mind) || d < mind[key]) mind[key] = d;
    if (!(key in maxd) || d > maxd[key]) maxd[key] = d;
    if (!(key in ming) || g < ming[key]) ming[key] = g;
    if (!(key in maxg) || g > maxg[key]) maxg[key] = g;
    s = key "|" $5;  # same problem, dtype and seed across kernel selections
    if (!(s in lo) || $8 < lo[s]) lo[s] = $8;
    if (!(s in hi) || $8 > hi[s]) hi[s] = $8;
    if (hi[s] - lo[s] > kern[key]) kern[key] = hi[s] - lo[s];
  }
  END {
    for (k in n) printf "%-48s %9.3f %8.3f %9.3f %9.2f %8.2f %9.2f %12.2e %6d/%d\n", k,
      mind[k], sd[k] / n[k], maxd[k], ming[k], sg[k] / n[k], maxg[k], kern[k],
      collapsed[k], n[k];
  }' "$out/all.tsv" | sort
