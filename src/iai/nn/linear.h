#pragma once
// y = x W^T + b, the product of every Dense layer (nn/dense.h).
//
// For float32 CPU tensors (no autocast) it is one autograd function whose
// forward and backward products all run through cpu/gemm.h (oneDNN near
// the peak on 64-row batches) and whose weight gradient goes to an active
// DeferredWeightGradients when that covers W. On LibTorch's operators (a
// GPU), a layer a collector covers is the same autograd function on
// LibTorch's products, so that its T weight gradients become one product
// there too. Anything else, or float32 on the CPU with neither oneDNN nor a
// collector, is torch::linear.
//
// Gradients as autograd's own linear: dx = g W, dW = g^T x, db = sum_rows g;
// only those the backward pass asks for. A backward pass that builds a
// graph (create_graph: unrolled inference, double backward) computes them
// with LibTorch's differentiable products.

#include <torch/types.h>

namespace iai::nn {

/// x W^T + b for x [..., in], W [out, in], b [out] (undefined: none).
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias);

/// ELU(x W^T + b): where no gradient is taken (evaluation, importance
/// sampling) one oneDNN product with the ELU applied to its tiles
/// (gemm::addmm_elu); elsewhere nn::elu(linear(x, W, b)), whose backward
/// needs the pre-activation the fused product never writes.
torch::Tensor linear_elu(const torch::Tensor& x, const torch::Tensor& weight,
                         const torch::Tensor& bias);

/// c W[:, F:]^T + b for the last columns c (rows, in - F) of a layer's
/// input: the part of its product that linear_constant_columns reuses while
/// c stays the same. Not differentiable.
torch::Tensor constant_columns_part(const torch::Tensor& c,
                                    const torch::Tensor& weight,
                                    const torch::Tensor& bias);

/// [a, c] W^T + b as a W[:, :F]^T + part, part = constant_columns_part(c,
/// W, b), for columns c that are the same at every call (an iterative
/// encoder's data: 784 of its 1168 inputs on MNIST, computed once per batch
/// instead of at each of T iterations). Float32 CPU tensors (on LibTorch's
/// operators, a GPU: any one dtype and device), a not needing a gradient. Where grad mode is on, W and b must be covered by the active
/// DeferredWeightGradients: the backward pass hands it (g, a) with c kept
/// once, and dW's c columns come from the summed g (nothing flows to a, c
/// or part). Without one it is an error: use nn::linear on [a, c].
torch::Tensor linear_constant_columns(const torch::Tensor& a,
                                      const torch::Tensor& c,
                                      const torch::Tensor& part,
                                      const torch::Tensor& weight,
                                      const torch::Tensor& bias);

}  // namespace iai::nn
