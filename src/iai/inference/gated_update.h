#pragma once
// The iterative encoder's two per-iteration steps around its network, each
// in one pass over plain float rows where they apply (CPU float32, lambda
// and its gradient detached: the training step's detached iterations and
// inference):
//   - its input with log-sign encoding of the gradient feedback (Section 3.2,
//     docs/reference.md#encoding-forms), [log(|g_mu| + 1e-5), sign g_mu,
//     log(|g_logvar| + 1e-5), sign g_logvar, mu, logvar], written into one
//     tensor instead of five LibTorch ops and two concatenations;
//   - the highway update of eq. 7-8 for mu and logvar (logvar clamped),
//     forward and backward, instead of a dozen LibTorch ops each way.
// On the paper's 64 x 64 latents each LibTorch op is mostly dispatch and
// autograd bookkeeping, on one thread while the other waits
// (docs/performance.md).
// Anything else (point estimates, unrolled training's graph through lambda,
// a GPU) keeps the LibTorch formulas of input_encoding.h.

#include "iai/inference/posterior.h"

#include <torch/types.h>

#include <optional>

namespace iai::inference {

/// [n(g_mu), n(g_logvar), mu, logvar] with n the log-sign encoding, (B, 6Z);
/// undefined where it does not apply (the caller then concatenates
/// normalize()'s blocks and lambda).
torch::Tensor log_sign_input(const Posterior& gradient,
                             const Posterior& lambda);

/// The highway update of mu and logvar from the encoder head's output
/// `out` = [proposal_mu, gate_mu, proposal_logvar, gate_logvar] (B, 4Z):
///   mu' = s(a) mu + (1 - s(a)) p,   s the sigmoid,
/// logvar' likewise, clamped to [kMinLogvar, kMaxLogvar]. Differentiable
/// in `out` (once). None where it does not apply (the caller then uses
/// highway_update).
std::optional<Posterior> gated_update(const torch::Tensor& out,
                                      const Posterior& current);

}  // namespace iai::inference
