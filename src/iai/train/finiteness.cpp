#include "iai/train/finiteness.h"

#include "iai/core/error.h"
#include "iai/core/parallel_rows.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace iai::train {

namespace {

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
    uint32_t any = 0;
    for (int64_t i = b * kBlock; i < end; ++i) {
      any |= static_cast<uint32_t>((bits[i] & 0x7f800000u) == 0x7f800000u);
    }
    special[static_cast<size_t>(b)] = static_cast<uint8_t>(any);
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
