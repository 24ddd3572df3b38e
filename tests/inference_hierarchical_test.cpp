// Inference procedures for hierarchical models: the bottom-up standard
// encoder, the per-level iterative model's routing of bottom-up and top-down
// errors (Section 4.1), and the ladder's precision-weighted combination.

#include "iai/inference/hierarchical_iterative_encoder.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/inference/ladder_encoder.h"
#include "iai/inference/standard_encoder.h"
#include "iai/model/latent_gaussian_model.h"
#include "test_support.h"

namespace {

using namespace iai::inference;
using HierarchicalInferenceTest = iai::testing::Seeded;

TEST_F(HierarchicalInferenceTest, PrecisionWeightingIsTheProductOfGaussians) {
  // N(1, 1) and N(3, 3): precision 1 + 1/3 = 4/3, mean (1 + 3/3) * 3/4.
  Posterior a{torch::tensor({{1.0}}), torch::tensor({{0.0}})};
  Posterior b{torch::tensor({{3.0}}), torch::tensor({{std::log(3.0)}})};
  auto q = precision_weighted(a, b);
  EXPECT_NEAR(q.mu.item<double>(), 1.5, 1e-6);
  EXPECT_NEAR(q.logvar.exp().item<double>(), 0.75, 1e-6);
  // A very confident prior wins.
  Posterior sure{torch::tensor({{-2.0}}), torch::tensor({{-12.0}})};
  EXPECT_NEAR(precision_weighted(a, sure).mu.item<double>(), -2.0, 1e-4);
}

TEST_F(HierarchicalInferenceTest, StandardEncoderIsBottomUpPerLevel) {
  auto options =
      EncoderOptions(12, 4).hidden(8).upper_latent_dims({3}).upper_hidden(5);
  StandardEncoderImpl encoder(options);
  auto x = torch::rand({6, 12});
  auto q = encoder.update(x, {}, {});
  EXPECT_EQ(q.mu.sizes(), (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(q.logvar.sizes(), (std::vector<int64_t>{6, 7}));
  // Level 1 is exactly a single-level encoder with the same weights.
  StandardEncoderImpl single(EncoderOptions(12, 4).hidden(8));
  {
    torch::NoGradGuard no_grad;
    auto from = encoder.named_parameters();
    for (auto& p : single.named_parameters()) p.value().copy_(from[p.key()]);
  }
  auto q1 = single.update(x, {}, {});
  EXPECT_TRUE(torch::allclose(q.mu.slice(1, 0, 4), q1.mu));
  EXPECT_TRUE(torch::allclose(q.logvar.slice(1, 0, 4), q1.logvar));
}

// Level l's model reads the bottom-up error of the level below (eps_x at
// level 1) and its own top-down error; nothing else of the feedback.
TEST_F(HierarchicalInferenceTest, IterativeLevelsReadTheirOwnErrors) {
  const int64_t B = 5, D = 7, Z1 = 3, Z2 = 2;
  auto options = EncoderOptions(D, Z1)
                     .hidden(6)
                     .upper_latent_dims({Z2})
                     .upper_hidden(4)
                     .encoding(FeedbackKind::kErrors)
                     .normalization(Normalization::kNone)
                     .encode_data(false)
                     .update(UpdateForm::kDirect);
  HierarchicalIterativeEncoderImpl encoder(options);
  ASSERT_EQ(encoder.levels->size(), 2u);
  auto level = [&](size_t l) {
    return encoder.levels[l]->as<IterativeEncoderImpl>();
  };
  // (error below + own error) + lambda_l.
  EXPECT_EQ(level(0)->input_features(), (D + Z1) + 2 * Z1);
  EXPECT_EQ(level(1)->input_features(), (Z1 + Z2) + 2 * Z2);

  auto x = torch::rand({B, D});
  Posterior current{torch::randn({B, Z1 + Z2}), torch::randn({B, Z1 + Z2})};
  Feedback feedback;
  feedback.error_x = torch::randn({B, D});
  feedback.error_z = torch::randn({B, Z1 + Z2});
  auto base = encoder.update(x, current, feedback);
  auto changed = [&](Feedback f) {
    auto q = encoder.update(x, current, f);
    auto d = (q.mu - base.mu).abs();
    return std::make_pair(d.slice(1, 0, Z1).max().item<double>() > 1e-6,
                          d.slice(1, Z1).max().item<double>() > 1e-6);
  };
  Feedback f = feedback;
  f.error_x = feedback.error_x + 1;
  EXPECT_EQ(changed(f),
            std::make_pair(true, false));  // bottom-up of level 1 only
  f = feedback;
  f.error_z = feedback.error_z.clone();
  f.error_z.slice(1, 0, Z1).add_(1);
  EXPECT_EQ(changed(f), std::make_pair(true, true));  // top-down 1, bottom-up 2
  f = feedback;
  f.error_z = feedback.error_z.clone();
  f.error_z.slice(1, Z1).add_(1);
  EXPECT_EQ(changed(f),
            std::make_pair(false, true));  // top-down of level 2 only
}

TEST_F(HierarchicalInferenceTest, LadderCombinesBottomUpWithTopDownPrior) {
  const int64_t D = 9, Z1 = 3, Z2 = 2;
  iai::model::LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(D, Z1)
          .hidden(8)
          .upper_latent_dims({Z2})
          .upper_hidden(5));
  auto options =
      EncoderOptions(D, Z1).hidden(8).upper_latent_dims({Z2}).upper_hidden(5);
  LadderEncoderImpl ladder(options, model);
  auto x = torch::rand({4, D});
  auto q = ladder.update(x, {}, {});
  auto up = ladder.bottom_up->bottom_up(x);
  // Top level: the bottom-up estimate itself.
  EXPECT_TRUE(torch::allclose(q.mu.slice(1, Z1), up[1].mu));
  // Level 1: combined with p(z_1 | z_2 = mu_2).
  auto pass = model->generate(torch::cat({up[0].mu, up[1].mu}, 1), false);
  auto expected =
      precision_weighted(up[0], {pass.prior_mu[0], pass.prior_logvar[0]});
  EXPECT_TRUE(torch::allclose(q.mu.slice(1, 0, Z1), expected.mu, 1e-5, 1e-6));
  EXPECT_TRUE(
      torch::allclose(q.logvar.slice(1, 0, Z1), expected.logvar, 1e-5, 1e-6));
  // Its parameters are the encoder's only, not the model's.
  EXPECT_EQ(ladder.parameters().size(), ladder.bottom_up->parameters().size());
  // A single-level model has no top-down prior.
  iai::model::LatentGaussianModel flat(
      iai::model::LatentGaussianModelOptions(D, Z1));
  EXPECT_THROW(LadderEncoderImpl(EncoderOptions(D, Z1), flat), iai::Error);
}

}  // namespace
