#pragma once
// The small learning problems whose outcome the suite asserts: a few hundred
// Adam steps of joint training on one fixed batch, then the ELBO measured.
// One trajectory of a few hundred float32 steps depends on the CPU's rounding
// (which ATen kernels and which OpenBLAS kernels run), so the tests run them
// in double precision over several seeds; tools/learning_spread.cpp runs the
// same functions over more seeds, in float and double, to measure the spread
// that sets the tests' margins (scripts/learning-spread.sh, under several
// kernel selections).

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "iai/inference/encoder_options.h"

namespace iai::testing {

/// The ELBO (S = 200, mean over the batch) at lambda_0 (start), after the
/// first (first) and after the last (last) of T = 4 inference iterations;
/// and the best mean ELBO of a model that ignores z (z_blind): independent
/// pixels at the batch's frequencies, -sum_d H(mean_d). A trained model whose
/// start reaches z_blind has collapsed (its decoder ignores z; q = prior is
/// then already the best posterior, and no inference can raise it).
struct LearnedElbos {
  double start, first, last, z_blind;
};

/// The iterative forms the suite trains (name, options), on D = 24, Z = 2.
/// None reads the data (encode_data = false): it learns about x only
/// through its feedback, so improving over the iterations is what it must
/// learn.
std::vector<std::pair<std::string, inference::EncoderOptions>> iterative_forms();
/// The two-level forms: errors and gradient, one model per level.
std::vector<std::pair<std::string, inference::EncoderOptions>> hierarchical_forms();

/// How long and how fast joint training runs: Adam steps and learning rate
/// (both models).
struct Budget {
  int steps;
  double lr;
};
/// The single-level and the two-level problems' budgets.
constexpr Budget kIterativeBudget{300, 1e-2};
constexpr Budget kHierarchicalBudget{300, 1e-2};

/// `budget` Adam steps (T = 4, S = 4) of a single-level model (24 -> 16 ->
/// 2) with an iterative model of `options`, on 16 examples: 4 binary
/// prototypes drawn from `seed`, each repeated 4 times; then LearnedElbos.
/// The parameters, data and computation are in `dtype`.
LearnedElbos learn_iterative_form(const inference::EncoderOptions& options,
                                  uint64_t seed, torch::Dtype dtype,
                                  Budget budget = kIterativeBudget);
/// The same with a two-level model (2 + 2 latents) and one iterative model
/// per level.
LearnedElbos learn_hierarchical_form(const inference::EncoderOptions& options,
                                     uint64_t seed, torch::Dtype dtype,
                                     Budget budget = kHierarchicalBudget);

/// 150 Adam steps (T = 3, S = 2) of an iterative model on 16 examples of D =
/// 20: "gaussian images" (4 smooth prototypes in [0, 1], Gaussian output with
/// a variance head) or "word counts" (Poisson counts from 4 topics,
/// multinomial output). Returns the ELBO after T iterations (S = 50) before
/// and after training.
struct ElboBeforeAfter {
  double before, after;
};
ElboBeforeAfter learn_likelihood_case(const std::string& name, uint64_t seed,
                                      torch::Dtype dtype);

}  // namespace iai::testing
