#include "iai/nn/mlp.h"

#include "iai/core/error.h"
#include "iai/nn/elu.h"
#include "iai/nn/highway.h"

#include <torch/nn/modules/batchnorm.h>

namespace iai::nn {

MlpKind parse_mlp_kind(const std::string& name) {
  if (name == "sequential") return MlpKind::kSequential;
  if (name == "highway") return MlpKind::kHighway;
  throw Error(message("unknown network kind '", name, "' (expected ",
                      or_list(mlp_kind_names()), ")"));
}

const std::vector<std::string>& mlp_kind_names() {
  static const std::vector<std::string> names = {"sequential", "highway"};
  return names;
}

std::string to_string(MlpKind kind) {
  return kind == MlpKind::kHighway ? "highway" : "sequential";
}

namespace {
// Matrices fused into layer k's one Dense: [W_k] (sequential), [W_k, V_k]
// (highway) and W'_0 too at k = 0.
int64_t fused_parts(MlpKind kind, int64_t k) {
  if (kind == MlpKind::kSequential) return 1;
  return k == 0 ? 3 : 2;
}
}  // namespace

MlpImpl::MlpImpl(MlpOptions options_) : options(std::move(options_)) {
  reset();
}

void MlpImpl::reset() {
  layers = register_module("layers", torch::nn::ModuleList());
  const int64_t h = options.hidden();
  for (int64_t k = 0; k < options.layers(); ++k) {
    const int64_t in = k == 0 ? options.in() : h;
    // W_k, V_k (and W'_0) each Glorot-initialised with its own fan-out h,
    // as the reference's separate matrices are: over the fused fan-out
    // parts * h their bound would be 0.75-0.82x the reference's.
    const int64_t parts = fused_parts(options.kind(), k);
    layers->push_back(Dense(in, parts * h, /*blocks=*/parts));
  }
  if (options.batch_norm()) {
    norms = register_module("norms", torch::nn::ModuleList());
    for (int64_t k = 0; k < options.layers(); ++k) {
      norms->push_back(
          torch::nn::BatchNorm1d(fused_parts(options.kind(), k) * h));
    }
  }
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (int64_t k = 0; k < options.layers(); ++k) {
    auto* dense = layers[k]->as<DenseImpl>();
    if (options.kind() == MlpKind::kSequential && !options.batch_norm()) {
      h = dense->forward_elu(h);
      continue;
    }
    h = activate(k, dense->forward(h), h);
  }
  return h;
}

torch::Tensor MlpImpl::forward_from_first(const torch::Tensor& y0) {
  IAI_CHECK(options.layers() >= 1 && !options.batch_norm(),
            "forward_from_first: needs a first layer and no batch norm");
  torch::Tensor h = activate(0, y0, torch::Tensor());
  for (int64_t k = 1; k < options.layers(); ++k) {
    auto* dense = layers[k]->as<DenseImpl>();
    h = options.kind() == MlpKind::kSequential
            ? dense->forward_elu(h)
            : activate(k, dense->forward(h), h);
  }
  return h;
}

torch::Tensor MlpImpl::activate(int64_t k, torch::Tensor y,
                                const torch::Tensor& h) {
  if (options.batch_norm()) {
    y = norms[k]->as<torch::nn::BatchNorm1dImpl>()->forward(y);
  }
  if (options.kind() == MlpKind::kSequential) return nn::elu(y);
  // h = g c + (1 - g) ELU(W x), g = sigmoid(V x); the first layer's carry
  // is W'_0 x, y's third block (nn/highway.h).
  return nn::highway(y, k == 0 ? torch::Tensor() : h);
}

int64_t MlpImpl::out_features() const {
  return options.layers() == 0 ? options.in() : options.hidden();
}

}  // namespace iai::nn
