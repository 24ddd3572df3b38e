#include "iai/objectives/running_mean.h"

namespace iai::objectives {

TermValues batch_sums(const model::ElboTerms& terms) {
  TermValues sums;
  sums.elbo = terms.elbo.sum().item<double>();
  sums.reconstruction = terms.reconstruction.sum().item<double>();
  sums.kl = terms.kl.sum().item<double>();
  sums.kl_levels.reserve(terms.kl_levels.size());
  for (const auto& level : terms.kl_levels) {
    sums.kl_levels.push_back(level.sum().item<double>());
  }
  return sums;
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
  TermValues means{sums_.elbo / examples_, sums_.reconstruction / examples_,
                   sums_.kl / examples_, {}};
  for (double sum : sums_.kl_levels) means.kl_levels.push_back(sum / examples_);
  return means;
}

}  // namespace iai::objectives
