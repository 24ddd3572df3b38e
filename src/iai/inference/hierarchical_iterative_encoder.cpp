#include "iai/inference/hierarchical_iterative_encoder.h"

#include "iai/inference/iterative_encoder.h"
#include "iai/inference/standard_encoder.h"

namespace iai::inference {

namespace {
std::vector<torch::Tensor> cut(const torch::Tensor& t,
                               const std::vector<int64_t>& dims) {
  if (!t.defined()) return std::vector<torch::Tensor>(dims.size());
  return t.split_with_sizes(dims, /*dim=*/1);
}
}  // namespace

HierarchicalIterativeEncoderImpl::HierarchicalIterativeEncoderImpl(
    EncoderOptions options_)
    : options(std::move(options_)), dims_(level_latent_dims(options)) {
  levels = register_module("levels", torch::nn::ModuleList());
  for (size_t l = 0; l < dims_.size(); ++l) {
    auto level = options;
    level.latent_dim(dims_[l])
        .upper_latent_dims({})
        .hidden(l == 0 ? options.hidden() : options.upper_hidden())
        .error_below_dim(l == 0 ? options.data_dim() : dims_[l - 1]);
    levels->push_back(std::make_shared<IterativeEncoderImpl>(level));
  }
}

void HierarchicalIterativeEncoderImpl::begin_batch(int64_t batch) {
  for (auto& level : *levels) {
    level->as<IterativeEncoderImpl>()->begin_batch(batch);
  }
}

Posterior HierarchicalIterativeEncoderImpl::update(const torch::Tensor& x,
                                                   const Posterior& current,
                                                   const Feedback& feedback) {
  const auto mu = cut(current.mu, dims_), logvar = cut(current.logvar, dims_);
  const auto g_mu = cut(feedback.gradient.mu, dims_);
  const auto g_logvar = cut(feedback.gradient.logvar, dims_);
  const auto error_z = cut(feedback.error_z, dims_);
  std::vector<Posterior> next;
  for (size_t l = 0; l < dims_.size(); ++l) {
    Feedback own;
    own.gradient = {g_mu[l], g_logvar[l]};
    // Bottom-up error: the data's at level 1, the level below's above it.
    own.error_x = l == 0 ? feedback.error_x : error_z[l - 1];
    own.error_z = error_z[l];
    next.push_back(levels[l]->as<IterativeEncoderImpl>()->update(
        x, {mu[l], logvar[l]}, own));
  }
  return concat_levels(next);
}

}  // namespace iai::inference
