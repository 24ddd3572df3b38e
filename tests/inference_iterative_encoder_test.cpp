// The iterative encoder's forms (docs/reference.md#encoding-forms; Section 4):
// input encodings, update forms, the recurrent state, point estimates, and
// the Section 4.3 equivalence with the standard inference model.

#include <cmath>

#include "iai/inference/input_encoding.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/inference/run_inference.h"
#include "iai/inference/standard_encoder.h"
#include "iai/train/step/training_step.h"
#include "test_support.h"

namespace {

using iai::inference::EncoderOptions;
using iai::inference::Feedback;
using iai::inference::FeedbackKind;
using iai::inference::IterativeEncoderImpl;
using iai::inference::Normalization;
using iai::inference::Posterior;
using iai::inference::UpdateForm;
using IterativeEncoderTest = iai::testing::Seeded;

TEST_F(IterativeEncoderTest, GradientEncodingIsLogMagnitudeAndSign) {
  Posterior g{torch::tensor({{0.5, -2e-6, 0.0}}),
              torch::tensor({{-3.0, 1e-3, 4.0}})};
  auto e = iai::inference::encode_feedback({g}, FeedbackKind::kGradient,
                                           Normalization::kLogSign);
  auto expected = torch::tensor(
      {{std::log(0.5 + 1e-5), std::log(2e-6 + 1e-5), std::log(1e-5), 1.0, -1.0,
        0.0, std::log(3.0 + 1e-5), std::log(1e-3 + 1e-5), std::log(4.0 + 1e-5),
        -1.0, 1.0, 1.0}});
  EXPECT_TRUE(torch::allclose(e, expected, 1e-6, 1e-6)) << e;
}

TEST_F(IterativeEncoderTest, LayerNormalizationUsesBatchMeanAndStd) {
  // Column 0: values 1, 3 -> mean 2, population std 1 -> -1, 1.
  // Column 1: constant -> 0 (no division by zero).
  auto g = torch::tensor({{1.0, 5.0}, {3.0, 5.0}}, torch::kDouble);
  auto n = iai::inference::normalize(g, Normalization::kLayer);
  auto want = torch::tensor({{-1.0 / (1 + 1e-5), 0.0}, {1.0 / (1 + 1e-5), 0.0}},
                            torch::kDouble);
  EXPECT_TRUE(torch::allclose(n, want, 0, 1e-12)) << n;
  // A batch of one stays finite.
  auto one = iai::inference::normalize(g.slice(0, 0, 1), Normalization::kLayer);
  EXPECT_TRUE(torch::isfinite(one).all().item<bool>());
  EXPECT_TRUE(
      torch::equal(iai::inference::normalize(g, Normalization::kNone), g));
}

TEST_F(IterativeEncoderTest, ErrorEncodingReadsBothErrors) {
  Feedback f;
  f.error_x = torch::tensor({{0.5, -0.25}});
  f.error_z = torch::tensor({{2.0}});
  auto e = iai::inference::encode_feedback(f, FeedbackKind::kErrors,
                                           Normalization::kNone);
  EXPECT_TRUE(torch::equal(e, torch::tensor({{0.5, -0.25, 2.0}})));
  auto msg = iai::testing::error_of([] {
    iai::inference::encode_feedback({}, FeedbackKind::kErrors,
                                    Normalization::kNone);
  });
  EXPECT_TRUE(iai::testing::contains(msg, "prediction errors"));
}

TEST_F(IterativeEncoderTest, HighwayUpdateInterpolates) {
  auto cur = torch::tensor({1.0, 2.0}), prop = torch::tensor({3.0, -2.0});
  auto gate = torch::tensor({0.25, 1.0});
  EXPECT_TRUE(torch::allclose(iai::inference::highway_update(cur, prop, gate),
                              torch::tensor({2.5, 2.0})));
}

TEST_F(IterativeEncoderTest, UpdateReadsGradientLambdaAndDataAndClampsLogvar) {
  const int64_t D = 7, Z = 3;
  IterativeEncoderImpl with_data(EncoderOptions(D, Z).hidden(8).layers(1));
  IterativeEncoderImpl without_data(
      EncoderOptions(D, Z).hidden(8).layers(1).encode_data(false));
  EXPECT_EQ(with_data.input_features(), 6 * Z + D);
  EXPECT_EQ(without_data.input_features(), 6 * Z);

  auto x = torch::rand({2, D});
  Posterior cur{torch::randn({2, Z}), torch::randn({2, Z})};
  Posterior g{torch::randn({2, Z}), torch::randn({2, Z})};
  auto a = with_data.update(x, cur, {g});
  // Each input matters: change one and lambda_{t+1} changes.
  Posterior g2{g.mu * 3, g.logvar};
  EXPECT_FALSE(torch::allclose(a.mu, with_data.update(x, cur, {g2}).mu));
  EXPECT_FALSE(torch::allclose(a.mu, with_data.update(1 - x, cur, {g}).mu));
  Posterior cur2{cur.mu + 1, cur.logvar};
  EXPECT_FALSE(torch::allclose(a.mu, with_data.update(x, cur2, {g}).mu));

  // A huge current log-variance stays within the clamp.
  Posterior wild{cur.mu, torch::full({2, Z}, 1e4)};
  auto out = with_data.update(x, wild, {g});
  EXPECT_LE(out.logvar.max().item<double>(), iai::inference::kMaxLogvar);

  auto msg = iai::testing::error_of([&] { with_data.update(x, cur, {}); });
  EXPECT_TRUE(iai::testing::contains(msg, "needs the ELBO's gradient"));
}

TEST_F(IterativeEncoderTest, InputWidthsOfEveryForm) {
  const int64_t D = 10, Z = 4;
  auto base = EncoderOptions(D, Z).hidden(8).layers(1);
  auto width = [](EncoderOptions o) {
    return IterativeEncoderImpl(o).input_features();
  };
  EXPECT_EQ(width(EncoderOptions(base).encoding(FeedbackKind::kErrors)),
            2 * (D + Z) + 2 * Z + D);
  EXPECT_EQ(width(EncoderOptions(base)
                      .encoding(FeedbackKind::kErrors)
                      .normalization(Normalization::kLayer)
                      .encode_data(false)),
            (D + Z) + 2 * Z);
  EXPECT_EQ(width(EncoderOptions(base).point_estimate(true)), 2 * Z + Z + D);
  EXPECT_EQ(width(EncoderOptions(base).encoding(FeedbackKind::kNone)), D);
  auto msg = iai::testing::error_of([&] {
    IterativeEncoderImpl(
        EncoderOptions(base).encoding(FeedbackKind::kNone).encode_data(false));
  });
  EXPECT_TRUE(iai::testing::contains(msg, "no input"));
}

TEST_F(IterativeEncoderTest, StandardEncoderIgnoresLambdaAndFeedback) {
  iai::inference::StandardEncoderImpl enc(
      EncoderOptions(5, 2).hidden(6).layers(1));
  auto x = torch::rand({3, 5});
  Posterior a{torch::randn({3, 2}), torch::randn({3, 2})};
  Posterior b{torch::randn({3, 2}), torch::randn({3, 2})};
  auto ya = enc.update(x, a, {a}), yb = enc.update(x, b, {b});
  EXPECT_TRUE(torch::equal(ya.mu, yb.mu));
  EXPECT_EQ(enc.feedback_kind(), FeedbackKind::kNone);
}

TEST_F(IterativeEncoderTest, PointEstimateHasNoVariance) {
  IterativeEncoderImpl enc(
      EncoderOptions(5, 2).hidden(6).layers(1).point_estimate(true));
  auto x = torch::rand({3, 5});
  Posterior cur{torch::randn({3, 2}), {}};
  auto out = enc.update(x, cur, {Posterior{torch::randn({3, 2}), {}}});
  EXPECT_TRUE(out.point());
  EXPECT_EQ(out.mu.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(enc.head->linear->weight.size(0),
            2 * 2);  // [proposal, gate] for mu
}

// Section 4.3: a direct-update iterative model that reads only the data, run
// once, is exactly the standard inference model: same output for the same
// weights, and the same training gradients.
TEST_F(IterativeEncoderTest, DirectDataOnlyModelRunOnceIsTheStandardModel) {
  const int64_t D = 9, Z = 3, B = 4;
  auto options = EncoderOptions(D, Z).hidden(8).layers(2);
  auto standard =
      std::make_shared<iai::inference::StandardEncoderImpl>(options);
  auto iterative =
      std::make_shared<IterativeEncoderImpl>(EncoderOptions(options)
                                                 .encoding(FeedbackKind::kNone)
                                                 .update(UpdateForm::kDirect));
  ASSERT_EQ(iterative->feedback_kind(), FeedbackKind::kNone);
  // Same parameter names and shapes, so one state copies into the other.
  auto from = standard->named_parameters();
  auto to = iterative->named_parameters();
  ASSERT_EQ(from.size(), to.size());
  {
    torch::NoGradGuard no_grad;
    for (const auto& item : from) to[item.key()].copy_(item.value());
  }

  iai::model::LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(D, Z).hidden(6).layers(1));
  auto x = torch::bernoulli(torch::full({B, D}, 0.5));
  auto lambda0 = iai::inference::initial_posterior(*model, B);
  auto a = standard->update(x, lambda0, {});
  auto b = iterative->update(x, lambda0, {});
  EXPECT_TRUE(torch::equal(a.mu, b.mu));
  EXPECT_TRUE(torch::equal(a.logvar, b.logvar));

  auto gradients = [&](iai::inference::InferenceProcedureImpl& p) {
    model->zero_grad();
    p.zero_grad();
    torch::manual_seed(5);
    iai::train::accumulate_gradients(*model, p, x, /*iterations=*/1, 2);
    std::vector<torch::Tensor> out;
    for (const auto& q : p.parameters()) out.push_back(q.grad().clone());
    for (const auto& q : model->parameters()) out.push_back(q.grad().clone());
    return out;
  };
  auto ga = gradients(*standard), gb = gradients(*iterative);
  ASSERT_EQ(ga.size(), gb.size());
  for (size_t i = 0; i < ga.size(); ++i) {
    EXPECT_TRUE(torch::equal(ga[i], gb[i])) << "parameter " << i;
  }
  EXPECT_GT(ga[0].abs().max().item<double>(), 0);
}

TEST_F(IterativeEncoderTest,
       RecurrentStateCarriesWithinABatchAndResetsBetween) {
  const int64_t D = 6, Z = 2, B = 3;
  auto options = EncoderOptions(D, Z).hidden(5).layers(1).recurrent(true);
  auto rnn = std::make_shared<IterativeEncoderImpl>(options);
  auto fresh = std::make_shared<IterativeEncoderImpl>(options);
  {
    torch::NoGradGuard no_grad;
    auto to = fresh->named_parameters();
    for (const auto& item : rnn->named_parameters()) {
      to[item.key()].copy_(item.value());
    }
  }
  torch::NoGradGuard no_grad;
  auto x1 = torch::rand({B, D}), x2 = torch::rand({B, D});
  Posterior cur{torch::zeros({B, Z}), torch::zeros({B, Z})};
  Posterior g{torch::randn({B, Z}), torch::randn({B, Z})};

  rnn->begin_batch(B);
  EXPECT_FALSE(rnn->state().has_value());
  auto first = rnn->update(x1, cur, {g});
  ASSERT_TRUE(rnn->state().has_value());
  // Same inputs again: a different answer, because the state moved on.
  auto second = rnn->update(x1, cur, {g});
  EXPECT_FALSE(torch::allclose(first.mu, second.mu));

  // A new batch starts from a clean state: as a model that never saw batch 1.
  rnn->begin_batch(B);
  fresh->begin_batch(B);
  auto after_reset = rnn->update(x2, cur, {g});
  auto never_seen = fresh->update(x2, cur, {g});
  EXPECT_TRUE(torch::equal(after_reset.mu, never_seen.mu));
  EXPECT_TRUE(torch::equal(after_reset.logvar, never_seen.logvar));
}

}  // namespace

