#include "iai/model/elbo.h"

#include "iai/dist/gaussian.h"

namespace iai::model {

ElboTerms elbo(LatentGaussianModelImpl& model, const torch::Tensor& x,
               const torch::Tensor& mu, const torch::Tensor& logvar,
               int64_t samples, PredictionErrors* errors) {
  const bool point = !logvar.defined();
  // (S*B,Z) sample-major; a point estimate has the one z = mu.
  auto z = point ? mu : dist::rsample(mu, logvar, samples);
  auto out = model.decode(z).view({-1, x.size(0), model.data_dim()});
  auto reconstruction = model.output_log_prob(x, out).mean(0);  // (B)
  // p(z) = N(0, I): analytic KL for a Gaussian q, -log p(mu) for a point.
  auto kl = point ? -dist::standard_normal_log_prob(mu)
                  : dist::kl_standard_normal(mu, logvar);
  if (errors) {
    torch::NoGradGuard no_grad;
    errors->error_x = model.output_error(x, out.detach()).mean(0);
    // Prior N(0, I): E_q[(z - mu_p) / sigma_p^2] = mu exactly; no need to
    // estimate it from the samples.
    errors->error_z = mu.detach();
  }
  return {reconstruction - kl, reconstruction, kl};
}

}  // namespace iai::model
