#pragma once
// Adam with one pass over memory per parameter tensor. torch::optim::Adam
// runs six to eight ATen kernels per tensor (mul_, add_, mul_, addcmul_,
// sqrt, div, add_, addcdiv_), each a full pass over 2-3 arrays, plus a
// temporary; at the paper's MNIST sizes (about 2.5M parameters, 10 MB per
// array) that memory traffic is a large part of a standard training step.
// FusedAdam does the same arithmetic element by element in one loop, on the
// same state (AdamParamState: step, exp_avg, exp_avg_sq), so checkpoints,
// load/save and learning-rate changes are unchanged; it falls back to
// torch::optim::Adam's own step for what the loop does not cover (amsgrad,
// weight decay, non-float or non-contiguous tensors). On a GPU the loop is
// replaced by ATen's multi-tensor (_foreach_) kernels: the same arithmetic
// as torch::optim::Adam, op for op, in eight launches per optimiser instead
// of eight per tensor, which matters once the rest of the step is one
// CUDA-graph launch (train/step/step_graph.h).

#include <torch/optim/adam.h>

namespace iai::train {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;

  /// How a step updates the parameters: the one-pass loop (CPU float
  /// arrays), the multi-tensor kernels (float tensors on one device, equal
  /// step counts), or torch::optim::Adam's own step (everything else).
  enum class Path { kAuto, kLoop, kMultiTensor, kLibrary };
  /// Tests and benchmarks: take `path` where it applies (kAuto: the
  /// fastest that applies).
  void force_path(Path path) { forced_ = path; }
  /// The path the last step took.
  Path last_path() const { return last_path_; }

 private:
  Path path_for_step();
  torch::optim::AdamParamState& state_of(const torch::Tensor& p);
  void loop_step();
  void multi_tensor_step();

  Path forced_ = Path::kAuto;
  Path last_path_ = Path::kAuto;
};

}  // namespace iai::train