namespace {

// The encoders' fused output heads ([mu, logvar] of a standard encoder;
// [mu, gate_mu, logvar, gate_logvar] of a highway iterative one) are
// initialised as the reference's separate heads: each block of Z rows is
// Glorot-uniform with bound sqrt(6 / (H + Z)), not sqrt(6 / (H + 4Z)).
void expect_heads_glorot(const torch::Tensor& w, int64_t blocks) {
  const int64_t h = w.size(1), z = w.size(0) / blocks;
  const double bound = std::sqrt(6.0 / static_cast<double>(h + z));
  const auto parts = w.chunk(blocks, 0);
  for (int64_t b = 0; b < blocks; ++b) {
    EXPECT_LE(parts[b].abs().max().item<double>(), bound) << "block " << b;
    EXPECT_NEAR(parts[b].std().item<double>() / (bound / std::sqrt(3.0)), 1.0,
                0.02)
        << "block " << b;
  }
}

TEST(EncoderHeadInit, EachHeadHasItsOwnGlorotBound) {
  torch::manual_seed(0);
  const int64_t d = 20, z = 64, h = 512;
  auto standard = std::make_shared<iai::inference::StandardEncoderImpl>(
      iai::inference::EncoderOptions(d, z).hidden(h).layers(1));
  expect_heads_glorot(standard->head->linear->weight, 2);
  auto iterative = std::make_shared<iai::inference::IterativeEncoderImpl>(
      iai::inference::EncoderOptions(d, z).hidden(h).layers(1));
  expect_heads_glorot(iterative->head->linear->weight, 4);
}

}  // namespace
