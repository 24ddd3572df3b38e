// The training step against a direct, naive computation of the paper's
// procedure (docs/reference.md#training-procedure) on a tiny model:
// encoder gradients are the mean over iterations
// of grad_phi(-L_t) (inputs detached), decoder gradients come from the last
// iteration only.

#include <torch/autograd.h>

#include "iai/inference/iterative_encoder.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/refined_procedure.h"
#include "iai/inference/run_inference.h"
#include "iai/inference/standard_encoder.h"
#include "iai/model/elbo.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/train/step/gradient_record.h"
#include "iai/train/step/training_step.h"
#include "learning_problems.h"
#include "test_support.h"

namespace {

using iai::inference::IterativeEncoderImpl;
using iai::inference::Posterior;
using iai::model::LatentGaussianModel;
using TrainingStepTest = iai::testing::Seeded;

constexpr int64_t B = 3, D = 6, Z = 2, S = 2, T = 3;

std::vector<torch::Tensor> grads_of(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) {
    out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  return out;
}

double max_difference(const std::vector<torch::Tensor>& a,
                      const std::vector<torch::Tensor>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  }
  return worst;
}

TEST_F(TrainingStepTest, EncoderGetsMeanOverIterationsDecoderGetsLast) {
  LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(D, Z).hidden(4).layers(1));
  auto procedure = std::make_shared<IterativeEncoderImpl>(
      iai::inference::EncoderOptions(D, Z).hidden(5).layers(1));
  model->to(torch::kDouble);
  procedure->to(torch::kDouble);
  auto x = torch::bernoulli(torch::full({B, D}, 0.5, torch::kDouble));
  auto theta = model->parameters();
  auto phi = procedure->parameters();

  // Under test.
  torch::manual_seed(11);
  iai::train::accumulate_gradients(*model, *procedure, x, T, S);
  auto got_theta = grads_of(theta), got_phi = grads_of(phi);

  // Naive: one full graph per iteration, gradients taken separately.
  torch::manual_seed(11);
  Posterior lambda = iai::inference::initial_posterior(*model, B);
  Posterior grad =
      iai::inference::elbo_with_feedback(
          *model, x, lambda, S, B, iai::inference::FeedbackKind::kGradient)
          .feedback.gradient;
  std::vector<torch::Tensor> want_phi, last_theta, mean_theta, last_phi;
  for (const auto& p : phi) want_phi.push_back(torch::zeros_like(p));
  for (const auto& p : theta) mean_theta.push_back(torch::zeros_like(p));
  for (int64_t t = 1; t <= T; ++t) {
    Posterior next = procedure->update(x, lambda.detach(), {grad.detach()});
    auto L = iai::model::elbo(*model, x, next.mu, next.logvar, S).elbo.mean();
    auto g_phi = torch::autograd::grad({-L}, phi, {}, /*retain_graph=*/true);
    auto g_theta = torch::autograd::grad({-L}, theta, {}, true, false, true);
    auto g_lambda = torch::autograd::grad({L}, {next.mu, next.logvar});
    for (size_t i = 0; i < phi.size(); ++i) want_phi[i] += g_phi[i] / T;
    for (size_t i = 0; i < theta.size(); ++i) mean_theta[i] += g_theta[i] / T;
    if (t == T) {
      last_theta.assign(g_theta.begin(), g_theta.end());
      last_phi.assign(g_phi.begin(), g_phi.end());
    }
    grad = {g_lambda[0], g_lambda[1]};
    lambda = next.detach();
  }

  EXPECT_LT(max_difference(got_phi, want_phi), 1e-10);
  EXPECT_LT(max_difference(got_theta, last_theta), 1e-10);
  // The alternatives differ measurably, so the test tells them apart.
  EXPECT_GT(max_difference(want_phi, last_phi), 1e-4);
  EXPECT_GT(max_difference(last_theta, mean_theta), 1e-4);
}

// The learning problems (learning_problems.h) end differently on different
// CPUs: the kernels ATen and OpenBLAS pick round differently, and over 300
// Adam steps (and through sign(g) in the log-sign encoding, which flips for
// a gradient near zero) the last bits grow into a different trajectory.
// With OpenBLAS's Zen kernels (an AMD EPYC's) one float32 trajectory of the
// direct-update form ended at L_4 - L_1 = -0.30 where its SkylakeX kernels
// (an AVX-512 Xeon's) passed the old margin of +0.05, ATen's AVX2 kernels
// in both. So these tests assert only what holds over the whole spread of
// trajectories, measured by scripts/learning-spread.sh over 8 seeds, in
// float and double, under OpenBLAS's SkylakeX and its Zen kernels; the
// numbers quoted are from that run. They run in double precision, which
// shrinks the spread between kernels for some forms (layer norm: none;
// errors: 2e-7 against 7e-2 in float) though not for all, and over kSeeds
// seeds.
constexpr uint64_t kSeeds = 5;

