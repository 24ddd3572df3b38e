#include "iai/inference/run_inference.h"

#include <torch/autograd.h>

namespace iai::inference {

namespace {
model::ElboTerms detach(const model::ElboTerms& t) {
  return {t.elbo.detach(), t.reconstruction.detach(), t.kl.detach()};
}
}  // namespace

Posterior initial_posterior(model::LatentGaussianModelImpl& model,
                            int64_t batch) {
  auto [mu, logvar] = model.prior(batch);
  return {mu, logvar};
}

ElboWithGradient elbo_with_gradient(model::LatentGaussianModelImpl& model,
                                    const torch::Tensor& x,
                                    const Posterior& lambda, int64_t samples,
                                    int64_t gradient_batch) {
  torch::AutoGradMode enable(true);
  auto at = lambda.leaf();
  auto terms = model::elbo(model, x, at.mu, at.logvar, samples);
  auto objective = terms.elbo.sum() / static_cast<double>(gradient_batch);
  auto grads = torch::autograd::grad({objective}, {at.mu, at.logvar});
  return {detach(terms), {grads[0], grads[1]}};
}

std::vector<InferenceStep> run_inference(
    model::LatentGaussianModelImpl& model, InferenceProcedureImpl& procedure,
    const torch::Tensor& x, int64_t iterations, int64_t samples,
    int64_t gradient_batch) {
  const bool needs_gradient = procedure.needs_gradient();
  procedure.begin_batch(x.size(0));
  Posterior lambda = initial_posterior(model, x.size(0));
  Posterior grad;
  if (needs_gradient) grad = elbo_with_gradient(model, x, lambda, samples, gradient_batch).grad;

  std::vector<InferenceStep> steps;
  steps.reserve(iterations);
  for (int64_t t = 1; t <= iterations; ++t) {
    {
      torch::NoGradGuard no_grad;  // phi needs no gradient here
      lambda = procedure.update(x, lambda, grad).detach();
    }
    if (needs_gradient) {
      auto at = elbo_with_gradient(model, x, lambda, samples, gradient_batch);
      grad = at.grad;
      steps.push_back({lambda, at.terms});
    } else {
      torch::NoGradGuard no_grad;
      steps.push_back(
          {lambda, detach(model::elbo(model, x, lambda.mu, lambda.logvar,
                                      samples))});
    }
  }
  return steps;
}

}  // namespace iai::inference
