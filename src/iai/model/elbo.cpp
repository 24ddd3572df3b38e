#include "iai/model/elbo.h"

#include "iai/dist/gaussian.h"

namespace iai::model {

ElboTerms elbo(LatentGaussianModelImpl& model, const torch::Tensor& x,
               const torch::Tensor& mu, const torch::Tensor& logvar,
               int64_t samples) {
  auto z = dist::rsample(mu, logvar, samples);           // (S*B,Z)
  auto reconstruction = model.log_likelihood(x, z).mean(0);  // (B)
  auto kl = dist::kl_standard_normal(mu, logvar);         // (B), p(z) = N(0,I)
  return {reconstruction - kl, reconstruction, kl};
}

}  // namespace iai::model