// Every form of iterative model learns to infer: after a few hundred steps
// lambda_T lies far above lambda_0 on every seed and kernel. Whether it
// keeps improving after its first step depends on the form. A model reading
// the gradient improves on average over the iterations, the paper's central
// claim, but not on every seed: a direct update is free to jump to its
// answer at t = 1, and any form may. So the mean over the four gradient
// forms and kSeeds seeds is asserted positive. A model reading the errors
// eps_x = x - mu_x reads x itself and a point estimate's MAP problem is
// solved in one step here: both hold their first step's answer on average
// over the seeds (the mean over seeds is asserted).
// Measured with each fused matrix initialised as the reference's
// (scripts/learning-spread.sh, 8 seeds, three kernel selections, double):
// L_4 - L_0 at least 19.4 nats for a point estimate, 36.9 for a Gaussian q
// (16.7 in float); per form, seed and kernel L_4 - L_1 from -0.38 to +7.59
// for the gradient forms, whose mean over seeds 1-5 is +0.58 to +0.73 per
// kernel selection (standard deviation of one up to 1.14: the mean of 20
// lies at least 2.9 standard errors above 0); L_4 - L_1 at least -0.72
// (errors) and -0.03 (point estimate) on every seed, their means over seeds
// 1-5 at least -0.22 and -0.003. (With the fused init: 19.7 and 46.9 nats,
// L_4 - L_1 from -0.14 to +1.94, mean +0.335 with standard deviation 0.39;
// -0.65 for the point estimate's seed 3 under the default/Sandybridge
// kernels.)
TEST_F(TrainingStepTest, EveryIterativeFormLearnsToRaiseTheElbo) {
  double gradient_gain = 0;
  int gradient_runs = 0;
  for (const auto& [name, options] : iai::testing::iterative_forms()) {
    const bool one_step =
        options.point_estimate() ||
        options.encoding() == iai::inference::FeedbackKind::kErrors;
    double gain = 0;
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      const auto r =
          iai::testing::learn_iterative_form(options, seed, torch::kDouble);
      EXPECT_GT(r.last, r.start + 10.0)
          << name << ", seed " << seed << ": L_0 = " << r.start
          << ", L_4 = " << r.last;
      gain += (r.last - r.first) / kSeeds;
      if (!one_step) {
        gradient_gain += r.last - r.first;
        ++gradient_runs;
      }
    }
    if (one_step)
      EXPECT_GT(gain, -0.5) << name << ": mean L_4 - L_1 over seeds";
  }
  ASSERT_EQ(gradient_runs, 4 * static_cast<int>(kSeeds));
  EXPECT_GT(gradient_gain / gradient_runs, 0.0)
      << "mean L_4 - L_1 of the gradient-encoding forms over " << kSeeds
      << " seeds";
}

