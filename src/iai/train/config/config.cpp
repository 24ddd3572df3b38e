#include "iai/train/config/config.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/data/dataset.h"
#include "iai/train/config/inference_registry.h"
#include "iai/train/config/options.h"

#include <nlohmann/json.hpp>

#include <variant>

namespace iai::train {

namespace {

void check(const TrainConfig& c, const char* name) {
  check_option(train_option(name), c);
}

}  // namespace

TrainConfig resolve(TrainConfig c) {
  // Each field on its own (one of its names, in its range) from the option
  // table; a field resolve() derives is checked once derived, below.
  for (const auto& option : train_options()) {
    if (!option.derived) check_option(option, c);
  }
  check_device_name(c.device);
  if (c.data_dir.empty()) c.data_dir = default_data_dir(c.dataset);
  IAI_CHECK(
      c.dataset != "idx" || (!c.train_images.empty() && !c.test_images.empty()),
      "--dataset idx needs --train-images and --test-images");
  const bool text = data::is_text_dataset(c.dataset);
  if (c.likelihood.empty()) {
    c.likelihood = text ? "multinomial"
                   : c.dataset == "svhn" || c.dataset == "cifar10"
                       ? "gaussian"
                       : "bernoulli";
  }
  check(c, "likelihood");
  IAI_CHECK(
      text == (c.likelihood == "multinomial"),
      text ? "word counts (--dataset rcv1) need --likelihood multinomial"
           : "--likelihood multinomial is for word counts (--dataset rcv1)");
  const bool hierarchical = c.model == "hierarchical";
  if (hierarchical && c.upper_latent.empty()) c.upper_latent = {32};
  IAI_CHECK(hierarchical || c.upper_latent.empty(),
            "--upper-latent needs --model hierarchical");
  check(c, "upper_latent");

  // What the inference procedure needs, and its T and S.
  const auto& procedure = inference_entry(c);
  IAI_CHECK(procedure.needs_hierarchical.empty() || hierarchical,
            "--inference ", procedure.name, " needs --model hierarchical (",
            procedure.needs_hierarchical, ")");
  if (procedure.check) procedure.check(c);
  if (c.iterations == 0) c.iterations = procedure.default_iterations(c);
  if (c.samples == 0) c.samples = procedure.default_samples;
  check(c, "iterations");
  IAI_CHECK(!procedure.needs_gaussian_posterior || c.posterior == "gaussian",
            "--inference ", procedure.name, " needs --posterior gaussian");
  check(c, "samples");
  return c;
}

nlohmann::json to_json(const TrainConfig& c) {
  nlohmann::json j;
  for (const auto& option : train_options()) {
    std::visit([&](auto field) { j[option.name] = c.*field; }, option.field);
  }
  return j;
}

TrainConfig config_from_json(const nlohmann::json& j) {
  TrainConfig c;
  try {
    for (const auto& option : train_options()) {
      if (!j.contains(option.name)) continue;
      std::visit([&](auto field) { j.at(option.name).get_to(c.*field); },
                 option.field);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(
        message("saved config has a value of the wrong type: ", e.what()));
  }
  for (const auto& item : j.items()) {
    bool known = false;
    for (const auto& option : train_options()) {
      known |= option.name == item.key();
    }
    IAI_CHECK(known, "saved config has an unknown key '", item.key(), "'");
  }
  return c;
}

}  // namespace iai::train
