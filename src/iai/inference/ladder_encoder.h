#pragma once
// Top-down inference in the style of the Ladder VAE (Sonderby et al. 2016),
// the baseline Section 4.1 explains: a bottom-up pass (the standard
// encoder's) gives an estimate (mu_hat_l, sigma_hat_l^2) for every level;
// then, from the top down, each lower level's estimate is combined with its
// top-down prior p(z_l | z_{l+1}) by precision weighting:
//   sigma_q^-2 = sigma_hat^-2 + sigma_p^-2,
//   mu_q = (mu_hat sigma_hat^-2 + mu_p sigma_p^-2) sigma_q^2.
// The top level keeps its bottom-up estimate. Here the prior is evaluated at
// the mean of the (already combined) levels above, so q stays one lambda per
// example, factorised over levels like every other procedure's: the ELBO,
// the optimisers and the importance-weighted bound treat it alike. (The
// original conditions q(z_l) on a sample of z_{l+1}.)
// It reads the generative model's priors, so it holds a handle to the model
// (not registered: the model's parameters stay the model's).

#include "iai/inference/encoder_options.h"
#include "iai/inference/inference_procedure.h"
#include "iai/inference/standard_encoder.h"
#include "iai/model/generative_model.h"

namespace iai::inference {

class LadderEncoderImpl : public InferenceProcedureImpl {
 public:
  /// options as for a hierarchical StandardEncoder (a Gaussian q); model is
  /// the generative model whose priors the combination reads.
  LadderEncoderImpl(EncoderOptions options, model::GenerativeModel model);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override;
  FeedbackKind feedback_kind() const override { return FeedbackKind::kNone; }
  std::string label() const override { return "ladder"; }

  std::shared_ptr<StandardEncoderImpl> bottom_up;

 private:
  model::GenerativeModel model_;
};

/// The precision-weighted combination of two Gaussian estimates of one
/// level (each (B,Z_l)): the product of the two densities, renormalised.
Posterior precision_weighted(const Posterior& a, const Posterior& b);

}  // namespace iai::inference
