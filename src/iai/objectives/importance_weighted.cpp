#include "iai/objectives/importance_weighted.h"

#include "iai/core/error.h"
#include "iai/cpu/gemm.h"
#include "iai/cpu/own_kernels.h"
#include "iai/dist/gaussian.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace iai::objectives {

int64_t default_iw_rows(const torch::Device& device) {
  return cpu::own_kernels_on(device) ? 1024 : 32768;
}

torch::Tensor importance_weighted_log_px(model::GenerativeModelImpl& model,
                                         const torch::Tensor& x,
                                         const inference::Posterior& q,
                                         int64_t samples, int64_t chunk) {
  IAI_CHECK(samples > 0, "importance samples must be positive, got ", samples);
  IAI_CHECK(chunk > 0, "importance-sample chunk must be positive, got ", chunk);
  IAI_CHECK(!q.point(),
            "importance-weighted log p(x) needs a Gaussian q(z | x); a point "
            "estimate q = delta(mu) has no density to sample from");
  torch::NoGradGuard no_grad;
  // The decoder's weights are used once a chunk: packed once (cpu/gemm.h).
  std::optional<gemm::FrozenWeights> frozen;
  if (cpu::own_kernels_on(x.device())) frozen.emplace(model.parameters());
  const int64_t batch = x.size(0);
  auto total = torch::full({batch}, -std::numeric_limits<float>::infinity(),
                           x.options());
  for (int64_t done = 0; done < samples; done += chunk) {
    const int64_t k = std::min(chunk, samples - done);
    auto z = dist::rsample(q.mu, q.logvar, k);  // (k*B,Z)
    auto z3 = z.view({k, batch, -1});
    // log w = log p(x, z) - log q(z | x), each (k,B); p(x, z) holds every
    // level's prior, q factorises over levels.
    auto log_w = model.log_joint(x, z) - dist::log_prob(z3, q.mu, q.logvar);
    total = torch::logaddexp(total, torch::logsumexp(log_w, /*dim=*/0));
  }
  return total - std::log(static_cast<double>(samples));
}

}  // namespace iai::objectives
