#pragma once
// ELU (alpha = 1), the paper's non-linearity (docs/reference.md#networks). On
// float32 CPU tensors whose last dimension is contiguous (a highway layer's
// column block of its fused output included) it runs nn/elu_rows' loops in
// one pass each way; elsewhere it is torch::elu.

#include <torch/types.h>

namespace iai::nn {

torch::Tensor elu(const torch::Tensor& x);

/// g * ELU'(x) from ELU's output y (y + 1 = exp(x) where x <= 0), for a
/// layer whose product applied the ELU and kept only y (nn::linear_elu).
/// One pass of nn/elu_rows on float32 CPU tensors of one contiguous shape;
/// LibTorch's differentiable ops when grad mode is on (a backward pass that
/// builds a graph) or for anything else.
torch::Tensor elu_backward_from_output(const torch::Tensor& g,
                                       const torch::Tensor& y);
/// g *= ELU'(x) from ELU's output y, in place, for g and y of one shape
/// (model/elbo_gradient.cpp's backward pass): one pass of nn/elu_rows on
/// contiguous float32 CPU tensors, LibTorch's operators elsewhere (a GPU).
void elu_backward_from_output_(const torch::Tensor& g, const torch::Tensor& y);

}  // namespace iai::nn
