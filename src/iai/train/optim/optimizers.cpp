#include "iai/train/optim/optimizers.h"

#include "iai/cpu/own_kernels.h"

#include <vector>

namespace iai::train {

Optimizers::Optimizers(const std::vector<torch::Tensor>& model_parameters,
                       const std::vector<torch::Tensor>& procedure_parameters,
                       double lr)
    : model(model_parameters, torch::optim::AdamOptions(lr)),
      procedure(procedure_parameters, torch::optim::AdamOptions(lr)) {}

void Optimizers::zero_grad() {
  std::vector<torch::Tensor> kept;
  for (auto* opt : {&model, &procedure}) {
    for (auto& group : opt->param_groups()) {
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        if (cpu::own_kernels_on(p.device())) {
          // Undefined, not zeroed: the step's first gradient is then taken
          // over by autograd instead of being added to zeros (a fill and
          // an add over every parameter saved per step). A tensor the step
          // leaves without a gradient is skipped by Adam, as LibTorch's
          // Adam skips it.
          p.mutable_grad().reset();
        } else {
          // On a GPU the buffers stay: a CUDA graph replays into them.
          p.mutable_grad().detach_();
          kept.push_back(p.grad());
        }
      }
    }
  }
  // One multi-tensor launch for all of them, not one fill each.
  if (!kept.empty()) at::_foreach_zero_(kept);
}

void Optimizers::step() {
  model.step();
  procedure.step();
}

void Optimizers::set_lr(double lr) {
  for (auto* opt : {&model, &procedure}) {
    for (auto& group : opt->param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
  }
}

}  // namespace iai::train
