#include "iai/dist/bernoulli.h"

namespace iai::dist {

torch::Tensor bernoulli_log_prob(const torch::Tensor& x,
                                 const torch::Tensor& logits) {
  return (x * logits - torch::softplus(logits)).sum(-1);
}

}  // namespace iai::dist
