#pragma once
// ELU (alpha = 1), the paper's non-linearity (REFERENCE.md, "Networks"). On
// float32 CPU tensors whose last dimension is contiguous (a highway layer's
// column block of its fused output included) it runs nn/elu_rows' loops in
// one pass each way; elsewhere it is torch::elu.

#include <torch/types.h>

namespace iai::nn {

torch::Tensor elu(const torch::Tensor& x);

}  // namespace iai::nn
