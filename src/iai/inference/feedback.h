#pragma once
// What an inference procedure sees of the ELBO at lambda_t besides x and
// lambda_t itself: nothing (a standard encoder), the gradient
// grad_lambda L (eq. 6-8; optimisers, gradient-encoding models), or the
// prediction errors eq. 11-12 (error-encoding models, eq. 14-15).

#include "iai/inference/posterior.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace iai::inference {

/// kGradientAndErrors: both, for a hybrid whose stages read different
/// feedback (an error-encoding model refined by an optimiser).
enum class FeedbackKind { kNone, kGradient, kErrors, kGradientAndErrors };

/// "none" | "gradient" | "error" -> FeedbackKind (an encoding reads one
/// kind); throws iai::Error.
FeedbackKind parse_feedback_kind(const std::string& name);
/// The names parse_feedback_kind accepts: gradient, error, none.
const std::vector<std::string>& feedback_kind_names();
/// Whether a procedure of this kind reads the gradient / the errors.
bool reads_gradient(FeedbackKind kind);
bool reads_errors(FeedbackKind kind);
/// The feedback two procedures together read.
FeedbackKind combined(FeedbackKind a, FeedbackKind b);
std::string to_string(FeedbackKind kind);

/// How an error-encoding model's errors are scaled. kPrecision: eq. 11-12
/// as written, each error divided by its variance. kNone: the raw errors
/// x - E[x | z] and z_l - mu_p(z_l); a lower level whose learnt prior
/// variance collapses then cannot blow its error up (the hierarchical MNIST
/// model with batch norm diverges with precision-weighted errors).
enum class ErrorWeighting { kPrecision, kNone };
/// "precision" | "none" -> ErrorWeighting; throws iai::Error.
ErrorWeighting parse_error_weighting(const std::string& name);
/// The names parse_error_weighting accepts.
const std::vector<std::string>& error_weighting_names();
std::string to_string(ErrorWeighting weighting);

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
