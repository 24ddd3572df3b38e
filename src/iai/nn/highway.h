#pragma once
// The combination step of a highway layer (the paper's encoders and
// decoders, nn/mlp.h): from the fused product y = [W x, V x (, W'_0 x)],
//   h = g c + (1 - g) ELU(W x),  g = sigmoid(V x),
// where the carry c is the layer's input h (`carry`) or, for the first
// layer, y's third column block W'_0 x (`carry` undefined).
//
// On float32 CPU rows it is one pass forward and one backward
// (nn/highway_rows.h), whose gradient for y comes as one tensor (no copy
// joining three column blocks'); a backward pass that builds a graph
// computes its gradients with LibTorch's differentiable ops. Anything else
// is the formula in LibTorch ops.

#include <torch/types.h>

namespace iai::nn {

/// h for y [..., P h] (P = 2 with a carry, 3 without) and carry [..., h].
torch::Tensor highway(const torch::Tensor& y, const torch::Tensor& carry);

}  // namespace iai::nn
