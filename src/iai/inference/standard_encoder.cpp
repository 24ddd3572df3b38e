#include "iai/inference/standard_encoder.h"

namespace iai::inference {

namespace {
// [mu, logvar] (or [mu]) from a head's output.
Posterior split_head(const torch::Tensor& out, bool point) {
  if (point) return {out, {}};
  auto parts = out.chunk(2, 1);
  return {parts[0], parts[1].clamp(kMinLogvar, kMaxLogvar)};
}
}  // namespace

StandardEncoderImpl::StandardEncoderImpl(EncoderOptions options_)
    : options(std::move(options_)) {
  const int64_t outputs = options.point_estimate() ? 1 : 2;
  body = register_module(
      "body", nn::Mlp(nn::MlpOptions(options.data_dim(), options.hidden(),
                                     options.layers())
                          .kind(options.kind())
                          .batch_norm(options.batch_norm())));
  head = register_module(
      "head", nn::Dense(body->out_features(), outputs * options.latent_dim(),
                        /*blocks=*/outputs));
  if (options.upper_latent_dims().empty()) return;
  upper_bodies = register_module("upper_bodies", torch::nn::ModuleList());
  upper_heads = register_module("upper_heads", torch::nn::ModuleList());
  int64_t below = body->out_features();
  for (int64_t dim : options.upper_latent_dims()) {
    auto net =
        nn::Mlp(nn::MlpOptions(below, options.upper_hidden(), options.layers())
                    .kind(options.kind())
                    .batch_norm(options.batch_norm()));
    below = net->out_features();
    upper_heads->push_back(nn::Dense(below, outputs * dim, /*blocks=*/outputs));
    upper_bodies->push_back(net);
  }
}

std::vector<Posterior> StandardEncoderImpl::bottom_up(const torch::Tensor& x) {
  const bool point = options.point_estimate();
  auto h = body->forward(encode_data(x, options));
  std::vector<Posterior> levels{split_head(head->forward(h), point)};
  for (size_t i = 0; !upper_bodies.is_empty() && i < upper_bodies->size();
       ++i) {
    h = upper_bodies[i]->as<nn::MlpImpl>()->forward(h);
    levels.push_back(
        split_head(upper_heads[i]->as<nn::DenseImpl>()->forward(h), point));
  }
  return levels;
}

Posterior StandardEncoderImpl::update(const torch::Tensor& x,
                                      const Posterior& /*current*/,
                                      const Feedback& /*feedback*/) {
  return concat_levels(bottom_up(x));
}

Posterior concat_levels(const std::vector<Posterior>& levels) {
  if (levels.size() == 1) return levels[0];
  std::vector<torch::Tensor> mus, logvars;
  for (const auto& level : levels) {
    mus.push_back(level.mu);
    if (level.logvar.defined()) logvars.push_back(level.logvar);
  }
  return {torch::cat(mus, 1),
          logvars.empty() ? torch::Tensor() : torch::cat(logvars, 1)};
}

}  // namespace iai::inference
