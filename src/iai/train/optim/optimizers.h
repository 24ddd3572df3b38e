#pragma once
// The two Adam optimisers of a training run, stepped together: the
// generative model's (theta) and the inference procedure's (phi). One object,
// so what every step does to both (zeroing, stepping, a learning rate) is
// written once.

#include "iai/train/optim/fused_adam.h"

#include <torch/types.h>

#include <vector>

namespace iai::train {

class Optimizers {
 public:
  Optimizers(const std::vector<torch::Tensor>& model_parameters,
             const std::vector<torch::Tensor>& procedure_parameters, double lr);

  void zero_grad();
  /// One Adam step of each (FusedAdam: one pass over memory per tensor), from
  /// the gradients their parameters hold.
  void step();
  void set_lr(double lr);

  FusedAdam model;
  FusedAdam procedure;
};

}  // namespace iai::train