// The same for a two-level model with one iterative model per level: each
// learns from its bottom-up and top-down errors (or its gradient) to improve
// lambda far beyond lambda_0 (Section 4.1), unless joint training collapsed
// the model: its decoder then ignores z, lambda_0 (the prior) reaches the
// best ELBO a z-blind model has (LearnedElbos::z_blind), and no inference
// can raise it. With each fused matrix initialised as the reference's (issue
// 14) the gradient model collapses on seed 2 (z_blind -12.69, L_0 -13.06,
// L_4 -15.4 at lr 1e-2, -24.0 at 5e-3) at every budget measured (300 steps
// at lr 1e-2 and 5e-3 under three kernel selections, float and double; 600
// steps at both in double, this CPU's kernels), where with the fused init
// no seed of 8 collapsed (300 steps, lr 1e-2, three kernel selections). So
// one collapsed seed of kSeeds is allowed, and every other seed is asserted
// to learn.
// Measured at kHierarchicalBudget (lr 5e-3; at 1e-2 the gradient model
// ended some seeds unconverged: learning_problems.h) by
// scripts/learning-spread.sh over 8 seeds and three kernel selections,
// float and double: seed 2 of the gradient model is the only run that
// collapsed (3 of 24 per precision, one per kernel selection). Every other
// run ends L_4 - L_0 at least 50.9 nats (gradient) and 44.6 (errors) above;
// the gradient model keeps improving over the iterations (L_4 - L_1 at least
// +0.38 in double, +0.14 in float, on every such seed; the mean over seeds
// 1-5 is at least +1.20 in double), and the error model, which gets there
// in its first step (the errors at lambda_0 carry x itself), holds that
// answer (L_4 - L_1 at least -0.68; mean over seeds 1-5 at least -0.18).
// The means are asserted, over the seeds that learned.
TEST_F(TrainingStepTest, HierarchicalIterativeModelsLearnToRaiseTheElbo) {
  for (const auto& [name, options] : iai::testing::hierarchical_forms()) {
    const bool errors =
        options.encoding() == iai::inference::FeedbackKind::kErrors;
    double gain = 0;
    int learned = 0, collapsed = 0;
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      const auto r =
          iai::testing::learn_hierarchical_form(options, seed, torch::kDouble);
      if (r.start >= r.z_blind - 1.0) {
        ++collapsed;
        continue;
      }
      EXPECT_GT(r.last, r.start + 10.0)
          << name << ", seed " << seed << ": L_0 = " << r.start
          << ", L_4 = " << r.last;
      gain += r.last - r.first;
      ++learned;
    }
    EXPECT_LE(collapsed, 1) << name << ": seeds whose model ignores z";
    ASSERT_GT(learned, 0) << name;
    EXPECT_GT(gain / learned, errors ? -1.0 : 0.1)
        << name << ": mean L_4 - L_1 over the seeds that learned";
  }
}

/// An iterative encoder that keeps the (detached) inputs of every update.
class RecordedInputs : public iai::inference::InferenceProcedureImpl {
 public:
  explicit RecordedInputs(std::shared_ptr<IterativeEncoderImpl> inner)
      : inner(register_module("inner", std::move(inner))) {}
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const iai::inference::Feedback& feedback) override {
    calls.push_back({current.detach(), feedback});
    return inner->update(x, current, feedback);
  }
  iai::inference::FeedbackKind feedback_kind() const override {
    return inner->feedback_kind();
  }
  iai::inference::ErrorWeighting error_weighting() const override {
    return inner->error_weighting();
  }
  bool point_estimate() const override { return inner->point_estimate(); }
  void begin_batch(int64_t batch) override { inner->begin_batch(batch); }
  std::string label() const override { return "recorded"; }

  std::shared_ptr<IterativeEncoderImpl> inner;
  std::vector<std::pair<Posterior, iai::inference::Feedback>> calls;
};

// The paper's detached step: phi's gradient is that of
//   F(phi) = (1/T) sum_t -mean_b L_t(f_phi(x, lambda_{t-1}, feedback_{t-1}))
// with every lambda_{t-1} and feedback held at the values of the step (the
// encoder's inputs are detached). Checked against central finite
// differences of F (samples fixed by reseeding), for gradient and error
// encoding.
TEST_F(TrainingStepTest, IterativeEncoderGradientMatchesFiniteDifferences) {
  using iai::inference::FeedbackKind;
  for (FeedbackKind kind : {FeedbackKind::kGradient, FeedbackKind::kErrors}) {
    LatentGaussianModel model(
        iai::model::LatentGaussianModelOptions(D, Z).hidden(4).layers(1));
    auto recorded =
        std::make_shared<RecordedInputs>(std::make_shared<IterativeEncoderImpl>(
            iai::inference::EncoderOptions(D, Z).hidden(5).layers(1).encoding(
                kind)));
    model->to(torch::kDouble);
    recorded->to(torch::kDouble);
    auto x = torch::bernoulli(torch::full({B, D}, 0.5, torch::kDouble));
    torch::manual_seed(31);
    iai::train::accumulate_gradients(*model, *recorded, x, T, S);
    const auto phi = recorded->inner->parameters();
    const auto analytic = grads_of(phi);
    ASSERT_EQ(recorded->calls.size(), static_cast<size_t>(T));

    auto objective = [&] {
      torch::NoGradGuard no_grad;
      torch::manual_seed(31);
      // The step's first draw: the feedback at lambda_0.
      const auto& first = recorded->calls[0].first;
      iai::model::elbo(*model, x, first.mu, first.logvar, S);
      double total = 0;
      for (const auto& [current, feedback] : recorded->calls) {
        auto next = recorded->inner->update(x, current, feedback);
        iai::model::PredictionErrors errors;
        auto terms =
            iai::model::elbo(*model, x, next.mu, next.logvar, S,
                             kind == FeedbackKind::kErrors ? &errors : nullptr);
        total -= terms.elbo.mean().item<double>() / T;
      }
      return total;
    };
    const double h = 1e-6;
    int checked = 0;
    for (size_t i = 0; i < phi.size(); ++i) {
      auto flat = phi[i].view(-1);
      for (int64_t j = 0; j < flat.size(0);
           j += std::max<int64_t>(1, flat.size(0) / 3)) {
        const double keep = flat[j].item<double>();
        torch::NoGradGuard no_grad;
        flat[j].fill_(keep + h);
        const double up = objective();
        flat[j].fill_(keep - h);
        const double down = objective();
        flat[j].fill_(keep);
        const double numeric = (up - down) / (2 * h);
        const double got = analytic[i].view(-1)[j].item<double>();
        EXPECT_NEAR(got, numeric, 1e-6 + 1e-4 * std::abs(numeric))
            << to_string(kind) << ": parameter " << i << " element " << j;
        ++checked;
      }
    }
    EXPECT_GT(checked, 6);
    // The check has teeth: the gradient is not vanishingly small.
    EXPECT_GT(max_difference(analytic, std::vector<torch::Tensor>(
                                           analytic.size(), torch::zeros({}))),
              1e-3);
  }
}

