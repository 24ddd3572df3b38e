#include "iai/objectives/running_mean.h"

namespace iai::objectives {

torch::Tensor batch_sums_tensor(const model::ElboTerms& terms) {
  // Each term is summed in its own precision, as it always was, and only
  // then widened.
  std::vector<torch::Tensor> parts = {
      terms.elbo.sum(), terms.reconstruction.sum(), terms.kl.sum()};
  for (const auto& level : terms.kl_levels) parts.push_back(level.sum());
  return torch::stack(parts).to(torch::kDouble);
}

TermValues sums_from(const double* v, int64_t count) {
  TermValues sums;
  sums.elbo = v[0];
  sums.reconstruction = v[1];
  sums.kl = v[2];
  sums.kl_levels.assign(v + 3, v + count);
  return sums;
}

TermValues batch_sums(const model::ElboTerms& terms) {
  // One read-back for all the sums (on a GPU, one host synchronisation per
  // batch instead of one per term).
  const auto values = batch_sums_tensor(terms).to(torch::kCPU).contiguous();
  return sums_from(values.data_ptr<double>(), values.numel());
}

void RunningMean::add(const TermValues& sums, int64_t examples) {
  sums_.elbo += sums.elbo;
  sums_.reconstruction += sums.reconstruction;
  sums_.kl += sums.kl;
  for (size_t l = 0; l < sums_.kl_levels.size(); ++l) {
    sums_.kl_levels[l] += sums.kl_levels[l];
  }
  examples_ += examples;
}

void RunningMean::add(const model::ElboTerms& terms) {
  add(batch_sums(terms), terms.elbo.size(0));
}

TermValues RunningMean::means() const {
  TermValues means{sums_.elbo / examples_,
                   sums_.reconstruction / examples_,
                   sums_.kl / examples_,
                   {}};
  for (double sum : sums_.kl_levels) means.kl_levels.push_back(sum / examples_);
  return means;
}

}  // namespace iai::objectives
