#pragma once
// Importance-weighted estimate of the marginal log-likelihood
// (docs/reference.md#evaluation):
// log p(x) ~= log (1/K) sum_k p(x, z_k) / q(z_k | x),
// z_k ~ q. Computed in chunks of samples with a running log-sum-exp so
// memory stays bounded whatever K is. It is a lower bound that tightens as K
// grows, and with K = 1 its expectation is the ELBO.

#include "iai/inference/posterior.h"
#include "iai/model/generative_model.h"

#include <torch/types.h>

namespace iai::objectives {

/// Decoder rows a chunk of samples may take where the caller names none:
/// on the CPU 1024 (a chunk's activations stay in the caches: at 1024 rows
/// a 512-wide layer is 2 MB and the 784 logits 3 MB, which the Bernoulli
/// pass reads back from cache; K = 5000 ran 8% (1 thread) and 4% (2
/// threads) faster than at 4096, which ran 1.4x and 1.9x faster than
/// 32768); on a GPU 32768 (each chunk is a few kernel launches: at 1024 rows
/// `iai eval` of the 10,000 MNIST test examples with K = 5000 took 17.1 s
/// on an H100, at 32768 3.8 s).
int64_t default_iw_rows(const torch::Device& device);

/// x is (B,D); q's parameters (B,Z). Returns (B): each example's estimate
/// with `samples` (K) importance samples, `chunk` of them per decoder call.
torch::Tensor importance_weighted_log_px(model::GenerativeModelImpl& model,
                                         const torch::Tensor& x,
                                         const inference::Posterior& q,
                                         int64_t samples, int64_t chunk);

}  // namespace iai::objectives
