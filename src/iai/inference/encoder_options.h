#pragma once
// The shape of an inference model (standard or iterative): its network and,
// for iterative models, every form of Section 4 as an option, so one class
// covers gradient and error encoding, with or without the data, highway or
// direct updates, feed-forward or recurrent networks, Gaussian or point q.

#include "iai/inference/feedback.h"
#include "iai/inference/input_encoding.h"
#include "iai/nn/mlp.h"

#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <vector>

namespace iai::inference {

/// How an iterative model turns its output into lambda_{t+1}.
enum class UpdateForm {
  /// eq. 7-8: a learned gate between lambda_t and the proposal.
  kHighway,
  /// lambda_{t+1} = f(h): the proposal itself.
  kDirect,
};
/// "highway" | "direct" -> UpdateForm; throws iai::Error.
UpdateForm parse_update_form(const std::string& name);
/// The names parse_update_form accepts: highway, direct.
const std::vector<std::string>& update_form_names();
std::string to_string(UpdateForm form);

struct EncoderOptions {
  EncoderOptions(int64_t data_dim, int64_t latent_dim)
      : data_dim_(data_dim), latent_dim_(latent_dim) {}
  /// D: data dimensions.
  TORCH_ARG(int64_t, data_dim);
  /// Z: latent dimensions.
  TORCH_ARG(int64_t, latent_dim);
  /// Units per hidden layer. Default 512.
  TORCH_ARG(int64_t, hidden) = 512;
  /// Hidden layers. Default 2.
  TORCH_ARG(int64_t, layers) = 2;
  /// Layer type. Default highway (docs/reference.md#experiments, MNIST).
  TORCH_ARG(nn::MlpKind, kind) = nn::MlpKind::kHighway;
  /// q = delta(mu) (MAP inference, Section 3.1) instead of a Gaussian.
  TORCH_ARG(bool, point_estimate) = false;
  /// Batch normalisation in the network. Default off.
  TORCH_ARG(bool, batch_norm) = false;
  /// The data enter as x - 0.5 (images in [0, 1]); false: as they are (word
  /// counts, docs/reference.md#encoding-forms).
  TORCH_ARG(bool, center_data) = true;

  // --- hierarchical models (empty upper_latent_dims = single-level) ---
  /// Z_2, Z_3, ...: latent dimensions of the levels above level 1; Z_1 is
  /// latent_dim.
  TORCH_ARG(std::vector<int64_t>, upper_latent_dims) = {};
  /// Units per hidden layer of the upper levels' networks. Default 256.
  TORCH_ARG(int64_t, upper_hidden) = 256;

  // --- iterative models only ---
  /// What the model reads of the ELBO: gradient (eq. 6-8), errors (eq.
  /// 14-15) or none (then the data must be an input).
  TORCH_ARG(FeedbackKind, encoding) = FeedbackKind::kGradient;
  /// Error encoding: precision-weighted errors (eq. 11-12, default) or raw.
  TORCH_ARG(ErrorWeighting, error_weighting) = ErrorWeighting::kPrecision;
  /// How that signal is normalised. Default log-sign (the paper's MNIST).
  TORCH_ARG(Normalization, normalization) = Normalization::kLogSign;
  /// Whether x is an input besides the feedback. Default true.
  TORCH_ARG(bool, encode_data) = true;
  /// Highway (gated, default) or direct update.
  TORCH_ARG(UpdateForm, update) = UpdateForm::kHighway;
  /// An LSTM cell after the MLP whose state carries across the iterations of
  /// a batch (a "recurrent inference model"); reset by begin_batch().
  TORCH_ARG(bool, recurrent) = false;
  /// Width of the bottom-up error an error-encoding model reads: D (eq. 11)
  /// at level 1, Z_{l-1} (eq. 12 of the level below) higher up. 0 = data_dim.
  TORCH_ARG(int64_t, error_below_dim) = 0;
};

/// Z_1, Z_2, ...: latent_dim then upper_latent_dims.
std::vector<int64_t> level_latent_dims(const EncoderOptions& options);

/// Bounds on log sigma^2 of q (docs/reference.md#encoding-forms): keeps
/// exp(logvar) finite.
constexpr double kMinLogvar = -15.0;
constexpr double kMaxLogvar = 15.0;

/// The data as an inference model sees it: x - 0.5 for data in [0, 1]
/// (center_data), else x itself.
torch::Tensor encode_data(const torch::Tensor& x,
                          const EncoderOptions& options);

}  // namespace iai::inference
