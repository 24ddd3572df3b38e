#pragma once
// Running means of the ELBO's terms over the batches of an epoch or an
// evaluation: per-batch sums read back once, added up in double (10k
// examples of ~-100 nats lose digits in float), divided by the examples
// seen. The one place the trainer and the evaluation keep their sums.

#include "iai/model/elbo.h"

#include <cstdint>
#include <vector>

namespace iai::objectives {

/// The ELBO's terms as numbers: a batch's sums, or means over examples.
struct TermValues {
  double elbo = 0, reconstruction = 0, kl = 0;
  /// The KL's share of each level, level 1 first (sums to kl).
  std::vector<double> kl_levels;
};

/// Each term summed over the batch, read back to the host.
TermValues batch_sums(const model::ElboTerms& terms);
/// The same sums left on the terms' device, as one double tensor (elbo,
/// reconstruction, kl, then each level's kl), for a caller that reads them
/// back with other values in one transfer; sums_from() reads its values.
torch::Tensor batch_sums_tensor(const model::ElboTerms& terms);
TermValues sums_from(const double* values, int64_t count);

class RunningMean {
 public:
  /// `levels`: the model's latent levels (the KL's shares kept).
  explicit RunningMean(size_t levels) { sums_.kl_levels.assign(levels, 0.0); }

  /// Adds one batch's sums over `examples` examples.
  void add(const TermValues& sums, int64_t examples);
  /// batch_sums(terms) over the batch's examples.
  void add(const model::ElboTerms& terms);

  int64_t examples() const { return examples_; }
  /// The sums so far (a checkpoint saves them; add() restores them exactly).
  const TermValues& sums() const { return sums_; }
  double elbo() const { return sums_.elbo / examples_; }
  double kl() const { return sums_.kl / examples_; }
  /// Every term's mean over the examples added.
  TermValues means() const;

 private:
  TermValues sums_;
  int64_t examples_ = 0;
};

}  // namespace iai::objectives