// Every error an error-encoding model reads in a training step (lambda_0's
// and each later iteration's) is weighted as the model asks: (x - mu_x) /
// sigma_x^2 (eq. 11) or raw x - mu_x. A point estimate makes the errors
// exact (z = mu), and a Gaussian output with variances away from 1 makes
// the two weightings differ.
TEST_F(TrainingStepTest, ErrorsAreWeightedAsTheModelAsksAtEveryIteration) {
  using iai::inference::ErrorWeighting;
  for (ErrorWeighting weighting :
       {ErrorWeighting::kPrecision, ErrorWeighting::kNone}) {
    LatentGaussianModel model(
        iai::model::LatentGaussianModelOptions(D, Z)
            .hidden(4)
            .layers(1)
            .likelihood(iai::model::Likelihood::kGaussian));
    {
      torch::NoGradGuard no_grad;
      model->output_logvar.uniform_(-1.5, -0.5);
    }
    auto recorded =
        std::make_shared<RecordedInputs>(std::make_shared<IterativeEncoderImpl>(
            iai::inference::EncoderOptions(D, Z)
                .hidden(5)
                .layers(1)
                .point_estimate(true)
                .encoding(iai::inference::FeedbackKind::kErrors)
                .error_weighting(weighting)));
    model->to(torch::kDouble);
    recorded->to(torch::kDouble);
    auto x = torch::rand({B, D}, torch::kDouble);
    iai::train::accumulate_gradients(*model, *recorded, x, T, 1);
    ASSERT_EQ(recorded->calls.size(), static_cast<size_t>(T));
    torch::NoGradGuard no_grad;
    const auto var_x = model->output_logvar.exp();
    for (size_t t = 0; t < recorded->calls.size(); ++t) {
      const auto& [current, feedback] = recorded->calls[t];
      auto raw = x - model->output_mean(current.mu);
      auto expected = weighting == ErrorWeighting::kNone ? raw : raw / var_x;
      EXPECT_TRUE(torch::allclose(feedback.error_x, expected, 1e-10, 1e-10))
          << to_string(weighting) << ", iteration " << t;
    }
    EXPECT_GT((var_x - 1).abs().min().item<double>(), 0.3);
  }
}

