#include "iai/train/optimizers.h"

namespace iai::train {

Optimizers::Optimizers(const std::vector<torch::Tensor>& model_parameters,
                       const std::vector<torch::Tensor>& procedure_parameters,
                       double lr)
    : model(model_parameters, torch::optim::AdamOptions(lr)),
      procedure(procedure_parameters, torch::optim::AdamOptions(lr)) {}

void Optimizers::zero_grad() {
  model.zero_grad();
  procedure.zero_grad();
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
