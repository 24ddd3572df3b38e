#include "iai/nn/dense.h"

#include <torch/nn/init.h>

namespace iai::nn {

DenseImpl::DenseImpl(DenseOptions options_) : options(std::move(options_)) {
  reset();
}

void DenseImpl::reset() {
  linear = register_module(
      "linear", torch::nn::Linear(torch::nn::LinearOptions(options.in(),
                                                           options.out())
                                      .bias(options.bias())));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(linear->weight);
  if (options.bias()) linear->bias.zero_();
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x) {
  return linear->forward(x);
}

}  // namespace iai::nn
