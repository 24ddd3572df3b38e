#pragma once
// Multi-layer perceptrons of the paper's networks (docs/reference.md#networks):
//   sequential: h <- ELU(W_k h)
//   highway:    h <- g_k * (k = 0 ? W'_0 x : h) + (1 - g_k) * ELU(W_k h),
//               g_k = sigmoid(V_k h)
// With batch_norm each layer's pre-activations are batch-normalised (the
// paper's hierarchical MNIST networks).
// For speed each layer's matrices (W'_0, W_k, V_k) are one fused Dense whose
// output is split; the maths is unchanged, and each matrix is initialised
// with its own fan-out (DenseOptions::blocks), as the reference's are.

#include "iai/nn/dense.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace iai::nn {

enum class MlpKind { kSequential, kHighway };

/// "sequential" | "highway" -> MlpKind; throws iai::Error otherwise.
MlpKind parse_mlp_kind(const std::string& name);
/// The names parse_mlp_kind accepts: sequential, highway.
const std::vector<std::string>& mlp_kind_names();
std::string to_string(MlpKind kind);

struct MlpOptions {
  MlpOptions(int64_t in, int64_t hidden, int64_t layers)
      : in_(in), hidden_(hidden), layers_(layers) {}
  /// Input features.
  TORCH_ARG(int64_t, in);
  /// Units per hidden layer.
  TORCH_ARG(int64_t, hidden);
  /// Number of hidden layers (0 = identity: the output is the input).
  TORCH_ARG(int64_t, layers);
  /// Layer type. Default sequential.
  TORCH_ARG(MlpKind, kind) = MlpKind::kSequential;
  /// Batch normalisation of every layer's pre-activations. Default off.
  TORCH_ARG(bool, batch_norm) = false;
};

class MlpImpl : public torch::nn::Cloneable<MlpImpl> {
 public:
  explicit MlpImpl(MlpOptions options);
  void reset() override;
  /// x is (N,in); returns (N,hidden), or x itself when layers = 0.
  torch::Tensor forward(const torch::Tensor& x);
  /// forward() from layer 0's pre-activation y0 = x W_0^T + b_0 computed
  /// elsewhere (an iterative encoder's first product, split where part of
  /// x is the same at every iteration). Needs a layer and no batch norm.
  torch::Tensor forward_from_first(const torch::Tensor& y0);
  /// Features of forward()'s output.
  int64_t out_features() const;

  MlpOptions options;
  torch::nn::ModuleList layers;

 private:
  /// Layer k's output from its pre-activation y (batch norm, then ELU or
  /// the highway gate; h is the layer's input, the highway's carry).
  torch::Tensor activate(int64_t k, torch::Tensor y, const torch::Tensor& h);

 public:
  torch::nn::ModuleList norms;  // one BatchNorm1d per layer, batch_norm only
};
TORCH_MODULE(Mlp);

}  // namespace iai::nn
