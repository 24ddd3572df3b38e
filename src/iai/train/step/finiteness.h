#pragma once
// Finiteness of everything a training step computes:
// every iteration's ELBO, every encoded input and every parameter gradient.
// Each check finds its site's flag, on the host for a host tensor and as
// an on-device score elsewhere (sum(t * 0): 0 where every element is
// finite, NaN otherwise), and first_failure() reads all the flags back in
// one transfer per step, so the hot loop never waits for the device.

#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iai::train {

/// Where a non-finite value first appeared in a training step.
struct NonFinite {
  /// Inference iteration t (0 = the feedback at lambda_0); kAfterIterations
  /// for the parameter gradients, which sum over every iteration.
  int64_t iteration = 0;
  /// "ELBO", "encoded input" or "gradient".
  std::string what;
  static constexpr int64_t kAfterIterations = -1;
  /// "inference iteration 2 of 5", "lambda_0" or "after all 5 inference
  /// iterations".
  std::string location(int64_t iterations) const;
};

class FiniteChecks {
 public:
  /// Records whether every element of t is finite (t undefined: nothing).
  void check(int64_t iteration, const char* what, const torch::Tensor& t);
  /// check() of each defined tensor of ts in turn, the device's together:
  /// two multi-tensor launches for all of them instead of two each.
  void check_all(int64_t iteration, const char* what,
                 const std::vector<torch::Tensor>& ts);
  /// The first recorded site (in check order) that was not finite; reads
  /// every flag back at once.
  std::optional<NonFinite> first_failure() const;
  /// The flags as one double tensor on the device (1 = finite; undefined
  /// when nothing was checked), for a caller that reads them back with
  /// other values, and the first failure among `values`, their read-back.
  torch::Tensor flags() const;
  std::optional<NonFinite> first_failure(const double* values) const;

 private:
  struct Site {
    int64_t iteration;
    const char* what;
    // 1 finite, 0 not, as found on the host; kOnDevice: the next of
    // device_flags_.
    int host;
    static constexpr int kOnDevice = -1;
  };
  /// The host's answer for t, when t is read there.
  bool on_host(int64_t iteration, const char* what, const torch::Tensor& t);

  std::vector<Site> sites_;
  /// Scalars on the device, 0 where finite, NaN otherwise.
  std::vector<torch::Tensor> device_scores_;
};

}  // namespace iai::train
