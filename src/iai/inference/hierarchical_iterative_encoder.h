#pragma once
// Iterative inference for a hierarchical model (Section 4.1): one iterative
// model per level, each updating its own lambda_l from what eq. 13 says
// that level's gradient is made of:
//   gradient encoding: grad_{lambda_l} L, which (eq. 13) already combines the
//                      bottom-up term J_l eps^{l-1} and the top-down -eps^l;
//   error encoding:    the bottom-up error eps^{l-1} (eps_x at level 1,
//                      eps_z of the level below above it) and the top-down
//                      error eps^l against the level's own prior.
// Each level's model also reads its lambda_l and (optionally) the data, with
// every option of IterativeEncoder (normalisation, highway/direct update,
// recurrence). lambda and the feedback arrive flat (all levels side by side)
// and are cut per level here.

#include "iai/inference/encoder_options.h"
#include "iai/inference/inference_procedure.h"

#include <torch/nn/modules/container/modulelist.h>

#include <vector>

namespace iai::inference {

class HierarchicalIterativeEncoderImpl : public InferenceProcedureImpl {
 public:
  /// options.upper_latent_dims names the levels above level 1; level l's
  /// network has hidden (l = 1) or upper_hidden (l > 1) units.
  explicit HierarchicalIterativeEncoderImpl(EncoderOptions options);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override;
  FeedbackKind feedback_kind() const override { return options.encoding(); }
  ErrorWeighting error_weighting() const override {
    return options.error_weighting();
  }
  bool point_estimate() const override { return options.point_estimate(); }
  void begin_batch(int64_t batch) override;
  std::string label() const override { return "iterative"; }

  EncoderOptions options;
  /// One IterativeEncoder per level, level 1 first.
  torch::nn::ModuleList levels;

 private:
  std::vector<int64_t> dims_;
};

}  // namespace iai::inference
