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
// weight decay, non-float, non-contiguous or non-CPU tensors).

#include <torch/optim/adam.h>

namespace iai::train {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace iai::train
