// Optimiser inference against LibTorch's own optimisers (the reference
// implementation of each update rule), a hand-written momentum update, and
// every procedure raising the ELBO of a fixed model on fixed data.

#include <torch/optim/adagrad.h>
#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include "iai/inference/iterative_encoder.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/refined_procedure.h"
#include "iai/inference/run_inference.h"
#include "iai/inference/standard_encoder.h"
#include "test_support.h"

namespace {

using iai::inference::OptimizerInferenceImpl;
using iai::inference::OptimizerKind;
using iai::inference::OptimizerOptions;
using iai::inference::Posterior;
using OptimizerInferenceTest = iai::testing::Seeded;

// A smooth objective with a known gradient: f(l) = -sum(c * (l - a)^2)
// elementwise, with different curvature per component.
struct Quadratic {
  torch::Tensor a = torch::randn({3, 4}, torch::kDouble);
  torch::Tensor c = torch::rand({3, 4}, torch::kDouble) + 0.5;
  torch::Tensor gradient(const torch::Tensor& l) const {
    return -2 * c * (l - a);
  }
  torch::Tensor loss(const torch::Tensor& l) const {
    return (c * (l - a) * (l - a)).sum();  // -f
  }
};

std::unique_ptr<torch::optim::Optimizer> reference(OptimizerKind kind,
                                                   torch::Tensor p, double lr) {
  using namespace torch::optim;
  switch (kind) {
    case OptimizerKind::kSgd:
      return std::make_unique<SGD>(std::vector<torch::Tensor>{p},
                                   SGDOptions(lr));
    case OptimizerKind::kMomentum:
      return std::make_unique<SGD>(std::vector<torch::Tensor>{p},
                                   SGDOptions(lr).momentum(0.9));
    case OptimizerKind::kNesterov:
      return std::make_unique<SGD>(std::vector<torch::Tensor>{p},
                                   SGDOptions(lr).momentum(0.9).nesterov(true));
    case OptimizerKind::kRmsprop:
      return std::make_unique<RMSprop>(
          std::vector<torch::Tensor>{p},
          RMSpropOptions(lr).alpha(0.99).eps(1e-8));
    case OptimizerKind::kAdagrad:
      return std::make_unique<Adagrad>(std::vector<torch::Tensor>{p},
                                       AdagradOptions(lr));
    case OptimizerKind::kAdam:
      return std::make_unique<Adam>(std::vector<torch::Tensor>{p},
                                    AdamOptions(lr).eps(1e-8));
  }
  return nullptr;
}

TEST_F(OptimizerInferenceTest, EachOptimiserMatchesLibTorchForTwoSteps) {
  Quadratic f;
  for (auto kind : iai::inference::all_optimizer_kinds()) {
    const double lr = 0.05;
    OptimizerInferenceImpl ours(
        OptimizerOptions(kind).lr(lr).point_estimate(true));
    ours.begin_batch(3);
    auto start = torch::randn({3, 4}, torch::kDouble);
    Posterior l{start.clone(), {}};
    auto p = start.clone().requires_grad_();
    auto opt = reference(kind, p, lr);
    for (int step = 0; step < 2; ++step) {
      l = ours.update({}, l, {Posterior{f.gradient(l.mu), {}}});
      opt->zero_grad();
      f.loss(p).backward();
      opt->step();
    }
    EXPECT_TRUE(torch::allclose(l.mu, p.detach(), 1e-12, 1e-12))
        << to_string(kind) << ":\n"
        << l.mu << "\nvs\n"
        << p;
    EXPECT_GT((l.mu - start).abs().max().item<double>(), 1e-3)
        << to_string(kind);
  }
}

TEST_F(OptimizerInferenceTest, MomentumByHandAndStateResetsPerBatch) {
  Quadratic f;
  const double lr = 0.1, m = 0.9;
  OptimizerInferenceImpl ours(OptimizerOptions(OptimizerKind::kMomentum)
                                  .lr(lr)
                                  .momentum(m)
                                  .gradient_scale(2));
  auto l0 = torch::randn({3, 4}, torch::kDouble);
  Posterior l{l0, l0 * 0.5};
  ours.begin_batch(3);
  auto g0 = f.gradient(l.mu);
  auto l1 = ours.update({}, l, {Posterior{g0, g0}});
  auto g1 = f.gradient(l1.mu);
  auto l2 = ours.update({}, l1, {Posterior{g1, g1}});
  // v1 = 2 g0; v2 = m v1 + 2 g1 (gradient_scale 2).
  auto want = l0 + lr * 2 * g0 + lr * (m * 2 * g0 + 2 * g1);
  EXPECT_TRUE(torch::allclose(l2.mu, want, 1e-12, 1e-12));
  // A new batch forgets the velocity: its first step is plain SGD.
  ours.begin_batch(3);
  auto fresh = ours.update({}, l, {Posterior{g0, g0}});
  EXPECT_TRUE(torch::allclose(fresh.mu, l0 + lr * 2 * g0, 1e-12, 1e-12));
}

// Every procedure, on a fixed small model and fixed data, ends its
// iterations with a higher ELBO than its first iteration gave.
TEST_F(OptimizerInferenceTest, EveryProcedureRaisesTheElbo) {
  const int64_t D = 20, Z = 4, B = 16, T = 30, S = 16;
  iai::model::LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(D, Z).hidden(16).layers(1));
  auto x = torch::bernoulli(torch::full({B, D}, 0.3));
  struct Case {
    double lr;
    OptimizerKind kind;
  };
  std::vector<iai::inference::InferenceProcedure> procedures;
  const Case cases[] = {
      {0.05, OptimizerKind::kSgd},      {0.02, OptimizerKind::kMomentum},
      {0.02, OptimizerKind::kNesterov}, {0.05, OptimizerKind::kRmsprop},
      {0.3, OptimizerKind::kAdagrad},   {0.1, OptimizerKind::kAdam}};
  for (const auto& c : cases) {
    procedures.push_back(std::make_shared<OptimizerInferenceImpl>(
        OptimizerOptions(c.kind).lr(c.lr).gradient_scale(B)));
    procedures.push_back(std::make_shared<OptimizerInferenceImpl>(
        OptimizerOptions(c.kind).lr(c.lr).gradient_scale(B).point_estimate(
            true)));
  }
  procedures.push_back(std::make_shared<iai::inference::RefinedProcedureImpl>(
      std::make_shared<iai::inference::StandardEncoderImpl>(
          iai::inference::EncoderOptions(D, Z).hidden(8).layers(1)),
      std::make_shared<OptimizerInferenceImpl>(
          OptimizerOptions(OptimizerKind::kAdam).lr(0.1).gradient_scale(B))));
  for (auto& p : procedures) {
    auto steps = iai::inference::run_inference(*model, *p, x, T, S, B);
    const double first = steps.front().terms.elbo.mean().item<double>();
    const double last = steps.back().terms.elbo.mean().item<double>();
    EXPECT_GT(last, first + 0.2)
        << p->label() << (p->point_estimate() ? " (point)" : "")
        << ": L_1 = " << first << ", L_T = " << last;
  }
}

