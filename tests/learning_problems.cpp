#include "learning_problems.h"

#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include "iai/core/error.h"
#include "iai/inference/hierarchical_iterative_encoder.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/inference/run_inference.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/train/step/training_step.h"

namespace iai::testing {

namespace {

using inference::EncoderOptions;
using inference::FeedbackKind;
using model::LatentGaussianModel;
using model::LatentGaussianModelOptions;

constexpr int64_t kDim = 24, kLatent = 2;

/// Joint training on x: budget.steps Adam steps (lr budget.lr) of both
/// parameter groups, each on the paper's gradients (docs/reference.md,
/// training procedure, step 5).
void train_jointly(LatentGaussianModel& model,
                   inference::InferenceProcedureImpl& procedure,
                   const torch::Tensor& x, Budget budget, int64_t iterations,
                   int64_t samples) {
  torch::optim::Adam opt_theta(model->parameters(), budget.lr);
  torch::optim::Adam opt_phi(procedure.parameters(), budget.lr);
  for (int step = 0; step < budget.steps; ++step) {
    opt_theta.zero_grad();
    opt_phi.zero_grad();
    train::accumulate_gradients(*model, procedure, x, iterations, samples);
    opt_theta.step();
    opt_phi.step();
  }
}

LearnedElbos train_and_measure(LatentGaussianModel& model,
                               inference::InferenceProcedureImpl& procedure,
                               const torch::Tensor& x, Budget budget) {
  train_jointly(model, procedure, x, budget, /*iterations=*/4, /*samples=*/4);
  auto steps = inference::run_inference(*model, procedure, x, 4, 200, 16);
  auto lambda0 = inference::initial_posterior(*model, x.size(0),
                                              procedure.point_estimate());
  const double start = inference::elbo_with_feedback(*model, x, lambda0, 200,
                                                     16, FeedbackKind::kNone)
                           .terms.elbo.mean()
                           .item<double>();
  // Each prototype appears equally often, so the batch's mean
  // log-likelihood under Bernoulli(p_d), p the pixel frequencies, is
  // sum_d p log p + (1 - p) log(1 - p): the best of any z-blind model.
  auto p = x.to(torch::kDouble).mean(0);
  const double z_blind =
      (torch::xlogy(p, p) + torch::xlogy(1 - p, 1 - p)).sum().item<double>();
  return {start, steps.front().terms.elbo.mean().item<double>(),
          steps.back().terms.elbo.mean().item<double>(), z_blind};
}

/// Four distinct binary prototypes, each repeated four times: structure
/// worth inferring. Drawn in float whatever the dtype, so both precisions
/// solve the same problem.
torch::Tensor prototype_batch(torch::Dtype dtype) {
  auto prototypes = torch::bernoulli(torch::full({4, kDim}, 0.5));
  return prototypes.repeat({4, 1}).to(dtype);
}

}  // namespace

std::vector<std::pair<std::string, EncoderOptions>> iterative_forms() {
  auto base =
      EncoderOptions(kDim, kLatent).hidden(32).layers(1).encode_data(false);
  return {
      {"gradient, log-sign, highway", base},
      {"error, log-sign", EncoderOptions(base).encoding(FeedbackKind::kErrors)},
      {"gradient, layer norm",
       EncoderOptions(base).normalization(inference::Normalization::kLayer)},
      {"gradient, direct update",
       EncoderOptions(base).update(inference::UpdateForm::kDirect)},
      {"gradient, recurrent", EncoderOptions(base).recurrent(true)},
      {"gradient, point estimate", EncoderOptions(base).point_estimate(true)},
  };
}

std::vector<std::pair<std::string, EncoderOptions>> hierarchical_forms() {
  auto base = EncoderOptions(kDim, kLatent)
                  .hidden(32)
                  .layers(1)
                  .encode_data(false)
                  .upper_latent_dims({2})
                  .upper_hidden(16);
  return {
      {"hierarchical, errors",
       EncoderOptions(base).encoding(FeedbackKind::kErrors)},
      {"hierarchical, gradient", base},
  };
}

LearnedElbos learn_iterative_form(const EncoderOptions& options, uint64_t seed,
                                  torch::Dtype dtype, Budget budget) {
  torch::manual_seed(seed);
  auto x = prototype_batch(dtype);
  LatentGaussianModel model(
      LatentGaussianModelOptions(kDim, kLatent).hidden(16).layers(1));
  inference::IterativeEncoderImpl procedure(options);
  model->to(dtype);
  procedure.to(dtype);
  return train_and_measure(model, procedure, x, budget);
}

LearnedElbos learn_hierarchical_form(const EncoderOptions& options,
                                     uint64_t seed, torch::Dtype dtype,
                                     Budget budget) {
  torch::manual_seed(seed);
  auto x = prototype_batch(dtype);
  LatentGaussianModel model(LatentGaussianModelOptions(kDim, kLatent)
                                .hidden(16)
                                .layers(1)
                                .upper_latent_dims({2})
                                .upper_hidden(8));
  inference::HierarchicalIterativeEncoderImpl procedure(options);
  model->to(dtype);
  procedure.to(dtype);
  return train_and_measure(model, procedure, x, budget);
}

ElboBeforeAfter learn_likelihood_case(const std::string& name, uint64_t seed,
                                      torch::Dtype dtype) {
  const int64_t D = 20;
  const bool counts = name == "word counts";
  IAI_CHECK(counts || name == "gaussian images", "unknown likelihood case '",
            name, "'");
  auto options =
      counts ? LatentGaussianModelOptions(D, 3).hidden(16).layers(1).likelihood(
                   model::Likelihood::kMultinomial)
             : LatentGaussianModelOptions(D, 3)
                   .hidden(16)
                   .layers(1)
                   .likelihood(model::Likelihood::kGaussian)
                   .output_variance(model::OutputVariance::kHead)
                   .sigmoid_mean(true);
  torch::manual_seed(seed);
  // Four prototypes: smooth images in [0, 1], or topics over D words.
  auto prototypes = torch::rand({4, D});
  auto x = counts ? torch::poisson(prototypes.pow(3) * 6).repeat({4, 1})
                  : (prototypes + 0.05 * torch::randn({4, D}))
                        .clamp(0, 1)
                        .repeat({4, 1});
  x = x.to(dtype);
  LatentGaussianModel model(options);
  inference::IterativeEncoderImpl procedure(
      EncoderOptions(D, 3).hidden(16).layers(1).center_data(!counts));
  model->to(dtype);
  procedure.to(dtype);
  auto elbo_now = [&] {
    auto steps = inference::run_inference(*model, procedure, x, 3, 50, 16);
    return steps.back().terms.elbo.mean().item<double>();
  };
  const double before = elbo_now();
  train_jointly(model, procedure, x, Budget{/*steps=*/150, /*lr=*/1e-2},
                /*iterations=*/3, /*samples=*/2);
  return {before, elbo_now()};
}

}  // namespace iai::testing
