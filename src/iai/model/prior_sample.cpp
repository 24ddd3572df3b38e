#include "iai/model/prior_sample.h"

#include "iai/core/device.h"
#include "iai/core/error.h"

#include <torch/nn/module.h>

namespace iai::model {

torch::Tensor sample_prior(GenerativeModelImpl& model, int64_t n) {
  IAI_CHECK(n > 0, "the number of samples must be positive, got ", n);
  torch::NoGradGuard no_grad;
  const auto options = torch::TensorOptions().device(device_of(model));
  auto z = torch::zeros({n, model.latent_dim()}, options);
  const auto levels = model.split_levels(z);  // views of z
  const int64_t top = model.levels();
  levels[top - 1].normal_();
  // p(z_l | z_{l+1}) depends only on the levels above l, all drawn by now.
  for (int64_t l = top - 1; l >= 1; --l) {
    const auto pass = model.generate(z, /*with_output=*/false);
    const auto& mu = pass.prior_mu[l - 1];
    const auto& logvar = pass.prior_logvar[l - 1];
    levels[l - 1].copy_(mu + torch::exp(0.5 * logvar) * torch::randn_like(mu));
  }
  return z;
}

}  // namespace iai::model
