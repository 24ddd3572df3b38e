// IAI_KERNELS=libtorch (cpu/own_kernels.h): CPU tensors take the path a
// GPU's take, LibTorch's operators only. On that path a training step runs
// none of iai's own CPU kernels, and computes what the step on iai's own
// kernels computes: so the GPU's path is checked here, on a CPU.

#include <gtest/gtest.h>
#include <torch/types.h>

#include <ATen/record_function.h>

#include <atomic>
#include <string>
#include <vector>

#include "iai/cpu/gemm.h"
#include "iai/cpu/own_kernels.h"
#include "iai/train/step/train_batch.h"
#include "tiny_networks.h"

namespace iai {
namespace {

/// How many operators named "iai::..." (iai's own CPU kernels, as profiles
/// name them) ran while one lives, and how many in all.
class OperatorCount {
 public:
  OperatorCount() {
    handle_ = at::addThreadLocalCallback(
        at::RecordFunctionCallback(
            [](const at::RecordFunction& fn)
                -> std::unique_ptr<at::ObserverContext> {
              const std::string name = fn.name();
              ++all_;
              if (name.rfind("iai::", 0) == 0) ++own_;
              return nullptr;
            })
            .scopes({at::RecordScope::FUNCTION, at::RecordScope::USER_SCOPE}));
    own_ = all_ = 0;
  }
  ~OperatorCount() { at::removeCallback(handle_); }
  int64_t own() const { return own_; }
  int64_t all() const { return all_; }

 private:
  at::CallbackHandle handle_;
  static inline std::atomic<int64_t> own_{0}, all_{0};
};

struct StepResult {
  train::BatchResult outcome;
  std::vector<torch::Tensor> parameters;
  int64_t own_operators = 0, operators = 0;
};

/// One training step of the tiny iterative model on the CPU, its networks
/// and batch the same at every call, with iai's own kernels or without.
StepResult step(bool own) {
  cpu::OwnKernelsOverride kernels(own);
  const train::TrainConfig config = testing::tiny_config();
  const int64_t dim = 30, batch = 8;
  auto run = testing::tiny_networks(config, dim, torch::kCPU);
  torch::manual_seed(4);
  const auto x = torch::bernoulli(torch::full({batch, dim}, 0.3));
  const train::BatchSettings settings{config.iterations, config.samples,
                                      false, batch, torch::kCPU};
  torch::manual_seed(11);
  StepResult r;
  {
    OperatorCount count;
    r.outcome =
        train::train_batch(*run.model, *run.procedure, *run.optimizers, x,
                           settings);
    r.own_operators = count.own();
    r.operators = count.all();
  }
  for (const auto& p : run.model->parameters()) r.parameters.push_back(p);
  for (const auto& p : run.procedure->parameters()) r.parameters.push_back(p);
  return r;
}

TEST(LibTorchPath, AStepRunsNoneOfIaisOwnCpuKernels) {
  {
    cpu::OwnKernelsOverride kernels(false);
    EXPECT_FALSE(cpu::own_kernels());
    EXPECT_FALSE(gemm::uses_onednn());
    EXPECT_EQ(gemm::backend(), "blas (IAI_KERNELS=libtorch)");
  }
  const StepResult libtorch = step(false), own = step(true);
  EXPECT_GT(libtorch.operators, 0);
  EXPECT_EQ(libtorch.own_operators, 0);
  // The same step on iai's own kernels runs some (the row kernels, at
  // least, whatever the products run on).
  EXPECT_GT(own.own_operators, 0);
}

TEST(LibTorchPath, AStepComputesWhatTheStepOnIaisOwnKernelsComputes) {
  const StepResult libtorch = step(false), own = step(true);
  ASSERT_TRUE(libtorch.outcome.updated);
  ASSERT_TRUE(own.outcome.updated);
  EXPECT_NEAR(libtorch.outcome.sums.elbo, own.outcome.sums.elbo,
              1e-4 * std::abs(own.outcome.sums.elbo));
  EXPECT_NEAR(libtorch.outcome.sums.kl, own.outcome.sums.kl,
              1e-4 * std::abs(own.outcome.sums.kl) + 1e-6);
  ASSERT_EQ(libtorch.parameters.size(), own.parameters.size());
  // Adam's first step moves every parameter by about lr = 1e-2 (sign(g)
  // times lr): a parameter that moved the wrong way, or not at all, is off
  // by that much.
  for (size_t i = 0; i < own.parameters.size(); ++i) {
    EXPECT_TRUE(torch::allclose(libtorch.parameters[i], own.parameters[i],
                                1e-4, 1e-4))
        << "parameter " << i << ": largest difference "
        << (libtorch.parameters[i] - own.parameters[i]).abs().max().item<float>();
  }
}

}  // namespace
}  // namespace iai
