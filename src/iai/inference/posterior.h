#pragma once
// lambda: the approximate posterior's parameters, the quantity every
// inference procedure optimises. Either a diagonal Gaussian
// q(z | x) = N(mu, diag exp(logvar)), or a point estimate q = delta(mu)
// (MAP inference, Section 3.1), which has no logvar.

#include <torch/types.h>

#include <vector>

namespace iai::inference {

/// lambda for a batch: mu (B,Z) and logvar (B,Z), logvar undefined for a
/// point estimate. Also used for gradients with respect to lambda (same
/// shapes).
struct Posterior {
  torch::Tensor mu;
  torch::Tensor logvar;

  bool defined() const { return mu.defined(); }
  /// q = delta(mu): no variance to infer.
  bool point() const { return mu.defined() && !logvar.defined(); }
  /// Both tensors cut from any graph.
  Posterior detach() const {
    return {mu.detach(), logvar.defined() ? logvar.detach() : logvar};
  }
  /// Detached copies that are leaves requiring grad: the point where the
  /// ELBO's gradient with respect to lambda is taken.
  Posterior leaf() const {
    return {mu.detach().requires_grad_(),
            logvar.defined() ? logvar.detach().requires_grad_() : logvar};
  }
  /// The defined tensors, mu first: what autograd differentiates against.
  std::vector<torch::Tensor> tensors() const {
    if (point()) return {mu};
    return {mu, logvar};
  }
};

}  // namespace iai::inference
