#include "iai/train/training_step.h"

#include "iai/inference/run_inference.h"

#include <torch/autograd.h>

namespace iai::train {

StepOutcome accumulate_gradients(model::LatentGaussianModelImpl& model,
                                 inference::InferenceProcedureImpl& procedure,
                                 const torch::Tensor& x, int64_t iterations,
                                 int64_t samples) {
  using inference::Posterior;
  procedure.begin_batch(x.size(0));
  Posterior lambda = inference::initial_posterior(model, x.size(0));
  Posterior grad;
  if (procedure.needs_gradient()) {
    grad = inference::elbo_with_gradient(model, x, lambda, samples, x.size(0))
               .grad;
  }
  const std::vector<torch::Tensor> theta = model.parameters();
  const double inv_t = 1.0 / static_cast<double>(iterations);
  model::ElboTerms terms;

  for (int64_t t = 1; t <= iterations; ++t) {
    // Inputs detached: no second-order terms, no backprop across iterations.
    Posterior next = procedure.update(x, lambda.detach(), grad);
    Posterior at = next.leaf();
    terms = model::elbo(model, x, at.mu, at.logvar, samples);
    auto objective = terms.elbo.mean();  // batch-mean L_t

    std::vector<torch::Tensor> wrt = {at.mu, at.logvar};
    const bool last = t == iterations;
    if (last) wrt.insert(wrt.end(), theta.begin(), theta.end());
    auto g = torch::autograd::grad({objective}, wrt, /*grad_outputs=*/{},
                                   /*retain_graph=*/false,
                                   /*create_graph=*/false,
                                   /*allow_unused=*/true);
    grad = {g[0], g[1]};
    if (last) {
      for (size_t i = 0; i < theta.size(); ++i) {
        auto gi = g[2 + i];
        theta[i].mutable_grad() =
            gi.defined() ? -gi : torch::zeros_like(theta[i]);
      }
    }
    // grad_phi(-L_t / T) = J_phi^T (-grad_lambda L_t / T).
    torch::autograd::backward({next.mu, next.logvar},
                              {-inv_t * grad.mu, -inv_t * grad.logvar});
    lambda = at.detach();
  }
  return {{terms.elbo.detach(), terms.reconstruction.detach(),
           terms.kl.detach()}};
}

}  // namespace iai::train
