#include "iai/inference/input_encoding.h"

#include "iai/core/error.h"

namespace iai::inference {

Normalization parse_normalization(const std::string& name) {
  if (name == "none") return Normalization::kNone;
  if (name == "log-sign") return Normalization::kLogSign;
  if (name == "layer") return Normalization::kLayer;
  throw Error(message("unknown normalization '", name, "' (expected ",
                      or_list(normalization_names()), ")"));
}

const std::vector<std::string>& normalization_names() {
  static const std::vector<std::string> names = {"log-sign", "layer", "none"};
  return names;
}

std::string to_string(Normalization normalization) {
  switch (normalization) {
    case Normalization::kLogSign:
      return "log-sign";
    case Normalization::kLayer:
      return "layer";
    default:
      return "none";
  }
}

torch::Tensor normalize(const torch::Tensor& g, Normalization normalization) {
  switch (normalization) {
    case Normalization::kLogSign:
      return torch::cat({torch::log(g.abs() + kEncodingOffset), torch::sign(g)},
                        /*dim=*/1);
    case Normalization::kLayer: {
      // Population std, so a batch of one gives 0 / 1e-5 = 0, not NaN.
      auto mean = g.mean(/*dim=*/0, /*keepdim=*/true);
      auto std = g.std(/*dim=*/{0}, /*unbiased=*/false, /*keepdim=*/true);
      return (g - mean) / (std + kEncodingOffset);
    }
    default:
      return g;
  }
}

int64_t normalized_width(int64_t width, Normalization normalization) {
  return normalization == Normalization::kLogSign ? 2 * width : width;
}

namespace {

/// [n(t_1), ..., n(t_k)] for the log-sign n, as views of two tensors: the
/// logs and the signs of all the t_i at once (their rows and columns
/// alike). On a GPU, where a batch-64 step is launch-bound, that is four
/// kernels for every block instead of four a block (docs/gpu.md).
std::vector<torch::Tensor> log_sign_blocks(
    const std::vector<torch::Tensor>& ts) {
  const torch::Tensor all = ts.size() == 1 ? ts[0] : torch::cat(ts, 1);
  const torch::Tensor logs = torch::log(all.abs() + kEncodingOffset);
  const torch::Tensor signs = torch::sign(all);
  std::vector<torch::Tensor> blocks;
  int64_t at = 0;
  for (const auto& t : ts) {
    const int64_t w = t.size(1);
    blocks.push_back(logs.narrow(1, at, w));
    blocks.push_back(signs.narrow(1, at, w));
    at += w;
  }
  return blocks;
}

bool same_shapes(const std::vector<torch::Tensor>& ts) {
  for (const auto& t : ts) {
    if (t.dim() != 2 || t.sizes() != ts.front().sizes() ||
        t.scalar_type() != ts.front().scalar_type() ||
        t.device() != ts.front().device()) {
      return false;
    }
  }
  return !ts.empty();
}

}  // namespace

std::vector<torch::Tensor> encode_feedback_blocks(const Feedback& f,
                                                  FeedbackKind kind,
                                                  Normalization normalization) {
  std::vector<torch::Tensor> raw;
  if (kind == FeedbackKind::kGradient) {
    IAI_CHECK(f.gradient.defined(),
              "gradient encoding needs the ELBO's gradient at lambda_t");
    raw = f.gradient.tensors();
  } else if (kind == FeedbackKind::kErrors) {
    IAI_CHECK(f.error_x.defined() && f.error_z.defined(),
              "error encoding needs the prediction errors at lambda_t");
    raw = {f.error_x, f.error_z};
  }
  if (normalization == Normalization::kLogSign && same_shapes(raw)) {
    return log_sign_blocks(raw);
  }
  std::vector<torch::Tensor> blocks;
  for (const auto& t : raw) blocks.push_back(normalize(t, normalization));
  return blocks;
}

torch::Tensor encode_feedback(const Feedback& f, FeedbackKind kind,
                              Normalization normalization) {
  return torch::cat(encode_feedback_blocks(f, kind, normalization), 1);
}

torch::Tensor highway_update(const torch::Tensor& current,
                             const torch::Tensor& proposal,
                             const torch::Tensor& gate) {
  // gate current + (1 - gate) proposal as one operator (one kernel on a
  // GPU, where the four of the formula are four).
  return torch::lerp(proposal, current, gate);
}

}  // namespace iai::inference
