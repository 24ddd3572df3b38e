// cpu/gemm.h without oneDNN (not found at build time): LibTorch's BLAS.
#include "iai/cpu/gemm.h"
#include "iai/cpu/own_kernels.h"
#include "iai/cpu/product_clock.h"

#include <ATen/ATen.h>

namespace iai::gemm {

bool uses_onednn() {
  onednn_requested();  // a bad IAI_GEMM or IAI_KERNELS is an error here too
  cpu::own_kernels();
  return false;
}

std::string backend() {
  return onednn_requested() ? "blas (built without oneDNN)"
                            : "blas (IAI_GEMM=blas)";
}

torch::Tensor mm(const torch::Tensor& a, const torch::Tensor& b) {
  TimedProduct timed;
  return at::mm(a, b);
}

void mm_into(const torch::Tensor& out, const torch::Tensor& a,
             const torch::Tensor& b) {
  TimedProduct timed;
  out.copy_(at::mm(a, b));
}

torch::Tensor addmm(const torch::Tensor& bias, const torch::Tensor& a,
                    const torch::Tensor& b) {
  TimedProduct timed;
  return bias.defined() ? at::addmm(bias, a, b) : at::mm(a, b);
}

torch::Tensor addmm_elu(const torch::Tensor&, const torch::Tensor&,
                        const torch::Tensor&) {
  return torch::Tensor();  // the caller's own ELU, after addmm
}

}  // namespace iai::gemm
