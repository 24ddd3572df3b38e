#include "iai/train/config.h"

#include "iai/core/error.h"

#include <nlohmann/json.hpp>

#include <set>

namespace iai::train {

namespace {

void check_positive(int64_t value, const char* flag) {
  IAI_CHECK(value > 0, "--", flag, " must be positive, got ", value);
}

void check_one_of(const std::string& value, const std::set<std::string>& ok,
                  const char* flag) {
  if (ok.count(value)) return;
  std::string list;
  for (const auto& v : ok) list += (list.empty() ? "" : ", ") + v;
  throw Error(message("--", flag, " must be one of ", list, "; got '", value,
                      "'"));
}

}  // namespace

TrainConfig resolve(TrainConfig c) {
  check_one_of(c.dataset, {"mnist", "omniglot", "svhn", "cifar10", "rcv1", "idx"},
               "dataset");
  IAI_CHECK(c.dataset != "idx" || (!c.train_images.empty() && !c.test_images.empty()),
            "--dataset idx needs --train-images and --test-images");
  check_one_of(c.model, {"single", "hierarchical"}, "model");
  const bool text = c.dataset == "rcv1";
  if (c.likelihood.empty()) {
    c.likelihood = text ? "multinomial"
                   : c.dataset == "svhn" || c.dataset == "cifar10" ? "gaussian"
                                                                   : "bernoulli";
  }
  check_one_of(c.likelihood, {"bernoulli", "gaussian", "multinomial"}, "likelihood");
  IAI_CHECK(text == (c.likelihood == "multinomial"),
            text ? "word counts (--dataset rcv1) need --likelihood multinomial"
                 : "--likelihood multinomial is for word counts (--dataset rcv1)");
  check_one_of(c.output_variance, {"dimension", "single", "head", "fixed"},
               "output-variance");
  check_one_of(c.gaussian_mean, {"sigmoid", "linear"}, "gaussian-mean");
  check_one_of(c.inference, {"standard", "iterative", "semi-amortized", "ladder"},
               "inference");
  const bool hierarchical = c.model == "hierarchical";
  if (hierarchical && c.upper_latent.empty()) c.upper_latent = {32};
  IAI_CHECK(hierarchical || c.upper_latent.empty(),
            "--upper-latent needs --model hierarchical");
  for (int64_t d : c.upper_latent) check_positive(d, "upper-latent");
  check_positive(c.upper_hidden, "upper-hidden");
  IAI_CHECK(c.deterministic >= 0, "--deterministic must be >= 0, got ",
            c.deterministic);
  IAI_CHECK(c.inference != "ladder" || hierarchical,
            "--inference ladder needs --model hierarchical (a single-level "
            "model has no top-down prior to combine with)");
  check_one_of(c.encoding, {"gradient", "error", "none"}, "encoding");
  check_one_of(c.normalization, {"log-sign", "layer", "none"}, "normalization");
  check_one_of(c.update, {"highway", "direct"}, "update");
  check_one_of(c.posterior, {"gaussian", "point"}, "posterior");
  check_one_of(c.encoder_kind, {"sequential", "highway"}, "encoder-kind");
  check_one_of(c.decoder_kind, {"sequential", "highway"}, "decoder-kind");
  // The ladder, like the standard encoder, is one pass from x.
  const bool standard = c.inference == "standard" || c.inference == "ladder";
  const bool semi = c.inference == "semi-amortized";

  if (semi) {
    // The encoder's pass, then the SGD steps: T counts both.
    IAI_CHECK(c.iterations == 0 || c.iterations == 1 + c.refine_steps,
              "--iterations of a semi-amortized model is 1 + --refine-steps (",
              1 + c.refine_steps, "); got ", c.iterations);
    c.iterations = 1 + c.refine_steps;
  }
  if (c.iterations == 0) c.iterations = standard ? 1 : 5;
  if (c.samples == 0) c.samples = c.inference == "iterative" ? 10 : 1;
  IAI_CHECK(!standard || c.iterations == 1,
            "--iterations must be 1 with --inference ", c.inference,
            " (it maps x to lambda in one pass); got ", c.iterations);
  check_positive(c.iterations, "iterations");
  IAI_CHECK(c.inference != "iterative" || c.encoding != "none" || c.encode_data,
            "--encoding none needs --encode-data: the model would have no input");
  IAI_CHECK(c.inference != "semi-amortized" || c.posterior == "gaussian",
            "--inference semi-amortized needs --posterior gaussian");
  IAI_CHECK(c.inference != "ladder" || c.posterior == "gaussian",
            "--inference ladder needs --posterior gaussian");
  check_positive(c.refine_steps, "refine-steps");
  IAI_CHECK(c.refine_lr > 0, "--refine-lr must be positive, got ", c.refine_lr);
  check_positive(c.samples, "samples");
  check_positive(c.latent, "latent");
  check_positive(c.encoder_hidden, "encoder-hidden");
  check_positive(c.decoder_hidden, "decoder-hidden");
  IAI_CHECK(c.encoder_layers >= 0, "--encoder-layers must be >= 0, got ",
            c.encoder_layers);
  IAI_CHECK(c.decoder_layers >= 0, "--decoder-layers must be >= 0, got ",
            c.decoder_layers);
  check_positive(c.batch_size, "batch-size");
  check_positive(c.epochs, "epochs");
  IAI_CHECK(c.lr > 0, "--lr must be positive, got ", c.lr);
  IAI_CHECK(c.lr_decay > 0 && c.lr_decay <= 1,
            "--lr-decay must be in (0, 1], got ", c.lr_decay);
  IAI_CHECK(c.max_train >= 0, "--max-train must be >= 0, got ", c.max_train);
  IAI_CHECK(c.max_test >= 0, "--max-test must be >= 0, got ", c.max_test);
  IAI_CHECK(c.threads >= 0, "--threads must be >= 0, got ", c.threads);
  IAI_CHECK(c.test_every >= 0, "--test-every must be >= 0, got ",
            c.test_every);
  IAI_CHECK(c.record_gradients_every >= 0,
            "--record-gradients-every must be >= 0, got ",
            c.record_gradients_every);
  return c;
}

#define IAI_CONFIG_FIELDS(X)                                                 \
  X(dataset) X(data_dir) X(train_images) X(test_images) X(max_train) X(max_test) X(model) X(latent)        \
  X(upper_latent) X(upper_hidden) X(deterministic) X(batch_norm)             \
  X(concat_latents) X(likelihood) X(output_variance) X(gaussian_mean)        \
  X(decoder_layers)                                                          \
  X(decoder_hidden) X(decoder_kind) X(inference) X(iterations) X(samples)    \
  X(encoder_layers) X(encoder_hidden) X(encoder_kind) X(encode_data)         \
  X(encoding) X(normalization) X(update) X(recurrent) X(posterior)           \
  X(refine_steps) X(refine_lr)                                               \
  X(batch_size) X(epochs) X(lr) X(lr_decay) X(seed) X(threads) X(out)        \
  X(test_every) X(record_gradients_every)

nlohmann::json to_json(const TrainConfig& c) {
  nlohmann::json j;
#define IAI_WRITE(name) j[#name] = c.name;
  IAI_CONFIG_FIELDS(IAI_WRITE)
#undef IAI_WRITE
  return j;
}

TrainConfig config_from_json(const nlohmann::json& j) {
  TrainConfig c;
  std::set<std::string> known;
#define IAI_READ(name)                                                  \
  known.insert(#name);                                                  \
  if (j.contains(#name)) j.at(#name).get_to(c.name);
  try {
    IAI_CONFIG_FIELDS(IAI_READ)
  } catch (const nlohmann::json::exception& e) {
    throw Error(message("saved config has a value of the wrong type: ",
                        e.what()));
  }
#undef IAI_READ
  for (const auto& item : j.items()) {
    IAI_CHECK(known.count(item.key()), "saved config has an unknown key '",
              item.key(), "'");
  }
  return c;
}

}  // namespace iai::train
