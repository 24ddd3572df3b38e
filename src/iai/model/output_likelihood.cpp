#include "iai/model/output_likelihood.h"

#include "iai/core/error.h"
#include "iai/dist/bernoulli.h"
#include "iai/dist/gaussian.h"

namespace iai::model {

Likelihood parse_likelihood(const std::string& name) {
  if (name == "bernoulli") return Likelihood::kBernoulli;
  if (name == "gaussian") return Likelihood::kGaussian;
  if (name == "multinomial") return Likelihood::kMultinomial;
  throw Error(message("unknown likelihood '", name, "' (expected ",
                      or_list(likelihood_names()), ")"));
}

const std::vector<std::string>& likelihood_names() {
  static const std::vector<std::string> names = {"bernoulli", "gaussian",
                                                 "multinomial"};
  return names;
}

std::string to_string(Likelihood likelihood) {
  switch (likelihood) {
    case Likelihood::kGaussian:
      return "gaussian";
    case Likelihood::kMultinomial:
      return "multinomial";
    default:
      return "bernoulli";
  }
}

OutputVariance parse_output_variance(const std::string& name) {
  if (name == "dimension") return OutputVariance::kDimension;
  if (name == "single") return OutputVariance::kSingle;
  if (name == "head") return OutputVariance::kHead;
  if (name == "fixed") return OutputVariance::kFixed;
  throw Error(message("unknown output variance '", name, "' (expected ",
                      or_list(output_variance_names()), ")"));
}

const std::vector<std::string>& output_variance_names() {
  static const std::vector<std::string> names = {"dimension", "single", "head",
                                                 "fixed"};
  return names;
}

std::string to_string(OutputVariance variance) {
  switch (variance) {
    case OutputVariance::kSingle:
      return "single";
    case OutputVariance::kHead:
      return "head";
    case OutputVariance::kFixed:
      return "fixed";
    default:
      return "dimension";
  }
}

GaussianOutput gaussian_output(const torch::Tensor& out,
                               OutputVariance variance,
                               const torch::Tensor& global_logvar) {
  if (variance == OutputVariance::kHead) {
    auto parts = out.chunk(2, -1);
    return {parts[0], parts[1]};  // clamped where the head is applied
  }
  if (variance == OutputVariance::kFixed) {
    return {out, torch::zeros({1}, out.options())};
  }
  return {out, global_logvar};
}

torch::Tensor output_log_prob(Likelihood likelihood, OutputVariance variance,
                              const torch::Tensor& x, const torch::Tensor& out,
                              const torch::Tensor& global_logvar) {
  switch (likelihood) {
    case Likelihood::kBernoulli:
      return dist::bernoulli_log_prob(x.unsqueeze(0), out);
    case Likelihood::kMultinomial:
      return (x.unsqueeze(0) * torch::log_softmax(out, -1)).sum(-1);
    default: {
      auto g = gaussian_output(out, variance, global_logvar);
      return dist::log_prob(x.unsqueeze(0), g.mean, g.logvar);
    }
  }
}

torch::Tensor output_error(Likelihood likelihood, OutputVariance variance,
                           const torch::Tensor& x, const torch::Tensor& out,
                           const torch::Tensor& global_logvar) {
  switch (likelihood) {
    case Likelihood::kBernoulli:
      return x.unsqueeze(0) - torch::sigmoid(out);
    case Likelihood::kMultinomial:
      return x.unsqueeze(0) -
             x.sum(-1, /*keepdim=*/true).unsqueeze(0) * torch::softmax(out, -1);
    default: {
      auto g = gaussian_output(out, variance, global_logvar);
      return (x.unsqueeze(0) - g.mean) * torch::exp(-g.logvar);
    }
  }
}

torch::Tensor output_mean(Likelihood likelihood, OutputVariance variance,
                          const torch::Tensor& out) {
  switch (likelihood) {
    case Likelihood::kBernoulli:
      return torch::sigmoid(out);
    case Likelihood::kMultinomial:
      return torch::softmax(out, -1);
    default:
      return gaussian_output(out, variance, {}).mean;
  }
}

}  // namespace iai::model
