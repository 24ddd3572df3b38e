// The gradient an iterative model reads must not depend on how many examples
// are evaluated together: it is scaled by the training batch size.

#include "iai/inference/run_inference.h"
#include "iai/model/latent_gaussian_model.h"
#include "test_support.h"

namespace {

using RunInferenceTest = iai::testing::Seeded;
constexpr auto kGradient = iai::inference::FeedbackKind::kGradient;

TEST_F(RunInferenceTest, GradientScaleFollowsTrainingBatchNotEvaluationBatch) {
  iai::model::LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(6, 2).hidden(4).layers(1));
  model->to(torch::kDouble);
  auto x = torch::bernoulli(torch::full({8, 6}, 0.5, torch::kDouble));
  // Near-zero variance: samples equal mu, so the gradient is deterministic.
  iai::inference::Posterior lambda{torch::randn({8, 2}, torch::kDouble),
                                   torch::full({8, 2}, -60.0, torch::kDouble)};
  auto whole =
      iai::inference::elbo_with_feedback(*model, x, lambda, 1, 64, kGradient);
  iai::inference::Posterior first{lambda.mu.slice(0, 0, 2),
                                  lambda.logvar.slice(0, 0, 2)};
  auto part = iai::inference::elbo_with_feedback(*model, x.slice(0, 0, 2),
                                                 first, 1, 64, kGradient);
  EXPECT_TRUE(torch::allclose(part.feedback.gradient.mu,
                              whole.feedback.gradient.mu.slice(0, 0, 2), 1e-6,
                              1e-9));
  EXPECT_GT(whole.feedback.gradient.mu.abs().max().item<double>(), 1e-4);
  // And it is the per-example gradient divided by the training batch size.
  auto per_example =
      iai::inference::elbo_with_feedback(*model, x, lambda, 1, 1, kGradient);
  EXPECT_TRUE(torch::allclose(whole.feedback.gradient.mu * 64,
                              per_example.feedback.gradient.mu, 1e-6, 1e-9));
}

}  // namespace
