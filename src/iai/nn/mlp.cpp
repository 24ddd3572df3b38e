#include "iai/nn/mlp.h"

#include "iai/core/error.h"

namespace iai::nn {

MlpKind parse_mlp_kind(const std::string& name) {
  if (name == "sequential") return MlpKind::kSequential;
  if (name == "highway") return MlpKind::kHighway;
  throw Error(message("unknown network kind '", name,
                      "' (expected sequential or highway)"));
}

std::string to_string(MlpKind kind) {
  return kind == MlpKind::kHighway ? "highway" : "sequential";
}

MlpImpl::MlpImpl(MlpOptions options_) : options(std::move(options_)) {
  reset();
}

void MlpImpl::reset() {
  layers = register_module("layers", torch::nn::ModuleList());
  const int64_t h = options.hidden();
  for (int64_t k = 0; k < options.layers(); ++k) {
    const int64_t in = k == 0 ? options.in() : h;
    // Highway layers compute [W_k h, V_k h] (and W'_0 x at k = 0) at once.
    int64_t parts = 1;
    if (options.kind() == MlpKind::kHighway) parts = k == 0 ? 3 : 2;
    layers->push_back(Dense(in, parts * h));
  }
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (int64_t k = 0; k < options.layers(); ++k) {
    auto y = layers[k]->as<DenseImpl>()->forward(h);
    if (options.kind() == MlpKind::kSequential) {
      h = torch::elu(y);
      continue;
    }
    auto parts = y.chunk(k == 0 ? 3 : 2, /*dim=*/1);
    auto gate = torch::sigmoid(parts[1]);
    auto carry = k == 0 ? parts[2] : h;
    h = gate * carry + (1 - gate) * torch::elu(parts[0]);
  }
  return h;
}

int64_t MlpImpl::out_features() const {
  return options.layers() == 0 ? options.in() : options.hidden();
}

}  // namespace iai::nn
