#include "iai/train/step/finiteness.h"

#include "iai/core/error.h"
#include "iai/cpu/magnitude.h"

#include <cstdint>
#include <vector>

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
  // A contiguous float tensor on the host: one pass over its bits
  // (cpu/magnitude.h), the answer kept as a plain flag; isfinite(t).all()
  // makes three temporaries and five passes, which over every gradient of
  // a step cost more than the optimiser.
  if (cpu::magnitude_reads(t)) {
    sites_.push_back({iteration, what, cpu::magnitude(t).finite ? 1 : 0});
    return;
  }
  sites_.push_back({iteration, what, Site::kOnDevice});
  device_flags_.push_back(torch::isfinite(t.detach()).all());
}

torch::Tensor FiniteChecks::flags() const {
  if (sites_.empty()) return {};
  if (device_flags_.empty()) {
    // Every answer is on the host already: one tensor, no per-site ops.
    std::vector<double> ok(sites_.size());
    for (size_t i = 0; i < sites_.size(); ++i) ok[i] = sites_[i].host;
    return torch::tensor(ok, torch::kDouble);
  }
  // Some on a device: the host answers join them there, in site order.
  const auto on = device_flags_.front().options();
  std::vector<torch::Tensor> flags;
  size_t next_device = 0;
  for (const Site& s : sites_) {
    flags.push_back(s.host == Site::kOnDevice
                        ? device_flags_[next_device++]
                        : torch::scalar_tensor(s.host == 1, on));
  }
  return torch::stack(flags).to(torch::kDouble);
}

std::optional<NonFinite> FiniteChecks::first_failure(const double* ok) const {
  for (size_t i = 0; i < sites_.size(); ++i) {
    if (ok[i] == 0) return NonFinite{sites_[i].iteration, sites_[i].what};
  }
  return std::nullopt;
}

std::optional<NonFinite> FiniteChecks::first_failure() const {
  if (sites_.empty()) return std::nullopt;
  // One read-back for the whole step.
  const auto values = flags().to(torch::kCPU).contiguous();
  return first_failure(values.data_ptr<double>());
}

}  // namespace iai::train
