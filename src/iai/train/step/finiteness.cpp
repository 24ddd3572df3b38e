#include "iai/train/step/finiteness.h"

#include "iai/core/error.h"
#include "iai/cpu/parallel_rows.h"
#include "iai/cpu/vector_math.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace iai::train {

namespace {

/// Whether any of n floats (their bits) is an infinity or a NaN: an exponent
/// of all ones, which the add carries into bit 31 (0x7f800000 + 0x00800000
/// = 0x80000000; every smaller exponent stays below). Only AND, ADD and OR,
/// so it vectorises at any width; inlined into one function per
/// instruction set below.
__attribute__((always_inline)) inline bool any_special_body(
    const uint32_t* __restrict bits, int64_t n) {
  uint32_t any = 0;
  for (int64_t i = 0; i < n; ++i) any |= (bits[i] & 0x7f800000u) + 0x00800000u;
  return (any >> 31) != 0;
}

#ifdef IAI_X86_VARIANTS
__attribute__((target("avx512f"))) bool any_special_avx512(const uint32_t* bits,
                                                           int64_t n) {
  return any_special_body(bits, n);
}
__attribute__((target("avx2"))) bool any_special_avx2(const uint32_t* bits,
                                                      int64_t n) {
  return any_special_body(bits, n);
}
#endif
bool any_special_baseline(const uint32_t* bits, int64_t n) {
  return any_special_body(bits, n);
}

struct SpecialKernel {
  const char* isa;
  bool (*any)(const uint32_t* bits, int64_t n);
};

/// The widest variant this CPU runs: the baseline's 4 floats a step made
/// the check of a step's 3 million gradients cost 1.2% of the step.
bool any_special(const uint32_t* bits, int64_t n) {
  static const auto best =
      vmath::runnable<SpecialKernel>({
#ifdef IAI_X86_VARIANTS
                                         {"avx512", any_special_avx512},
                                         {"avx2", any_special_avx2},
#endif
                                         {"baseline", any_special_baseline}})
          .front()
          .any;
  return best(bits, n);
}

/// Whether every element of a contiguous float tensor on the host is finite,
/// in one pass over its bits (an exponent of all ones is an infinity or a
/// NaN): isfinite(t).all() makes three temporaries and five passes, which
/// over every gradient of a step cost more than the optimiser.
/// Split over LibTorch's threads in blocks of 32k floats (a step's
/// gradients are 3 million).
bool host_floats_finite(const torch::Tensor& t) {
  const auto* bits = static_cast<const uint32_t*>(t.data_ptr());
  const int64_t n = t.numel();
  constexpr int64_t kBlock = int64_t{1} << 15;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<uint8_t> special(static_cast<size_t>(blocks), 0);
  for_each_row(blocks, kBlock, [&](int64_t b) {
    const int64_t end = std::min(n, (b + 1) * kBlock);
    special[static_cast<size_t>(b)] =
        static_cast<uint8_t>(any_special(bits + b * kBlock, end - b * kBlock));
  });
  return std::find(special.begin(), special.end(), 1) == special.end();
}

}  // namespace

std::string NonFinite::location(int64_t iterations) const {
  if (iteration == kAfterIterations) {
    return message("after all ", iterations, " inference iterations");
  }
  if (iteration == 0) return "lambda_0";
  return message("inference iteration ", iteration, " of ", iterations);
}

void FiniteChecks::check(int64_t iteration, const char* what,
                         const torch::Tensor& t) {
  if (!t.defined()) return;
  sites_.push_back({iteration, what});
  if (t.device().is_cpu() && t.scalar_type() == torch::kFloat &&
      t.layout() == torch::kStrided && t.is_contiguous()) {
    flags_.push_back(torch::scalar_tensor(host_floats_finite(t), torch::kBool));
  } else {
    flags_.push_back(torch::isfinite(t.detach()).all());
  }
}

torch::Tensor FiniteChecks::flags() const {
  if (flags_.empty()) return {};
  return torch::stack(flags_).to(torch::kDouble);
}

std::optional<NonFinite> FiniteChecks::first_failure(const double* ok) const {
  for (size_t i = 0; i < sites_.size(); ++i) {
    if (ok[i] == 0) return NonFinite{sites_[i].iteration, sites_[i].what};
  }
  return std::nullopt;
}

std::optional<NonFinite> FiniteChecks::first_failure() const {
  if (flags_.empty()) return std::nullopt;
  // One read-back for the whole step.
  const auto values = flags().to(torch::kCPU).contiguous();
  return first_failure(values.data_ptr<double>());
}

}  // namespace iai::train
