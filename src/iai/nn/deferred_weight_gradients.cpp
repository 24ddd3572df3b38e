#include "iai/nn/deferred_weight_gradients.h"

#include "iai/core/gemm.h"

#include <torch/autograd.h>

#include <algorithm>

namespace iai::nn {

namespace {

thread_local DeferredWeightGradients* t_active = nullptr;

/// grad += value (grad undefined: value becomes it).
void accumulate(const torch::Tensor& parameter, torch::Tensor value) {
  auto& grad = const_cast<torch::Tensor&>(parameter).mutable_grad();
  if (grad.defined()) {
    grad.add_(value);
  } else {
    grad = std::move(value);
  }
}

}  // namespace

DeferredWeightGradients::DeferredWeightGradients(
    const std::vector<torch::Tensor>& parameters)
    : previous_(t_active) {
  for (const auto& p : parameters) covered_.push_back(p.unsafeGetTensorImpl());
  std::sort(covered_.begin(), covered_.end());
  t_active = this;
}

DeferredWeightGradients::~DeferredWeightGradients() { t_active = previous_; }

DeferredWeightGradients* DeferredWeightGradients::active() { return t_active; }

bool DeferredWeightGradients::covers(const torch::Tensor& weight) const {
  return std::binary_search(covered_.begin(), covered_.end(),
                            weight.unsafeGetTensorImpl());
}

void DeferredWeightGradients::add(const torch::Tensor& weight,
                                  const torch::Tensor& bias,
                                  const torch::Tensor& output_grad,
                                  const torch::Tensor& input) {
  const void* key = weight.unsafeGetTensorImpl();
  auto [it, fresh] = pending_.try_emplace(key);
  if (fresh) {
    it->second.weight = weight;
    it->second.bias = bias;
    order_.push_back(key);
  }
  it->second.output_grads.push_back(output_grad);
  it->second.inputs.push_back(input);
}

void DeferredWeightGradients::flush() {
  torch::NoGradGuard no_grad;
  for (const void* key : order_) {
    Pending& p = pending_.at(key);
    // One product over all the passes' rows: (out, T B) x (T B, in).
    const torch::Tensor g = p.output_grads.size() == 1
                                ? p.output_grads[0]
                                : torch::cat(p.output_grads);
    const torch::Tensor x =
        p.inputs.size() == 1 ? p.inputs[0] : torch::cat(p.inputs);
    accumulate(p.weight, gemm::mm(g.t(), x));
    if (p.bias.defined()) accumulate(p.bias, g.sum(0));
  }
  pending_.clear();
  order_.clear();
}

}  // namespace iai::nn
