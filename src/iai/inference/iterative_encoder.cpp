#include "iai/inference/iterative_encoder.h"

#include "iai/core/error.h"
#include "iai/core/torch_compat.h"
#include "iai/cpu/own_kernels.h"
#include "iai/inference/gated_update.h"
#include "iai/nn/deferred_weight_gradients.h"
#include "iai/nn/linear.h"

#include <array>
#include <tuple>

namespace iai::inference {

namespace {
int64_t components(const EncoderOptions& o) {
  return o.point_estimate() ? 1 : 2;  // mu [, logvar]
}
int64_t error_below_width(const EncoderOptions& o) {
  return o.error_below_dim() > 0 ? o.error_below_dim() : o.data_dim();
}
}  // namespace

IterativeEncoderImpl::IterativeEncoderImpl(EncoderOptions options_)
    : options(std::move(options_)) {
  IAI_CHECK(options.encoding() != FeedbackKind::kNone || options.encode_data(),
            "an iterative model with encoding 'none' must encode the data, "
            "or it has no input");
  IAI_CHECK(options.upper_latent_dims().empty(),
            "IterativeEncoder infers one level; hierarchical models use "
            "HierarchicalIterativeEncoder (one IterativeEncoder per level)");
  body = register_module(
      "body", nn::Mlp(nn::MlpOptions(input_features(), options.hidden(),
                                     options.layers())
                          .kind(options.kind())
                          .batch_norm(options.batch_norm())));
  int64_t features = body->out_features();
  if (options.recurrent()) {
    lstm = register_module("lstm",
                           torch::nn::LSTMCell(features, options.hidden()));
    features = options.hidden();
  }
  const int64_t per = options.update() == UpdateForm::kHighway ? 2 : 1;
  head = register_module(
      "head",
      nn::Dense(features, per * components(options) * options.latent_dim(),
                /*blocks=*/per * components(options)));
}

int64_t IterativeEncoderImpl::input_features() const {
  const int64_t z = options.latent_dim();
  int64_t width = options.encode_data() ? options.data_dim() : 0;
  switch (options.encoding()) {
    case FeedbackKind::kGradient:
      width +=
          normalized_width(components(options) * z, options.normalization());
      break;
    case FeedbackKind::kErrors:
      width += normalized_width(error_below_width(options) + z,
                                options.normalization());
      break;
    default:
      return width;  // data only: no lambda either (Section 4.3)
  }
  return width + components(options) * z;  // + lambda_t
}

void IterativeEncoderImpl::begin_batch(int64_t /*batch*/) {
  state_.reset();
  data_of_ = data_ = data_part_ = torch::Tensor();
}

bool IterativeEncoderImpl::splits_first_layer(
    const torch::Tensor& x, const std::vector<torch::Tensor>& others) {
  if (others.empty() || body->options.layers() == 0 ||
      body->options.batch_norm() || autocast_enabled(x.device().type())) {
    return false;
  }
  // The CPU's own kernels take float32; LibTorch's operators (a GPU) any
  // one dtype on one device.
  const auto dtype = cpu::own_kernels_on(x.device()) ? torch::kFloat
                                                     : x.scalar_type();
  const auto fits = [&](const torch::Tensor& t) {
    return t.scalar_type() == dtype && t.device() == x.device();
  };
  if (!fits(x)) return false;
  for (const auto& t : others) {
    if (t.requires_grad() || !fits(t)) return false;
  }
  const auto& first = *body->layers[0]->as<nn::DenseImpl>()->linear;
  const auto& weight = first.weight;
  if (!fits(weight) || (first.bias.defined() && !fits(first.bias))) {
    return false;
  }
  // With a gradient, only the training step's detached passes, whose
  // collector takes the first layer's weight gradient.
  if (!torch::GradMode::is_enabled() || !weight.requires_grad()) return true;
  const auto* deferred = nn::DeferredWeightGradients::active();
  return deferred != nullptr && deferred->covers(weight);
}

const torch::Tensor& IterativeEncoderImpl::data_part(const torch::Tensor& x) {
  const auto& first = *body->layers[0]->as<nn::DenseImpl>()->linear;
  // What the part was made from: x and the layer's tensors, each by its
  // storage and its version (an in-place write bumps it: Adam's step, a
  // checkpoint's load, a batch copied into the same x).
  const auto stamp = [](const torch::Tensor& t) {
    return t.defined()
               ? std::array<int64_t, 2>{reinterpret_cast<int64_t>(t.data_ptr()),
                                        t._version()}
               : std::array<int64_t, 2>{0, 0};
  };
  const auto [xs, ws, bs] =
      std::make_tuple(stamp(x), stamp(first.weight), stamp(first.bias));
  const DataStamp now{xs[0], xs[1], ws[0], ws[1], bs[0], bs[1]};
  if (!data_part_.defined() || data_stamp_ != now) {
    torch::NoGradGuard no_grad;
    data_of_ = x;  // kept, so its storage is not reused while stamped
    data_ = encode_data(x, options).contiguous();
    data_part_ = nn::constant_columns_part(data_, first.weight, first.bias);
    data_stamp_ = now;
  }
  return data_part_;
}

void IterativeEncoderImpl::declare_constant_data() {
  // x is the same at every iteration of a training step: its columns, the
  // input's last (all of it for a model that reads only x), carry the same
  // values in each of the T backward passes, so a deferred weight gradient
  // takes their part once (nn/deferred_weight_gradients.h).
  auto* deferred = nn::DeferredWeightGradients::active();
  if (deferred == nullptr || body->options.layers() == 0) {
    return;
  }
  const auto& weight = body->layers[0]->as<nn::DenseImpl>()->linear->weight;
  deferred->same_input_columns(weight, input_features() - options.data_dim());
}

Posterior IterativeEncoderImpl::update(const torch::Tensor& x,
                                       const Posterior& current,
                                       const Feedback& feedback) {
  std::vector<torch::Tensor> inputs;
  if (options.encoding() == FeedbackKind::kGradient &&
      options.normalization() == Normalization::kLogSign) {
    // [n(g), lambda] in one pass where it applies (inference/gated_update.h).
    torch::Tensor in = log_sign_input(feedback.gradient, current);
    if (in.defined()) inputs.push_back(std::move(in));
  }
  if (inputs.empty() && options.encoding() != FeedbackKind::kNone) {
    inputs = encode_feedback_blocks(feedback, options.encoding(),
                                    options.normalization());
    for (const auto& part : current.tensors()) inputs.push_back(part);
  }
  torch::Tensor h;
  if (options.encode_data() && splits_first_layer(x, inputs)) {
    // x's part of the first product, computed once per batch.
    const auto& first = *body->layers[0]->as<nn::DenseImpl>()->linear;
    const torch::Tensor& part = data_part(x);
    h = body->forward_from_first(nn::linear_constant_columns(
        inputs.size() == 1 ? inputs[0] : torch::cat(inputs, 1), data_, part,
        first.weight, first.bias));
  } else {
    if (options.encode_data()) {
      inputs.push_back(encode_data(x, options));
      declare_constant_data();
    }
    h = body->forward(inputs.size() == 1 ? inputs[0] : torch::cat(inputs, 1));
  }
  if (options.recurrent()) {
    IAI_CHECK(!state_ || std::get<0>(*state_).size(0) == x.size(0),
              "recurrent inference model: batch size changed within a batch "
              "(call begin_batch first)");
    auto [hidden, cell] = lstm->forward(h, state_);
    state_ = std::make_tuple(nn::to_float(hidden).detach(),
                             nn::to_float(cell).detach());
    h = nn::to_float(hidden);
  }
  auto out = head->forward(h);

  if (options.update() == UpdateForm::kDirect) {
    if (options.point_estimate()) return {out, {}};
    auto parts = out.chunk(2, 1);
    return {parts[0], parts[1].clamp(kMinLogvar, kMaxLogvar)};
  }
  if (auto next = gated_update(out, current)) return *next;
  auto parts = out.chunk(2 * components(options), 1);
  auto mu = highway_update(current.mu, parts[0], torch::sigmoid(parts[1]));
  if (options.point_estimate()) return {mu, {}};
  auto logvar =
      highway_update(current.logvar, parts[2], torch::sigmoid(parts[3]));
  return {mu, logvar.clamp(kMinLogvar, kMaxLogvar)};
}

}  // namespace iai::inference
