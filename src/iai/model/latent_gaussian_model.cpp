#include "iai/model/latent_gaussian_model.h"

#include "iai/core/error.h"
#include "iai/dist/bernoulli.h"
#include "iai/dist/gaussian.h"

namespace iai::model {

LatentGaussianModelImpl::LatentGaussianModelImpl(
    LatentGaussianModelOptions options_)
    : options(std::move(options_)) {
  reset();
}

namespace {
// Bounds on a prior's log-variance, as on q's: exp(logvar) stays finite.
constexpr double kMinPriorLogvar = -15.0;
constexpr double kMaxPriorLogvar = 15.0;
}  // namespace

void LatentGaussianModelImpl::reset() {
  const auto dims = latent_dims();
  const int64_t levels = static_cast<int64_t>(dims.size());
  for (int64_t d : dims) {
    IAI_CHECK(d > 0, "every level needs at least one latent dimension, got ",
              d);
  }
  IAI_CHECK(options.deterministic() >= 0,
            "deterministic units must be >= 0, got ", options.deterministic());
  const int64_t det = levels > 1 ? options.deterministic() : 0;
  // Level 1's network reads z_1, the units passed down from level 2 and,
  // with concat_latents, the upper levels' z too.
  int64_t level1_in = dims[0] + det;
  if (options.concat_latents()) level1_in = latent_dim() + det;
  const bool head_variance = options.likelihood() == Likelihood::kGaussian &&
                             options.output_variance() == OutputVariance::kHead;
  if (!options.decoder_script().empty()) {
    decoder = register_module(
        "decoder",
        ScriptedDecoder(options.decoder_script(), options.decoder_source(),
                        level1_in, options.data_dim()));
    IAI_CHECK(decoder->outputs() == 1 || head_variance, "the decoder '",
              options.decoder_source(),
              "' returns two tensors (mean, log-variance); "
              "that needs a Gaussian output with --output-variance head");
    IAI_CHECK(
        decoder->outputs() == 2 || !head_variance,
        "--output-variance head "
        "needs a decoder that returns two tensors (mean, log-variance); '",
        options.decoder_source(), "' returns one");
  } else {
    body = register_module(
        "body",
        nn::Mlp(nn::MlpOptions(level1_in, options.hidden(), options.layers())
                    .kind(options.kind())
                    .batch_norm(options.batch_norm())));
    head = register_module("head",
                           nn::Dense(body->out_features(), options.data_dim()));
  }
  if (options.likelihood() == Likelihood::kGaussian) {
    switch (options.output_variance()) {
      case OutputVariance::kDimension:
        output_logvar = register_parameter("output_logvar",
                                           torch::zeros({options.data_dim()}));
        break;
      case OutputVariance::kSingle:
        output_logvar = register_parameter("output_logvar", torch::zeros({1}));
        break;
      case OutputVariance::kHead:  // a user's module returns it itself
        if (body) {
          output_logvar_head = register_module(
              "output_logvar_head",
              nn::Dense(body->out_features(), options.data_dim()));
        }
        break;
      case OutputVariance::kFixed:
        break;
    }
  }
  if (levels == 1) return;
  upper_bodies = register_module("upper_bodies", torch::nn::ModuleList());
  prior_heads = register_module("prior_heads", torch::nn::ModuleList());
  deterministic_heads =
      register_module("deterministic_heads", torch::nn::ModuleList());
  for (int64_t l = 2; l <= levels; ++l) {
    const int64_t in = dims[l - 1] + (l < levels ? det : 0);
    auto net =
        nn::Mlp(nn::MlpOptions(in, options.upper_hidden(), options.layers())
                    .kind(options.kind())
                    .batch_norm(options.batch_norm()));
    // mu_p and log sigma_p^2 of level l - 1: two of the reference's
    // matrices, each Glorot-initialised with its own fan-out.
    prior_heads->push_back(
        nn::Dense(net->out_features(), 2 * dims[l - 2], /*blocks=*/2));
    if (det > 0) {
      deterministic_heads->push_back(nn::Dense(net->out_features(), det));
    }
    upper_bodies->push_back(net);
  }
}

std::vector<int64_t> LatentGaussianModelImpl::latent_dims() const {
  std::vector<int64_t> dims{options.latent_dim()};
  for (int64_t d : options.upper_latent_dims()) dims.push_back(d);
  return dims;
}

GenerativePass LatentGaussianModelImpl::generate(const torch::Tensor& z,
                                                 bool with_output) {
  const int64_t levels = this->levels();
  GenerativePass pass;
  if (levels == 1) {
    pass.out = level1_output(z);
    return pass;
  }
  const auto zs = split_levels(z);
  pass.prior_mu.resize(levels - 1);
  pass.prior_logvar.resize(levels - 1);
  torch::Tensor units;  // deterministic units from the level above
  for (int64_t l = levels; l >= 2; --l) {
    const size_t i = static_cast<size_t>(l - 2);
    auto in = units.defined() ? torch::cat({zs[l - 1], units}, 1) : zs[l - 1];
    auto h = upper_bodies[i]->as<nn::MlpImpl>()->forward(in);
    auto p = prior_heads[i]->as<nn::DenseImpl>()->forward(h).chunk(2, 1);
    pass.prior_mu[l - 2] = p[0];
    pass.prior_logvar[l - 2] = p[1].clamp(kMinPriorLogvar, kMaxPriorLogvar);
    units = options.deterministic() > 0
                ? deterministic_heads[i]->as<nn::DenseImpl>()->forward_elu(h)
                : torch::Tensor();
  }
  if (!with_output) return pass;
  std::vector<torch::Tensor> in{options.concat_latents() ? z : zs[0]};
  if (units.defined()) in.push_back(units);
  pass.out = level1_output(in.size() == 1 ? in[0] : torch::cat(in, 1));
  return pass;
}

torch::Tensor LatentGaussianModelImpl::level1_output(const torch::Tensor& in) {
  if (decoder) {
    auto outs = decoder->forward(in);
    if (outs.size() == 1) return outs[0];
    return torch::cat(
        {outs[0], outs[1].clamp(kMinOutputLogvar, kMaxOutputLogvar)}, -1);
  }
  const auto h = body->forward(in);
  auto out = head->forward(h);
  if (options.likelihood() != Likelihood::kGaussian) return out;
  if (options.sigmoid_mean()) out = torch::sigmoid(out);
  if (options.output_variance() != OutputVariance::kHead) return out;
  auto logvar =
      output_logvar_head->forward(h).clamp(kMinOutputLogvar, kMaxOutputLogvar);
  return torch::cat({out, logvar}, -1);
}

int64_t LatentGaussianModelImpl::output_width() const {
  const bool head = options.likelihood() == Likelihood::kGaussian &&
                    options.output_variance() == OutputVariance::kHead;
  return head ? 2 * data_dim() : data_dim();
}

torch::Tensor LatentGaussianModelImpl::output_log_prob(
    const torch::Tensor& x, const torch::Tensor& out) {
  return model::output_log_prob(options.likelihood(), options.output_variance(),
                                x, out, output_logvar);
}

torch::Tensor LatentGaussianModelImpl::output_error(const torch::Tensor& x,
                                                    const torch::Tensor& out) {
  return model::output_error(options.likelihood(), options.output_variance(), x,
                             out, output_logvar);
}

torch::Tensor LatentGaussianModelImpl::output_expectation(
    const torch::Tensor& out) {
  return model::output_mean(options.likelihood(), options.output_variance(),
                            out);
}

}  // namespace iai::model
