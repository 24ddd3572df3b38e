#pragma once
// Dense layer with the paper's initialisation: Glorot-uniform weights, zero
// bias (REFERENCE.md, "Networks").

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
};

class DenseImpl : public torch::nn::Cloneable<DenseImpl> {
 public:
  DenseImpl(int64_t in, int64_t out) : DenseImpl(DenseOptions(in, out)) {}
  explicit DenseImpl(DenseOptions options);
  void reset() override;
  /// x is (N,in); returns (N,out).
  torch::Tensor forward(const torch::Tensor& x);

  DenseOptions options;
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(Dense);

}  // namespace iai::nn
