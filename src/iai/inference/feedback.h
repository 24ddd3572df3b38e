#pragma once
// What an inference procedure sees of the ELBO at lambda_t besides x and
// lambda_t itself: nothing (a standard encoder), the gradient
// grad_lambda L (eq. 6-8; optimisers, gradient-encoding models), or the
// prediction errors eq. 11-12 (error-encoding models, eq. 14-15).

#include "iai/inference/posterior.h"

#include <torch/types.h>

#include <string>

namespace iai::inference {

enum class FeedbackKind { kNone, kGradient, kErrors };

/// "none" | "gradient" | "error" -> FeedbackKind; throws iai::Error.
FeedbackKind parse_feedback_kind(const std::string& name);
std::string to_string(FeedbackKind kind);

/// Detached feedback at lambda_t; only the members the procedure's
/// FeedbackKind names are defined.
struct Feedback {
  /// grad_lambda of sum_batch(L) / gradient_batch (see run_inference.h).
  Posterior gradient;
  /// eq. 11, (B,D).
  torch::Tensor error_x;
  /// eq. 12, (B,Z).
  torch::Tensor error_z;
};

}  // namespace iai::inference
