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
/// pixels at the batch's frequencies, -sum_d H(mean_d). start <= z_blind for
/// any model up to its sampling noise (log Bernoulli(x; mu) is concave in
/// mu, so averaging the decoder over lambda_0's z loses, and KL terms only
/// subtract), with equality only where the decoder's output does not depend
/// on z: a trained model whose start reaches z_blind has collapsed (q =
/// prior is then already the best posterior, and no inference can raise
/// it).
struct LearnedElbos {
  double start, first, last, z_blind;
};

/// The iterative forms the suite trains (name, options), on D = 24, Z = 2.
/// None reads the data (encode_data = false): it learns about x only
/// through its feedback, so improving over the iterations is what it must
/// learn.
std::vector<std::pair<std::string, inference::EncoderOptions>>
iterative_forms();
/// The two-level forms: errors and gradient, one model per level.
std::vector<std::pair<std::string, inference::EncoderOptions>>
hierarchical_forms();

/// How long and how fast joint training runs: Adam steps and learning rate
/// (both models).
struct Budget {
  int steps;
  double lr;
};
/// The single-level problem's budget.
constexpr Budget kIterativeBudget{300, 1e-2};
/// The two-level problem's: half the single-level learning rate. With each
/// fused matrix initialised as the reference's, lr 1e-2 left the
/// gradient model on some seeds far from converged after 300 steps, where
/// it ended kernel-dependent (seed 4 in double: L_4 from -11.7 to -25.9 over
/// three kernel selections, L_4 - L_1 down to -4.9); at 5e-3 every seed
/// that did not collapse ends near L_4 = -2.5 (scripts/learning-spread.sh;
/// the numbers are in the test's comment).
constexpr Budget kHierarchicalBudget{300, 5e-3};

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
