#pragma once
// The standard inference model (eq. 5): lambda = f(x; phi), one pass from the
// data alone. It is the T = 1 case of an inference procedure, and exactly a
// direct-update, data-only iterative model run once (Section 4.3).
// For a hierarchical model it is the purely bottom-up encoder of Section 4.1:
// level l's network reads level l-1's hidden units (level 1's reads x), and
// a head on each gives that level's lambda. It cannot see the top-down
// priors, which is the weakness eq. 13 explains.

#include "iai/inference/encoder_options.h"
#include "iai/inference/inference_procedure.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"

#include <torch/nn/modules/container/modulelist.h>

namespace iai::inference {

class StandardEncoderImpl : public InferenceProcedureImpl {
 public:
  explicit StandardEncoderImpl(EncoderOptions options);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override;
  FeedbackKind feedback_kind() const override { return FeedbackKind::kNone; }
  bool point_estimate() const override { return options.point_estimate(); }
  std::string label() const override { return "standard"; }

  /// The bottom-up estimate of every level, (mu, logvar) each (B,Z_l),
  /// level 1 first (logvar undefined for a point estimate).
  std::vector<Posterior> bottom_up(const torch::Tensor& x);

  EncoderOptions options;
  nn::Mlp body{nullptr};
  nn::Dense head{nullptr};  // -> [mu, logvar] ([mu] for a point estimate)
  // Levels 2..L (index l-2): network on level l-1's hidden units, head.
  torch::nn::ModuleList upper_bodies{nullptr};
  torch::nn::ModuleList upper_heads{nullptr};
};

/// Concatenates per-level posteriors, level 1 first, into one lambda.
Posterior concat_levels(const std::vector<Posterior>& levels);

}  // namespace iai::inference
