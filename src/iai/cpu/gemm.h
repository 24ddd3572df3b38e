#pragma once
// The matrix products of float32 CPU tensors: through oneDNN's matmul when
// iai was built with it (Debian: libdnnl-dev, the oneDNN that LibTorch
// itself links), through LibTorch's BLAS (at::mm, OpenBLAS) otherwise.
//
// Why: the paper's networks multiply 64-row batches (B = 64) by 512-wide
// layers. OpenBLAS runs such thin products at about 70% of what it reaches
// on large square ones; oneDNN's brgemm kernels run them near the peak, and
// scale to two threads where OpenBLAS does not (bench/compare.sh;
// docs/performance.md). Double precision, GPU tensors and products under
// autograd go to LibTorch, unchanged.
//
// IAI_GEMM=blas in the environment sends every product to LibTorch's BLAS
// (the before-and-after of one binary); IAI_GEMM=onednn, or unset, uses
// oneDNN where built with it.

#include "iai/core/error.h"

#include <torch/types.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace iai::gemm {

/// IAI_GEMM: true for unset, empty or "onednn", false for "blas"; anything
/// else is an iai::Error (with or without oneDNN built in).
inline bool onednn_requested() {
  const char* value = std::getenv("IAI_GEMM");
  if (value == nullptr || *value == '\0' || std::strcmp(value, "onednn") == 0) {
    return true;
  }
  IAI_CHECK(std::strcmp(value, "blas") == 0, "IAI_GEMM='", value,
            "': use 'onednn' or 'blas', or leave it unset");
  return false;
}

/// Whether float32 CPU products run on oneDNN in this process.
bool uses_onednn();

/// "onednn (avx512_core)", "blas (IAI_GEMM=blas)", "blas (built without
/// oneDNN)": for the benches' and `iai --version`'s report.
std::string backend();

/// a b for a [M, K] and b [K, N] (any strides; transposed views need no
/// copy). Not differentiable: when grad mode is on and an operand requires
/// a gradient it is at::mm, which is.
torch::Tensor mm(const torch::Tensor& a, const torch::Tensor& b);

/// out := a b, for out an [M, N] float32 view whose rows are unit-stride
/// and at least N apart (a column block of a wider matrix), written in
/// place. Not differentiable (never called under autograd).
void mm_into(const torch::Tensor& out, const torch::Tensor& a,
             const torch::Tensor& b);

/// bias + a b, bias [N] added to every row (undefined: none); as mm.
torch::Tensor addmm(const torch::Tensor& bias, const torch::Tensor& a,
                    const torch::Tensor& b);

/// ELU(bias + a b) in one product, where no gradient is taken: oneDNN
/// applies the ELU to each tile of the result while it is in registers (a
/// post-op), so the activation costs no pass over memory. oneDNN computes
/// it as exp(v) - 1, within 1e-7 absolute of nn::elu's expm1. Undefined
/// where it cannot (no oneDNN, IAI_GEMM=blas, an operand that needs a
/// gradient, a shape oneDNN has no kernel for): the caller then applies
/// its own ELU to addmm's result.
torch::Tensor addmm_elu(const torch::Tensor& bias, const torch::Tensor& a,
                        const torch::Tensor& b);

/// While one lives (on the thread that made it), a product whose right
/// operand b lies in one of `weights` (a layer's W^T or W, or a column
/// block of either) takes b in oneDNN's own blocked layout: reordered into
/// it at b's second use in the scope, and reused from then on.
///
/// Why: oneDNN packs a plain b into that layout inside every product, a
/// tenth of the decoder's 1024-row products. Importance sampling multiplies
/// by each decoder weight once a chunk, hundreds of times a batch: packed
/// once, importance-weighted evaluation is 5-9% faster
/// (docs/performance.md). A
/// training step uses each weight only T + 1 times, and there the
/// reorders, from memory that is cold by then, cost what the packed
/// products save (measured: no gain), so it opens no scope.
///
/// The weights must not change while the scope lives: open it around
/// passes between two optimiser updates. A change through LibTorch
/// (an in-place op; FusedAdam bumps the version too) is seen by its version
/// counter and packed again. Scopes nest, each keeping its own weights'
/// copies; without oneDNN, or where oneDNN keeps b plain, nothing changes.
class FrozenWeights {
 public:
  explicit FrozenWeights(std::vector<torch::Tensor> weights);
  ~FrozenWeights();
  FrozenWeights(const FrozenWeights&) = delete;
  FrozenWeights& operator=(const FrozenWeights&) = delete;

  /// Products so far that took one of this scope's weights packed.
  int64_t packed_products() const { return packed_products_; }
  /// Counts one such product (gemm_onednn.cpp).
  void count_packed_product() const { ++packed_products_; }

  /// The weight that b lies in (by storage) among the scopes in force on
  /// this thread, innermost first, and that scope in `scope`; null where
  /// none.
  static const torch::Tensor* holding(const torch::Tensor& b,
                                      const FrozenWeights*& scope);
  /// The number of the newest scope made on this thread (0: none yet).
  static uint64_t newest();
  /// This scope's number: distinct for every scope made on this thread.
  uint64_t number() const { return number_; }

 private:
  std::vector<torch::Tensor> weights_;
  const FrozenWeights* outer_;
  uint64_t number_;
  mutable int64_t packed_products_ = 0;
};

}  // namespace iai::gemm
