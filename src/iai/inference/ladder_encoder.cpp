#include "iai/inference/ladder_encoder.h"

#include "iai/core/error.h"

namespace iai::inference {

Posterior precision_weighted(const Posterior& a, const Posterior& b) {
  // log sigma_q^2 = -log(sigma_a^-2 + sigma_b^-2), computed stably.
  auto logvar = -torch::logaddexp(-a.logvar, -b.logvar);
  auto mu = (a.mu * torch::exp(logvar - a.logvar) +
             b.mu * torch::exp(logvar - b.logvar));
  return {mu, logvar.clamp(kMinLogvar, kMaxLogvar)};
}

LadderEncoderImpl::LadderEncoderImpl(EncoderOptions options,
                                     model::GenerativeModel model)
    : model_(std::move(model)) {
  IAI_CHECK(!options.point_estimate(),
            "ladder (top-down) inference combines Gaussian estimates by their "
            "precisions; it needs --posterior gaussian");
  IAI_CHECK(!options.upper_latent_dims().empty(),
            "ladder (top-down) inference needs a hierarchical model (at least "
            "two levels); a single-level model has no top-down prior");
  IAI_CHECK(model_->latent_dims() == level_latent_dims(options),
            "ladder inference: the encoder's levels do not match the model's");
  bottom_up = register_module("bottom_up",
                              std::make_shared<StandardEncoderImpl>(options));
}

Posterior LadderEncoderImpl::update(const torch::Tensor& x,
                                    const Posterior& /*current*/,
                                    const Feedback& /*feedback*/) {
  auto levels = bottom_up->bottom_up(x);
  // Top-down: level l's prior given the combined means of the levels above
  // (lower levels hold their bottom-up means meanwhile; the prior of level
  // l does not read them).
  for (int64_t l = static_cast<int64_t>(levels.size()) - 2; l >= 0; --l) {
    auto pass =
        model_->generate(concat_levels(levels).mu, /*with_output=*/false);
    levels[l] =
        precision_weighted(levels[l], {pass.prior_mu[l], pass.prior_logvar[l]});
  }
  return concat_levels(levels);
}

}  // namespace iai::inference
