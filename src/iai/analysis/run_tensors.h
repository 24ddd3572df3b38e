#pragma once
// A loaded run on the caller's own tensors (the Python package's calls):
// the checks that turn a tensor the model cannot read into one clear
// message, the decoder's mean, and samples of the model.

#include "iai/analysis/loaded_run.h"
#include "iai/analysis/run_eval.h"

#include <torch/types.h>

#include <string>

namespace iai::analysis {

/// Throws iai::Error, naming `name`, unless x can be the run's model input:
/// (B,D) with B >= 1 and D the model's, float32, dense, finite, and inside
/// the support of the run's likelihood ([0, 1] for Bernoulli, >= 0 for
/// multinomial word counts).
void check_examples(const LoadedRun& run, const torch::Tensor& x,
                    const std::string& name = "x");

/// Throws iai::Error unless z is (N,Z) float32, dense and finite, Z the
/// width of every level's latents side by side.
void check_latents(const LoadedRun& run, const torch::Tensor& z,
                   const std::string& name = "z");

/// infer_examples (run_eval.h) on x (B,D), checked by check_examples: read
/// in place (batches are views of it) when it is on the run's device, else
/// copied there first.
objectives::Evaluation infer_tensor(LoadedRun& run, const torch::Tensor& x,
                                    const InferenceSettings& settings);

/// E[x | z], (N,D), for z (N,Z) (checked) on the run's device: the
/// Bernoulli probabilities, the Gaussian mean or the word probabilities.
torch::Tensor decode(LoadedRun& run, const torch::Tensor& z);

/// n samples of the model: z ~ p(z) (model/prior_sample.h), (n,Z), and
/// E[x | z], (n,D), on the run's device.
struct ModelSamples {
  torch::Tensor z, x_mean;
};
ModelSamples sample(LoadedRun& run, int64_t n);

}  // namespace iai::analysis
