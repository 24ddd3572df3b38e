// gemm::FrozenWeights' scope: which weights a product on this thread may
// take packed (cpu/gemm.h). The packing itself is gemm_onednn.cpp's.
#include "iai/cpu/gemm.h"

#include <utility>

namespace iai::gemm {

namespace {

thread_local const FrozenWeights* in_force = nullptr;
thread_local uint64_t scopes_made = 0;

}  // namespace

FrozenWeights::FrozenWeights(std::vector<torch::Tensor> weights)
    : weights_(std::move(weights)), outer_(in_force), number_(++scopes_made) {
  in_force = this;
}

FrozenWeights::~FrozenWeights() {
  in_force = outer_;
}

const torch::Tensor* FrozenWeights::holding(const torch::Tensor& b,
                                            const FrozenWeights*& scope) {
  if (in_force == nullptr || !b.has_storage()) return nullptr;
  const c10::StorageImpl* storage = b.storage().unsafeGetStorageImpl();
  for (const FrozenWeights* s = in_force; s != nullptr; s = s->outer_) {
    for (const torch::Tensor& w : s->weights_) {
      if (w.defined() && w.has_storage() &&
          w.storage().unsafeGetStorageImpl() == storage) {
        scope = s;
        return &w;
      }
    }
  }
  return nullptr;
}

uint64_t FrozenWeights::newest() {
  return scopes_made;
}

}  // namespace iai::gemm
