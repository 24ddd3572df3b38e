#pragma once
// The output distributions p(x | z) of the paper's experiments (Section 5,
// docs/reference.md), behind one set of functions the model, the ELBO and error
// encoding share:
//   Bernoulli    binary images; the decoder gives logits.
//   Gaussian     images in [0, 1]; the decoder gives the mean (sigmoid or
//                linear) and the log-variance comes from a dense head per
//                example and dimension (clamped to [-7, 15]), one learned
//                value per dimension, one learned value for all, or a
//                fixed 0.
//   Multinomial  word counts over a vocabulary; the decoder gives logits of
//                the word distribution, and log p(x | z) = sum_v x_v log
//                softmax(logits)_v: the probability of the document's words
//                in order (the count-permutation coefficient, constant in
//                the model, is left out, as perplexity wants).
// "out" below is what the decoder's output layer produces, (S,B,W): W = D,
// or 2D for a Gaussian with a variance head ([mean, log-variance]).

#include <torch/types.h>

#include <string>
#include <vector>

namespace iai::model {

enum class Likelihood { kBernoulli, kGaussian, kMultinomial };
/// "bernoulli" | "gaussian" | "multinomial"; throws iai::Error otherwise.
Likelihood parse_likelihood(const std::string& name);
/// The names parse_likelihood accepts.
const std::vector<std::string>& likelihood_names();
std::string to_string(Likelihood likelihood);

/// Where a Gaussian output's log-variance comes from.
enum class OutputVariance {
  kDimension,  // one learned value per dimension (eq. 9-12's global sigma_x^2)
  kSingle,     // one learned value shared by all dimensions
  kHead,       // a dense head on the decoder's features, per example
  kFixed,      // 0: unit variance, not learned
};
/// "dimension" | "single" | "head" | "fixed"; throws iai::Error otherwise.
OutputVariance parse_output_variance(const std::string& name);
/// The names parse_output_variance accepts.
const std::vector<std::string>& output_variance_names();
std::string to_string(OutputVariance variance);

/// Bounds on a Gaussian output's log-variance from a head
/// (docs/reference.md#networks).
constexpr double kMinOutputLogvar = -7.0;
constexpr double kMaxOutputLogvar = 15.0;

/// A Gaussian output's mean and log-variance from `out` (S,B,W) and the
/// global log-variance parameter (undefined for kHead and kFixed).
struct GaussianOutput {
  torch::Tensor mean, logvar;
};
GaussianOutput gaussian_output(const torch::Tensor& out,
                               OutputVariance variance,
                               const torch::Tensor& global_logvar);

/// log p(x | out) summed over D; x (B,D) broadcasts over out's samples.
/// Returns (S,B).
torch::Tensor output_log_prob(Likelihood likelihood, OutputVariance variance,
                              const torch::Tensor& x, const torch::Tensor& out,
                              const torch::Tensor& global_logvar);

/// The output's precision-weighted prediction error (eq. 11), the gradient
/// of log p(x | out) with respect to the output's natural parameter: x -
/// sigmoid(logits) (Bernoulli), (x - mean) / sigma^2 (Gaussian), x - N
/// softmax(logits) with N = sum_v x_v (multinomial). (S,B,D).
torch::Tensor output_error(Likelihood likelihood, OutputVariance variance,
                           const torch::Tensor& x, const torch::Tensor& out,
                           const torch::Tensor& global_logvar);

/// E[x | z] per unit: sigmoid(logits), the Gaussian mean, or the word
/// probabilities softmax(logits). (..., D).
torch::Tensor output_mean(Likelihood likelihood, OutputVariance variance,
                          const torch::Tensor& out);

}  // namespace iai::model
