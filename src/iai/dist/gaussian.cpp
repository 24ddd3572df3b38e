#include "iai/dist/gaussian.h"

#include "iai/core/test_hooks.h"
#include "iai/parallel/batch_shard.h"

#include <cmath>

namespace iai::dist {

namespace {
const double kLog2Pi = std::log(2.0 * M_PI);
}

torch::Tensor standard_noise(const torch::Tensor& mu, int64_t samples) {
  // Drawn for the global batch when it is spread over processes, so each
  // example's eps does not depend on their number (parallel/batch_shard.h).
  const std::vector<int64_t> shape = {samples, rows_to_draw(mu.size(0)),
                                      mu.size(1)};
  return own_rows(host_noise_for_tests()
                      ? torch::randn(shape, mu.options().device(torch::kCPU))
                            .to(mu.device())
                      : torch::randn(shape, mu.options()),
                  1);
}

torch::Tensor reparameterise(const torch::Tensor& mu,
                             const torch::Tensor& logvar,
                             const torch::Tensor& eps) {
  return reparameterise_sd(mu, torch::exp(0.5 * logvar), eps);
}

torch::Tensor reparameterise_sd(const torch::Tensor& mu, const torch::Tensor& sd,
                                const torch::Tensor& eps) {
  // eps is (S,B,Z); broadcasting mu/sd over S keeps examples aligned. One
  // operator (addcmul) for mu + sd eps: one kernel on a GPU, not two.
  auto z = torch::addcmul(mu.unsqueeze(0), sd.unsqueeze(0), eps);
  return z.reshape({eps.size(0) * mu.size(0), mu.size(1)});
}

torch::Tensor rsample(const torch::Tensor& mu, const torch::Tensor& logvar,
                      int64_t samples) {
  return reparameterise(mu, logvar, standard_noise(mu, samples));
}

torch::Tensor log_prob(const torch::Tensor& z, const torch::Tensor& mu,
                       const torch::Tensor& logvar) {
  auto d = z - mu;
  return -0.5 * (kLog2Pi + logvar + d * d * torch::exp(-logvar)).sum(-1);
}

torch::Tensor standard_normal_log_prob(const torch::Tensor& z) {
  return -0.5 * (kLog2Pi + z * z).sum(-1);
}

torch::Tensor kl_divergence(const torch::Tensor& mu_q,
                            const torch::Tensor& logvar_q,
                            const torch::Tensor& mu_p,
                            const torch::Tensor& logvar_p) {
  auto d = mu_q - mu_p;
  return 0.5 * (logvar_p - logvar_q +
                (torch::exp(logvar_q) + d * d) * torch::exp(-logvar_p) - 1.0)
                   .sum(-1);
}

torch::Tensor kl_standard_normal(const torch::Tensor& mu,
                                 const torch::Tensor& logvar) {
  // (exp(logvar) - 1 - logvar) + mu^2 in three operators, where the
  // formula as written takes five (expm1 is also the more accurate).
  return 0.5 * (torch::expm1(logvar) - logvar).addcmul_(mu, mu).sum(-1);
}

}  // namespace iai::dist
