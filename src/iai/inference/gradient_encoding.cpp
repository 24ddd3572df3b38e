#include "iai/inference/gradient_encoding.h"

namespace iai::inference {

torch::Tensor encode_gradient(const Posterior& grad) {
  auto log_abs = [](const torch::Tensor& g) {
    return torch::log(g.abs() + kGradientLogOffset);
  };
  return torch::cat({log_abs(grad.mu), torch::sign(grad.mu),
                     log_abs(grad.logvar), torch::sign(grad.logvar)},
                    /*dim=*/1);
}

torch::Tensor highway_update(const torch::Tensor& current,
                             const torch::Tensor& proposal,
                             const torch::Tensor& gate) {
  return gate * current + (1 - gate) * proposal;
}

}  // namespace iai::inference
