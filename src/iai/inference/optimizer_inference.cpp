#include "iai/inference/optimizer_inference.h"

#include "iai/core/error.h"
#include "iai/inference/encoder_options.h"

#include <cmath>

namespace iai::inference {

const std::vector<std::string>& optimizer_kind_names() {
  static const std::vector<std::string> names = {
      "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam"};
  return names;
}

OptimizerKind parse_optimizer_kind(const std::string& name) {
  const auto& names = optimizer_kind_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (name == names[i]) return static_cast<OptimizerKind>(i);
  }
  throw Error(message("unknown optimiser '", name, "' (expected ",
                      or_list(names), ")"));
}

std::string to_string(OptimizerKind kind) {
  return optimizer_kind_names()[static_cast<size_t>(kind)];
}

std::vector<OptimizerKind> all_optimizer_kinds() {
  std::vector<OptimizerKind> kinds;
  for (size_t i = 0; i < optimizer_kind_names().size(); ++i) {
    kinds.push_back(static_cast<OptimizerKind>(i));
  }
  return kinds;
}

OptimizerInferenceImpl::OptimizerInferenceImpl(OptimizerOptions options_)
    : options(options_) {
  IAI_CHECK(options.lr() > 0, "optimiser step size must be positive, got ",
            options.lr());
}

void OptimizerInferenceImpl::begin_batch(int64_t /*batch*/) {
  steps_ = 0;
  first_.clear();
  second_.clear();
}

Posterior OptimizerInferenceImpl::update(const torch::Tensor& /*x*/,
                                         const Posterior& current,
                                         const Feedback& feedback) {
  IAI_CHECK(feedback.gradient.defined(),
            "optimiser inference needs the ELBO's gradient at lambda_t");
  ++steps_;
  const auto values = current.tensors();
  const auto grads = feedback.gradient.tensors();
  IAI_CHECK(values.size() == grads.size(),
            "optimiser inference: lambda and its gradient differ in parts");
  first_.resize(values.size());
  second_.resize(values.size());
  std::vector<torch::Tensor> next;
  for (size_t i = 0; i < values.size(); ++i) {
    next.push_back(step(i, values[i], grads[i] * options.gradient_scale()));
  }
  if (current.point()) return {next[0], {}};
  return {next[0], next[1].clamp(kMinLogvar, kMaxLogvar)};
}

torch::Tensor OptimizerInferenceImpl::step(size_t slot,
                                           const torch::Tensor& value,
                                           const torch::Tensor& g) {
  const double lr = options.lr();
  auto& m = first_[slot];
  auto& v = second_[slot];
  switch (options.kind()) {
    case OptimizerKind::kSgd:
      return value + lr * g;
    case OptimizerKind::kMomentum:
      m = m.defined() ? options.momentum() * m + g : g;
      return value + lr * m;
    case OptimizerKind::kNesterov:
      m = m.defined() ? options.momentum() * m + g : g;
      return value + lr * (g + options.momentum() * m);
    case OptimizerKind::kRmsprop: {
      const double a = options.alpha();
      v = v.defined() ? a * v + (1 - a) * g * g : (1 - a) * g * g;
      return value + lr * g / (torch::sqrt(v) + options.eps());
    }
    case OptimizerKind::kAdagrad:
      v = v.defined() ? v + g * g : g * g;
      return value + lr * g / (torch::sqrt(v) + 1e-10);
    case OptimizerKind::kAdam: {
      const double b1 = options.beta1(), b2 = options.beta2();
      m = m.defined() ? b1 * m + (1 - b1) * g : (1 - b1) * g;
      v = v.defined() ? b2 * v + (1 - b2) * g * g : (1 - b2) * g * g;
      const double c1 = 1 - std::pow(b1, static_cast<double>(steps_));
      const double c2 = 1 - std::pow(b2, static_cast<double>(steps_));
      return value + lr * (m / c1) / (torch::sqrt(v / c2) + options.eps());
    }
  }
  throw Error("unreachable optimiser kind");
}

}  // namespace iai::inference
