#include "iai/inference/encoder_options.h"

#include "iai/core/error.h"

namespace iai::inference {

UpdateForm parse_update_form(const std::string& name) {
  if (name == "highway") return UpdateForm::kHighway;
  if (name == "direct") return UpdateForm::kDirect;
  throw Error(message("unknown update '", name, "' (expected ",
                      or_list(update_form_names()), ")"));
}

const std::vector<std::string>& update_form_names() {
  static const std::vector<std::string> names = {"highway", "direct"};
  return names;
}

std::string to_string(UpdateForm form) {
  return form == UpdateForm::kDirect ? "direct" : "highway";
}

torch::Tensor encode_data(const torch::Tensor& x,
                          const EncoderOptions& options) {
  return options.center_data() ? x - 0.5 : x;
}

std::vector<int64_t> level_latent_dims(const EncoderOptions& options) {
  std::vector<int64_t> dims{options.latent_dim()};
  for (int64_t d : options.upper_latent_dims()) dims.push_back(d);
  return dims;
}

}  // namespace iai::inference
