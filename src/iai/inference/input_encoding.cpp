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

torch::Tensor encode_feedback(const Feedback& f, FeedbackKind kind,
                              Normalization normalization) {
  std::vector<torch::Tensor> blocks;
  if (kind == FeedbackKind::kGradient) {
    IAI_CHECK(f.gradient.defined(),
              "gradient encoding needs the ELBO's gradient at lambda_t");
    for (const auto& g : f.gradient.tensors()) {
      blocks.push_back(normalize(g, normalization));
    }
  } else if (kind == FeedbackKind::kErrors) {
    IAI_CHECK(f.error_x.defined() && f.error_z.defined(),
              "error encoding needs the prediction errors at lambda_t");
    blocks.push_back(normalize(f.error_x, normalization));
    blocks.push_back(normalize(f.error_z, normalization));
  }
  return torch::cat(blocks, /*dim=*/1);
}

torch::Tensor highway_update(const torch::Tensor& current,
                             const torch::Tensor& proposal,
                             const torch::Tensor& gate) {
  return gate * current + (1 - gate) * proposal;
}

}  // namespace iai::inference
