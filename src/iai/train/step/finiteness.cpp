#include "iai/train/step/finiteness.h"

#include "iai/core/error.h"
#include "iai/cpu/magnitude.h"

#include <cstdint>
#include <limits>
#include <vector>

namespace iai::train {

std::string NonFinite::location(int64_t iterations) const {
  if (iteration == kAfterIterations) {
    return message("after all ", iterations, " inference iterations");
  }
  if (iteration == 0) return "lambda_0";
  return message("inference iteration ", iteration, " of ", iterations);
}

bool FiniteChecks::on_host(int64_t iteration, const char* what,
                           const torch::Tensor& t) {
  // A contiguous float tensor on the host: one pass over its bits
  // (cpu/magnitude.h), the answer kept as a plain flag; isfinite(t).all()
  // makes three temporaries and five passes, which over every gradient of
  // a step cost more than the optimiser.
  if (!cpu::magnitude_reads(t)) return false;
  sites_.push_back({iteration, what, cpu::magnitude(t).finite ? 1 : 0});
  return true;
}

void FiniteChecks::check(int64_t iteration, const char* what,
                         const torch::Tensor& t) {
  if (!t.defined() || on_host(iteration, what, t)) return;
  // t * 0 is NaN exactly where t is infinite or NaN, and a sum keeps a NaN:
  // two kernels on a GPU, where isfinite(t).all() launches five.
  sites_.push_back({iteration, what, Site::kOnDevice});
  device_scores_.push_back(t.detach().mul(0).sum());
}

void FiniteChecks::check_all(int64_t iteration, const char* what,
                             const std::vector<torch::Tensor>& ts) {
  // The multi-tensor operators take tensors of one type on one device: those
  // of the first device tensor's kind are scored together, any other by
  // check(). Sites and scores stay in ts's order, which flags() pairs.
  const auto on_device = [](const torch::Tensor& t) {
    return t.defined() && !cpu::magnitude_reads(t);
  };
  const torch::Tensor* kind = nullptr;
  for (const auto& t : ts) {
    if (on_device(t)) {
      kind = &t;
      break;
    }
  }
  const auto joins = [&](const torch::Tensor& t) {
    return kind != nullptr && on_device(t) && t.device() == kind->device() &&
           t.scalar_type() == kind->scalar_type();
  };
  std::vector<torch::Tensor> together;
  for (const auto& t : ts) {
    if (joins(t)) together.push_back(t.detach());
  }
  // As check(), with the sum's NaN from the L1 norm: |NaN| is NaN.
  std::vector<torch::Tensor> scores;
  if (!together.empty()) {
    scores = at::_foreach_norm(at::_foreach_mul(together, 0.0), 1);
  }
  size_t next = 0;
  for (const auto& t : ts) {
    if (!t.defined() || on_host(iteration, what, t)) continue;
    if (!joins(t)) {
      check(iteration, what, t);
      continue;
    }
    sites_.push_back({iteration, what, Site::kOnDevice});
    device_scores_.push_back(std::move(scores[next++]));
  }
}

torch::Tensor FiniteChecks::flags() const {
  if (sites_.empty()) return {};
  if (device_scores_.empty()) {
    // Every answer is on the host already: one tensor, no per-site ops.
    std::vector<double> ok(sites_.size());
    for (size_t i = 0; i < sites_.size(); ++i) ok[i] = sites_[i].host;
    return torch::tensor(ok, torch::kDouble);
  }
  // Some on a device: the host answers join them there, as scores, in
  // site order.
  const auto on = device_scores_.front().options().dtype(torch::kDouble);
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<torch::Tensor> scores;
  size_t next_device = 0;
  for (const Site& s : sites_) {
    scores.push_back(s.host == Site::kOnDevice
                         ? device_scores_[next_device++]
                         : torch::scalar_tensor(s.host == 1 ? 0.0 : kNaN, on));
  }
  return torch::stack(scores).eq(0).to(torch::kDouble);
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
