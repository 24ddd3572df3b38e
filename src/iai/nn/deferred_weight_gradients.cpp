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

/// The passes' output gradients (rows_t, out) stacked along the rows and
/// transposed: (out, sum_t rows_t), contiguous.
torch::Tensor stacked_transposed(const std::vector<torch::Tensor>& grads) {
  int64_t rows = 0;
  for (const auto& g : grads) rows += g.size(0);
  torch::Tensor gt = torch::empty({grads[0].size(1), rows}, grads[0].options());
  int64_t at = 0;
  for (const auto& g : grads) {
    gt.narrow(1, at, g.size(0)).copy_(g.t());
    at += g.size(0);
  }
  return gt;
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
    // One product over all the passes' rows: (out, T B) x (T B, in). The
    // output gradients are laid out transposed, (out, T B) row-major, as
    // they are stacked: oneDNN runs the product with a row-major left
    // operand at 175 GFLOP/s where a transposed view of (T B, out) ran at
    // 130-147 (the encoder's first layer, 1536 x 320 x 1168, one thread).
    const torch::Tensor gt = stacked_transposed(p.output_grads);
    const torch::Tensor x =
        p.inputs.size() == 1 ? p.inputs[0] : torch::cat(p.inputs);
    accumulate(p.weight, gemm::mm(gt, x));
    if (p.bias.defined()) accumulate(p.bias, gt.sum(1));
  }
  pending_.clear();
  order_.clear();
}

}  // namespace iai::nn
