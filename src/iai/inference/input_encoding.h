#pragma once
// How an iterative inference model sees its feedback, and its two update
// forms (docs/reference.md#encoding-forms).
//   none:     the raw signal.
//   log-sign: each component g becomes (log(|g| + 1e-5), sign(g)), splitting
//             scale from direction so inputs stay O(1) whatever the
//             gradient's magnitude (the paper's MNIST models).
//   layer:    (g - mean_batch g) / (std_batch g + 1e-5) per component (the
//             paper's CIFAR-10 models).

#include "iai/inference/feedback.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace iai::inference {

enum class Normalization { kNone, kLogSign, kLayer };

/// "none" | "log-sign" | "layer" -> Normalization; throws iai::Error.
Normalization parse_normalization(const std::string& name);
/// The names parse_normalization accepts: log-sign, layer, none.
const std::vector<std::string>& normalization_names();
std::string to_string(Normalization normalization);

/// Offset inside the log (log-sign) and under the std (layer) so zero
/// signals stay finite.
constexpr double kEncodingOffset = 1e-5;

/// signal is (B,N); returns (B,N) (none, layer) or (B,2N) (log-sign:
/// [log|g|, sign g]).
torch::Tensor normalize(const torch::Tensor& signal,
                        Normalization normalization);

/// Width of normalize()'s output for an N-wide signal.
int64_t normalized_width(int64_t width, Normalization normalization);

/// The feedback the model encodes, each block normalised on its own:
///   gradient: [n(g_mu), n(g_logvar)] (g_logvar absent for a point estimate)
///   errors:   [n(error_x), n(error_z)]
torch::Tensor encode_feedback(const Feedback& feedback, FeedbackKind kind,
                              Normalization normalization);

/// encode_feedback's blocks, for a caller that concatenates them with more
/// (one concatenation, not two). Log-sign blocks of equal shape are
/// encoded together: four operators for all of them, not four each.
std::vector<torch::Tensor> encode_feedback_blocks(const Feedback& feedback,
                                                  FeedbackKind kind,
                                                  Normalization normalization);

/// eq. 7-8 "highway" update: gate * current + (1 - gate) * proposal.
/// All (B,Z); gate in (0, 1).
torch::Tensor highway_update(const torch::Tensor& current,
                             const torch::Tensor& proposal,
                             const torch::Tensor& gate);

}  // namespace iai::inference
