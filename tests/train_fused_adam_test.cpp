// FusedAdam (train/optim/fused_adam.h) against the library's
// torch::optim::Adam: the same parameters and state after several steps, the
// same saved state, and the library's own step where the loop does not apply.

#include "iai/train/optim/fused_adam.h"

#include "iai/train/optim/adam_rows.h"

#include "test_device.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <vector>

namespace {

using iai::train::FusedAdam;
using torch::optim::Adam;
using torch::optim::AdamOptions;
using torch::optim::AdamParamState;

std::vector<torch::Tensor> make_parameters(torch::Dtype dtype, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> params;
  // Shapes of the paper's networks, small: a weight matrix, a bias, a
  // parameter larger than one parallel grain (65536) and a scalar.
  for (auto shape :
       std::vector<std::vector<int64_t>>{{37, 11}, {11}, {300, 250}, {1}}) {
    params.push_back(torch::randn(shape, dtype).requires_grad_(true));
  }
  return params;
}

/// Runs `steps` steps with gradients drawn from `seed`; gradients vary in
/// scale over six orders of magnitude so eps and the bias corrections matter.
void run_steps(torch::optim::Adam& adam, std::vector<torch::Tensor>& params,
               int steps, uint64_t seed) {
  torch::manual_seed(seed);
  for (int s = 0; s < steps; ++s) {
    for (auto& p : params) {
      auto scale =
          torch::pow(10.0, torch::randint(-6, 1, p.sizes(), p.options()));
      p.mutable_grad() = torch::randn_like(p) * scale;
    }
    adam.step();
  }
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() /
         std::max(b.abs().max().item<double>(), 1e-30);
}

const AdamParamState& state_of(torch::optim::Adam& adam,
                               const torch::Tensor& p) {
  for (auto& [key, state] : adam.state()) {
    (void)key;
    auto& s = static_cast<const AdamParamState&>(*state);
    if (s.exp_avg().sizes() == p.sizes()) return s;
  }
  throw std::runtime_error("no state for a parameter");
}

TEST(FusedAdamTest, MatchesTheLibraryAdamOverManySteps) {
  auto reference = make_parameters(torch::kFloat, 1);
  auto fused = make_parameters(torch::kFloat, 1);
  const auto options = AdamOptions(1e-3);
  Adam adam(reference, options);
  FusedAdam fused_adam(fused, options);
  run_steps(adam, reference, 25, 7);
  run_steps(fused_adam, fused, 25, 7);
  for (size_t i = 0; i < reference.size(); ++i) {
    // Moved by ~25 lr: a wrong bias correction or eps placement moves the
    // parameters by 1e-4 and more.
    EXPECT_GT((fused[i] - make_parameters(torch::kFloat, 1)[i])
                  .abs()
                  .max()
                  .item<double>(),
              1e-3);
    EXPECT_LT(relative_difference(fused[i], reference[i]), 1e-6)
        << "parameter " << i;
    const auto& s = state_of(fused_adam, fused[i]);
    const auto& r = state_of(adam, reference[i]);
    EXPECT_EQ(s.step(), 25);
    EXPECT_LT(relative_difference(s.exp_avg(), r.exp_avg()), 1e-5);
    EXPECT_LT(relative_difference(s.exp_avg_sq(), r.exp_avg_sq()), 1e-5);
  }
}

TEST(FusedAdamTest, EveryInstructionSetVariantMatchesTheLibrarysArithmetic) {
  // One step of each variant (train/optim/adam_rows.h) against ATen's adam
  // written out in double: the vector code must not drift from it.
  torch::manual_seed(9);
  const int64_t n = 1000;  // not a multiple of any vector width
  // p0 = 0: p is the step itself, in full float precision.
  auto p0 = torch::zeros({n}), g = torch::randn({n}) * 1e-3,
       m0 = torch::randn({n}) * 1e-3, v0 = torch::rand({n}) * 1e-6;
  const double beta1 = 0.9, beta2 = 0.999, lr = 1e-3, eps = 1e-8;
  const int step = 3;
  const double bc1 = 1 - std::pow(beta1, step), bc2 = 1 - std::pow(beta2, step);
  auto gd = g.to(torch::kDouble);
  auto m_exact = m0.to(torch::kDouble) * beta1 + (1 - beta1) * gd;
  auto v_exact = v0.to(torch::kDouble) * beta2 + (1 - beta2) * gd * gd;
  auto p_exact = p0.to(torch::kDouble) -
                 lr / bc1 * m_exact / (v_exact.sqrt() / std::sqrt(bc2) + eps);
  const iai::train::AdamConstants c{
      static_cast<float>(beta1),          static_cast<float>(1 - beta1),
      static_cast<float>(beta2),          static_cast<float>(1 - beta2),
      static_cast<float>(std::sqrt(bc2)), static_cast<float>(eps),
      static_cast<float>(-lr / bc1)};
  const auto& kernels = iai::train::adam_row_kernels();
  EXPECT_STREQ(kernels.back().isa, "baseline");
  for (const auto& k : kernels) {
    SCOPED_TRACE(k.isa);
    auto p = p0.clone(), m = m0.clone(), v = v0.clone();
    k.step(p.data_ptr<float>(), g.data_ptr<float>(), m.data_ptr<float>(),
           v.data_ptr<float>(), n, c);
    EXPECT_LT(relative_difference(m.to(torch::kDouble), m_exact), 1e-6);
    EXPECT_LT(relative_difference(v.to(torch::kDouble), v_exact), 1e-6);
    EXPECT_LT(relative_difference(p.to(torch::kDouble), p_exact), 1e-6);
  }
}

TEST(FusedAdamTest, StateSavedByOneLoadsIntoTheOther) {
  auto a = make_parameters(torch::kFloat, 2);
  FusedAdam fused_adam(a, AdamOptions(1e-2));
  run_steps(fused_adam, a, 3, 3);
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    fused_adam.save(archive);
    archive.save_to(saved);
  }
  // Continue once with the fused optimiser and once with the library's,
  // loaded from the fused one's state: the same parameters.
  auto b = std::vector<torch::Tensor>();
  for (auto& p : a) b.push_back(p.detach().clone().requires_grad_(true));
  Adam adam(b, AdamOptions(1e-2));
  {
    torch::serialize::InputArchive archive;
    archive.load_from(saved);
    adam.load(archive);
  }
  run_steps(fused_adam, a, 2, 4);
  run_steps(adam, b, 2, 4);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT(relative_difference(a[i], b[i]), 1e-6) << "parameter " << i;
  }
  EXPECT_EQ(state_of(adam, b[0]).step(), 5);
}