// Figure 6's record taken from the step's own gradients is the one taken
// apart with passes of its own (mean_abs_mu_gradients): each example's
// |dL_i/dmu_i| at lambda_1..lambda_T, over the rows and mu's columns, with a
// training batch (the divisor) larger than the rows. A point estimate makes
// the ELBO and its gradients exact, so the two agree to rounding (a
// Bernoulli and a Gaussian output).
TEST_F(TrainingStepTest, StepsGradientRecordIsTheSeparateOne) {
  for (auto likelihood : {iai::model::Likelihood::kBernoulli,
                          iai::model::Likelihood::kGaussian}) {
    LatentGaussianModel model(iai::model::LatentGaussianModelOptions(D, Z)
                                  .hidden(4)
                                  .layers(1)
                                  .likelihood(likelihood));
    auto encoder = std::make_shared<IterativeEncoderImpl>(
        iai::inference::EncoderOptions(D, Z).hidden(5).layers(1).point_estimate(
            true));
    model->to(torch::kDouble);
    encoder->to(torch::kDouble);
    const int64_t batch = 8;  // the training batch: B rows and a divisor 8
    auto x = torch::bernoulli(torch::full({B, D}, 0.5, torch::kDouble));
    const auto expected =
        iai::train::mean_abs_mu_gradients(*model, *encoder, x, T, 1, batch);
    const auto outcome =
        iai::train::accumulate_gradients(*model, *encoder, x, T, 1, batch,
                                         /*record_gradients=*/true);
    ASSERT_TRUE(outcome.mu_gradient_sums.defined());
    // Not asked for (every step but the recorded ones): not taken.
    EXPECT_FALSE(
        iai::train::accumulate_gradients(*model, *encoder, x, T, 1, batch)
            .mu_gradient_sums.defined());
    ASSERT_EQ(outcome.mu_gradient_sums.numel(), T);
    EXPECT_EQ(outcome.mu_columns, Z);
    ASSERT_EQ(expected.size(), static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      const double mean =
          outcome.mu_gradient_sums[t].item<double>() / double(B * Z);
      EXPECT_NEAR(mean, expected[t], 1e-9 * expected[t])
          << "iteration " << t + 1;
      EXPECT_GT(expected[t], 0);
    }
  }
}

// Semi-amortised training differentiates through the refinement steps:
// phi's gradient must be that of -L_T as a function of phi, second-order
// terms included. Checked against central finite differences (the samples
// are fixed by reseeding, so -L_T is a deterministic function of phi).
TEST_F(TrainingStepTest, UnrolledEncoderGradientMatchesFiniteDifferences) {
  using iai::inference::OptimizerInferenceImpl;
  using iai::inference::OptimizerKind;
  using iai::inference::OptimizerOptions;
  LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(D, Z).hidden(4).layers(1));
  auto encoder = std::make_shared<iai::inference::StandardEncoderImpl>(
      iai::inference::EncoderOptions(D, Z).hidden(5).layers(1));
  auto hybrid = std::make_shared<iai::inference::RefinedProcedureImpl>(
      encoder,
      std::make_shared<OptimizerInferenceImpl>(
          OptimizerOptions(OptimizerKind::kSgd).lr(0.3).gradient_scale(B)));
  model->to(torch::kDouble);
  hybrid->to(torch::kDouble);
  auto x = torch::bernoulli(torch::full({B, D}, 0.5, torch::kDouble));
  auto loss = [&] {
    torch::manual_seed(21);
    auto out =
        iai::train::accumulate_unrolled_gradients(*model, *hybrid, x, T, S);
    return -out.final_terms.elbo.mean().item<double>();
  };
  hybrid->zero_grad();
  loss();
  auto phi = hybrid->parameters();
  auto analytic = grads_of(phi);

  // The same procedure with detached steps gives a different phi gradient:
  // the check can tell second-order terms from none.
  hybrid->zero_grad();
  torch::manual_seed(21);
  {
    // One standard pass + T-1 SGD steps, each L_t pushed into phi / T.
    iai::train::accumulate_gradients(*model, *hybrid, x, T, S);
  }
  EXPECT_GT(max_difference(analytic, grads_of(phi)), 1e-4);

  const double h = 1e-6;
  int checked = 0;
  for (size_t i = 0; i < phi.size(); ++i) {
    auto flat = phi[i].view(-1);
    for (int64_t j = 0; j < flat.size(0);
         j += std::max<int64_t>(1, flat.size(0) / 3)) {
      const double keep = flat[j].item<double>();
      {
        torch::NoGradGuard no_grad;
        flat[j].fill_(keep + h);
      }
      const double up = loss();
      {
        torch::NoGradGuard no_grad;
        flat[j].fill_(keep - h);
      }
      const double down = loss();
      {
        torch::NoGradGuard no_grad;
        flat[j].fill_(keep);
      }
      const double numeric = (up - down) / (2 * h);
      const double got = analytic[i].view(-1)[j].item<double>();
      EXPECT_NEAR(got, numeric, 1e-6 + 1e-4 * std::abs(numeric))
          << "parameter " << i << " element " << j;
      ++checked;
    }
  }
  EXPECT_GT(checked, 6);
}

}  // namespace
