#pragma once
// lambda: the approximate posterior's parameters q(z | x) = N(mu, diag
// exp(logvar)), the quantity every inference procedure optimises.

#include <torch/types.h>

namespace iai::inference {

/// lambda for a batch: mu and logvar, each (B,Z). Also used for gradients
/// with respect to lambda (same shapes).
struct Posterior {
  torch::Tensor mu;
  torch::Tensor logvar;

  bool defined() const { return mu.defined(); }
  /// Both tensors cut from any graph.
  Posterior detach() const { return {mu.detach(), logvar.detach()}; }
  /// Detached copies that are leaves requiring grad: the point where the
  /// ELBO's gradient with respect to lambda is taken.
  Posterior leaf() const {
    return {mu.detach().requires_grad_(), logvar.detach().requires_grad_()};
  }
};

}  // namespace iai::inference