TEST_F(OptimizerInferenceTest, RefinedProcedureRunsFirstStageThenSecond) {
  auto encoder = std::make_shared<iai::inference::StandardEncoderImpl>(
      iai::inference::EncoderOptions(5, 2).hidden(4).layers(1));
  auto sgd = std::make_shared<OptimizerInferenceImpl>(
      OptimizerOptions(OptimizerKind::kSgd).lr(1.0));
  iai::inference::RefinedProcedureImpl hybrid(encoder, sgd);
  EXPECT_EQ(hybrid.label(), "standard+sgd");
  EXPECT_EQ(hybrid.feedback_kind(), iai::inference::FeedbackKind::kGradient);
  auto x = torch::rand({2, 5});
  Posterior zero{torch::zeros({2, 2}), torch::zeros({2, 2})};
  Posterior g{torch::ones({2, 2}), torch::ones({2, 2})};
  torch::NoGradGuard no_grad;
  hybrid.begin_batch(2);
  auto first = hybrid.update(x, zero, {g});
  EXPECT_TRUE(torch::equal(first.mu, encoder->update(x, zero, {}).mu));
  auto second = hybrid.update(x, first, {g});
  EXPECT_TRUE(torch::allclose(second.mu, first.mu + 1));
  hybrid.begin_batch(2);
  EXPECT_TRUE(torch::equal(hybrid.update(x, zero, {g}).mu, first.mu));

  auto point = std::make_shared<OptimizerInferenceImpl>(
      OptimizerOptions(OptimizerKind::kSgd).point_estimate(true));
  auto msg = iai::testing::error_of(
      [&] { iai::inference::RefinedProcedureImpl(encoder, point); });
  EXPECT_TRUE(iai::testing::contains(msg, "point estimate"));
}

// An error-encoding model refined by an optimiser reads both kinds of
// feedback; the ELBO pass then gives the same gradient and the same errors
// as the single-kind passes (same samples), and the refinement runs.
TEST_F(OptimizerInferenceTest, ErrorModelRefinedByGradientOptimiserReadsBoth) {
  using iai::inference::FeedbackKind;
  const int64_t D = 6, Z = 2, B = 3;
  iai::model::LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(D, Z).hidden(8).layers(1));
  auto encoder = std::make_shared<iai::inference::IterativeEncoderImpl>(
      iai::inference::EncoderOptions(D, Z).hidden(8).layers(1).encoding(
          FeedbackKind::kErrors));
  auto adam = std::make_shared<OptimizerInferenceImpl>(
      OptimizerOptions(OptimizerKind::kAdam).lr(0.1).gradient_scale(B));
  iai::inference::RefinedProcedureImpl hybrid(encoder, adam, 2);
  EXPECT_EQ(hybrid.feedback_kind(), FeedbackKind::kGradientAndErrors);

  auto x = torch::bernoulli(torch::full({B, D}, 0.3));
  auto lambda = iai::inference::initial_posterior(*model, B);
  auto at = [&](FeedbackKind kind) {
    torch::manual_seed(5);
    return iai::inference::elbo_with_feedback(*model, x, lambda, 4, B, kind)
        .feedback;
  };
  auto both = at(FeedbackKind::kGradientAndErrors);
  auto gradient = at(FeedbackKind::kGradient),
       errors = at(FeedbackKind::kErrors);
  // The gradient alone is taken by hand (model/elbo_gradient.h), with the
  // errors through autograd: the same gradient to float rounding.
  EXPECT_TRUE(
      torch::allclose(both.gradient.mu, gradient.gradient.mu, 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(both.gradient.logvar, gradient.gradient.logvar,
                              1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(both.error_x, errors.error_x));
  EXPECT_TRUE(torch::allclose(both.error_z, errors.error_z));
  EXPECT_FALSE(gradient.error_x.defined());

  auto steps = iai::inference::run_inference(*model, hybrid, x, 30, 10, B);
  EXPECT_GT(steps.back().terms.elbo.mean().item<double>(),
            steps[1].terms.elbo.mean().item<double>() + 0.1);
}

}  // namespace
