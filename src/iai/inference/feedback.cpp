#include "iai/inference/feedback.h"

#include "iai/core/error.h"

namespace iai::inference {

FeedbackKind parse_feedback_kind(const std::string& name) {
  if (name == "none") return FeedbackKind::kNone;
  if (name == "gradient") return FeedbackKind::kGradient;
  if (name == "error") return FeedbackKind::kErrors;
  throw Error(message("unknown encoding '", name, "' (expected ",
                      or_list(feedback_kind_names()), ")"));
}

const std::vector<std::string>& feedback_kind_names() {
  static const std::vector<std::string> names = {"gradient", "error", "none"};
  return names;
}

std::string to_string(FeedbackKind kind) {
  switch (kind) {
    case FeedbackKind::kGradient:
      return "gradient";
    case FeedbackKind::kErrors:
      return "error";
    case FeedbackKind::kGradientAndErrors:
      return "gradient+error";
    default:
      return "none";
  }
}

ErrorWeighting parse_error_weighting(const std::string& name) {
  if (name == "precision") return ErrorWeighting::kPrecision;
  if (name == "none") return ErrorWeighting::kNone;
  throw Error(message("unknown error weighting '", name, "' (expected ",
                      or_list(error_weighting_names()), ")"));
}

const std::vector<std::string>& error_weighting_names() {
  static const std::vector<std::string> names = {"precision", "none"};
  return names;
}

std::string to_string(ErrorWeighting weighting) {
  return weighting == ErrorWeighting::kNone ? "none" : "precision";
}

bool reads_gradient(FeedbackKind kind) {
  return kind == FeedbackKind::kGradient ||
         kind == FeedbackKind::kGradientAndErrors;
}

bool reads_errors(FeedbackKind kind) {
  return kind == FeedbackKind::kErrors ||
         kind == FeedbackKind::kGradientAndErrors;
}

FeedbackKind combined(FeedbackKind a, FeedbackKind b) {
  if (a == b || b == FeedbackKind::kNone) return a;
  if (a == FeedbackKind::kNone) return b;
  return FeedbackKind::kGradientAndErrors;
}

}  // namespace iai::inference
