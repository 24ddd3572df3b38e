#include "iai/nn/dense.h"

#include "iai/core/error.h"
#include "iai/core/torch_compat.h"
#include "iai/nn/elu.h"
#include "iai/nn/linear.h"

#include <torch/nn/init.h>

#include <cstdlib>
#include <string>

namespace iai::nn {

torch::Tensor to_float(const torch::Tensor& t) {
  const auto type = t.scalar_type();
  return type == torch::kBFloat16 || type == torch::kHalf ? t.to(torch::kFloat)
                                                          : t;
}

DenseImpl::DenseImpl(DenseOptions options_) : options(std::move(options_)) {
  reset();
}

void DenseImpl::reset() {
  linear = register_module(
      "linear",
      torch::nn::Linear(torch::nn::LinearOptions(options.in(), options.out())
                            .bias(options.bias())));
  const int64_t blocks = options.blocks();
  IAI_CHECK(blocks >= 1 && options.out() % blocks == 0,
            "Dense: ", options.out(), " outputs do not split into ", blocks,
            " blocks");
  torch::NoGradGuard no_grad;
  // Each fused matrix's own Glorot bound, sqrt(6 / (in + out / blocks)).
  // IAI_DENSE_INIT=fused draws the whole fused matrix with one bound,
  // sqrt(6 / (in + out)), for experiments that measure what the reference's
  // per-matrix initialisation changes (scripts/reproduce.sh init).
  static const bool fused_bound = [] {
    const char* v = std::getenv("IAI_DENSE_INIT");
    return v != nullptr && std::string(v) == "fused";
  }();
  if (fused_bound) {
    torch::nn::init::xavier_uniform_(linear->weight);
  } else {
    for (auto& block : linear->weight.chunk(blocks, /*dim=*/0)) {
      torch::nn::init::xavier_uniform_(block);
    }
  }
  if (options.bias()) linear->bias.zero_();
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x) {
  // Under --precision bf16 (autocast) the product's result is bfloat16;
  // everything after it computes in float32 (core/precision.h).
  // nn::linear: float32 CPU products through cpu/gemm.h, and the weight
  // gradient to a DeferredWeightGradients on this thread that covers it.
  return to_float(nn::linear(x, linear->weight, linear->bias));
}

torch::Tensor DenseImpl::forward_elu(const torch::Tensor& x) {
  if (autocast_enabled(x.device().type())) return nn::elu(forward(x));
  return nn::linear_elu(x, linear->weight, linear->bias);
}

}  // namespace iai::nn
