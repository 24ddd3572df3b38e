#pragma once
// The standard inference model (eq. 5): lambda = f(x; phi), one pass from the
// data alone. It is the T = 1 case of an inference procedure, and exactly a
// direct-update, data-only iterative model run once (Section 4.3).

#include "iai/inference/encoder_options.h"
#include "iai/inference/inference_procedure.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"

namespace iai::inference {

class StandardEncoderImpl : public InferenceProcedureImpl {
 public:
  explicit StandardEncoderImpl(EncoderOptions options);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override;
  FeedbackKind feedback_kind() const override { return FeedbackKind::kNone; }
  bool point_estimate() const override { return options.point_estimate(); }
  std::string label() const override { return "standard"; }

  EncoderOptions options;
  nn::Mlp body{nullptr};
  nn::Dense head{nullptr};  // -> [mu, logvar] ([mu] for a point estimate)
};

}  // namespace iai::inference