TEST(FusedAdamTest, WhatTheLoopDoesNotCoverIsTheLibraryStep) {
  // Double parameters and weight decay: the library's own step, bit for bit.
  for (bool decay : {false, true}) {
    auto dtype = decay ? torch::kFloat : torch::kDouble;
    auto reference = make_parameters(dtype, 5);
    auto fused = make_parameters(dtype, 5);
    auto options = AdamOptions(1e-3).weight_decay(decay ? 0.1 : 0.0);
    Adam adam(reference, options);
    FusedAdam fused_adam(fused, options);
    run_steps(adam, reference, 4, 6);
    run_steps(fused_adam, fused, 4, 6);
    for (size_t i = 0; i < reference.size(); ++i) {
      EXPECT_TRUE(torch::equal(fused[i], reference[i])) << "parameter " << i;
    }
  }
}

TEST(FusedAdamTest, EachStepTakesTheFastestPathThatApplies) {
  auto params = make_parameters(torch::kFloat, 8);
  FusedAdam adam(params, AdamOptions(1e-3));
  run_steps(adam, params, 1, 9);
  EXPECT_EQ(adam.last_path(), FusedAdam::Path::kLoop);  // CPU float arrays
  adam.force_path(FusedAdam::Path::kMultiTensor);
  run_steps(adam, params, 1, 9);
  EXPECT_EQ(adam.last_path(), FusedAdam::Path::kMultiTensor);
  auto doubles = make_parameters(torch::kDouble, 8);
  FusedAdam other(doubles, AdamOptions(1e-3).amsgrad(true));
  other.force_path(FusedAdam::Path::kMultiTensor);
  run_steps(other, doubles, 1, 9);
  EXPECT_EQ(other.last_path(), FusedAdam::Path::kLibrary);  // amsgrad
}

TEST(FusedAdamTest, EveryPathBumpsTheVersionOfWhatItWrites) {
  // Caches of values made from the parameters (the iterative encoder's data
  // part, gemm::FrozenWeights' packed weights) tell a changed parameter by
  // its version counter: the loop writes through raw pointers, which alone
  // would leave it as it was.
  for (auto path : {FusedAdam::Path::kLoop, FusedAdam::Path::kMultiTensor,
                    FusedAdam::Path::kLibrary}) {
    auto params = make_parameters(torch::kFloat, 8);
    FusedAdam adam(params, AdamOptions(1e-3));
    adam.force_path(path);
    std::vector<int64_t> before;
    for (const auto& p : params) before.push_back(p._version());
    run_steps(adam, params, 1, 9);
    if (path != FusedAdam::Path::kMultiTensor) {
      EXPECT_EQ(adam.last_path(), path);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_GT(params[i]._version(), before[i]) << "parameter " << i;
    }
  }
}

/// The multi-tensor path (a GPU's: ATen's _foreach_ kernels) on the test
/// device against the library's Adam there: the same arithmetic op for op,
/// so the same parameters and moments to rounding, over steps whose
/// parameter sets change (a tensor without a gradient is skipped).
TEST(DeviceAdam, MultiTensorStepsMatchTheLibraryAdam) {
  const auto device = iai::testing::test_device();
  auto on_device = [&](std::vector<torch::Tensor> params) {
    for (auto& p : params) p = p.detach().to(device).requires_grad_(true);
    return params;
  };
  auto reference = on_device(make_parameters(torch::kFloat, 12));
  auto multi = on_device(make_parameters(torch::kFloat, 12));
  Adam adam(reference, AdamOptions(1e-3));
  FusedAdam fused(multi, AdamOptions(1e-3));
  fused.force_path(FusedAdam::Path::kMultiTensor);
  run_steps(adam, reference, 6, 13);
  run_steps(fused, multi, 6, 13);
  EXPECT_EQ(fused.last_path(), FusedAdam::Path::kMultiTensor);
  for (size_t i = 0; i < reference.size(); ++i) {
    EXPECT_LT(relative_difference(multi[i].cpu(), reference[i].cpu()), 1e-6)
        << "parameter " << i;
    const auto& s = state_of(fused, multi[i]);
    EXPECT_EQ(s.step(), 6);
    EXPECT_LT(relative_difference(s.exp_avg().cpu(),
                                  state_of(adam, reference[i]).exp_avg().cpu()),
              1e-6);
  }
  // Unequal step counts (a parameter without a gradient for a step) are
  // the library's: the bias corrections differ per tensor.
  multi[1].mutable_grad() = torch::Tensor();
  fused.step();
  for (auto& p : multi) p.mutable_grad() = torch::ones_like(p);
  fused.step();
  EXPECT_EQ(fused.last_path(), FusedAdam::Path::kLibrary);
}

}  // namespace
