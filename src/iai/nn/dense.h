#pragma once
// Dense layer with the paper's initialisation: Glorot-uniform weights, zero
// bias (docs/reference.md#networks). A layer may fuse several of the
// reference's matrices for speed (a highway layer's W, V, W'_0; an encoder's
// mu and log-variance heads): with blocks = n its output rows are n equal
// blocks, each Glorot-initialised with its own fan-out out / n, as the
// reference's separate matrices are.

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace iai::nn {

struct DenseOptions {
  DenseOptions(int64_t in, int64_t out) : in_(in), out_(out) {}
  /// Input features.
  TORCH_ARG(int64_t, in);
  /// Output features.
  TORCH_ARG(int64_t, out);
  /// Whether to add a (zero-initialised) bias. Default true.
  TORCH_ARG(bool, bias) = true;
  /// Separate matrices fused into this one (out must be a multiple): each
  /// block of out / blocks rows is initialised as its own layer. Default 1.
  TORCH_ARG(int64_t, blocks) = 1;
};

/// t in float32 when autocast left it in a reduced precision (bfloat16,
/// half); t itself otherwise.
torch::Tensor to_float(const torch::Tensor& t);

class DenseImpl : public torch::nn::Cloneable<DenseImpl> {
 public:
  DenseImpl(int64_t in, int64_t out) : DenseImpl(DenseOptions(in, out)) {}
  /// `blocks` fused matrices of out / blocks rows each (DenseOptions::blocks).
  DenseImpl(int64_t in, int64_t out, int64_t blocks)
      : DenseImpl(DenseOptions(in, out).blocks(blocks)) {}
  explicit DenseImpl(DenseOptions options);
  void reset() override;
  /// x is (N,in); returns (N,out).
  torch::Tensor forward(const torch::Tensor& x);
  /// ELU(forward(x)), in one product where no gradient is taken
  /// (nn::linear_elu).
  torch::Tensor forward_elu(const torch::Tensor& x);

  DenseOptions options;
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(Dense);

}  // namespace iai::nn
