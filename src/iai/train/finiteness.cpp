#include "iai/train/finiteness.h"

#include "iai/core/error.h"

namespace iai::train {

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
  flags_.push_back(torch::isfinite(t.detach()).all());
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
