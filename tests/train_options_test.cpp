// The option table (train/config/options.h) and the inference registry
// (train/config/inference_registry.h): config.json keeps its keys, resolve()
// keeps its messages, each procedure its T, S and training step, and every flag
// and TOML key sets its own field of TrainConfig and no other.

#include "test_support.h"

#include <CLI/CLI.hpp>

#include "cli.h"

#include "iai/train/config/config.h"
#include "iai/train/config/factory.h"
#include "iai/train/config/inference_registry.h"
#include "iai/train/config/options.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

namespace {

using iai::testing::contains;
using iai::testing::error_of;
using namespace iai::train;

TEST(TrainOptionsTest, ConfigJsonKeysAreThoseOfOldRunFolders) {
  // Old run folders and checkpoints hold exactly these keys.
  const std::set<std::string> old_keys = {
      "dataset",         "data_dir",
      "train_images",    "test_images",
      "max_train",       "max_test",
      "model",           "latent",
      "upper_latent",    "upper_hidden",
      "deterministic",   "batch_norm",
      "concat_latents",  "likelihood",
      "output_variance", "gaussian_mean",
      "decoder_layers",  "decoder_hidden",
      "decoder_kind",    "inference",
      "iterations",      "samples",
      "encoder_layers",  "encoder_hidden",
      "encoder_kind",    "encode_data",
      "encoding",        "normalization",
      "update",          "recurrent",
      "posterior",       "refine_steps",
      "refine_lr",       "batch_size",
      "epochs",          "lr",
      "lr_decay",        "seed",
      "threads",         "out",
      "test_every",      "record_gradients_every"};
  // Keys added since, which old files lack
  // (config_from_json fills in their defaults:
  // OldConfigJsonLoadsWithNewKeysDefaulted).
  std::set<std::string> keys = old_keys;
  keys.insert({"checkpoint_every", "checkpoint_minutes", "skip_nonfinite",
               "device", "precision", "cuda_graph", "decoder",
               "error_weighting"});
  std::set<std::string> written;
  const auto json = to_json(TrainConfig{});
  for (const auto& item : json.items()) written.insert(item.key());
  EXPECT_EQ(written, keys);
  std::set<std::string> names;
  for (const auto& option : train_options()) {
    EXPECT_TRUE(names.insert(option.name).second) << option.name;
  }
  EXPECT_EQ(names, keys);
  EXPECT_EQ(train_option("record_gradients_every").flag(),
            "--record-gradients-every");
}

TEST(TrainOptionsTest, OldConfigJsonLoadsWithNewKeysDefaulted) {
  auto j = to_json(TrainConfig{});
  j.erase("checkpoint_every");
  j.erase("checkpoint_minutes");
  j.erase("skip_nonfinite");
  j.erase("device");
  j.erase("precision");
  j.erase("cuda_graph");
  j["batch_size"] = 16;
  const TrainConfig c = config_from_json(j);
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_EQ(c.checkpoint_every, 0);
  EXPECT_EQ(c.checkpoint_minutes, 10.0);
  EXPECT_EQ(train_option("checkpoint_minutes").flag(), "--checkpoint-minutes");
  EXPECT_EQ(c.skip_nonfinite, 0);
  EXPECT_EQ(c.device, "auto");
  EXPECT_EQ(c.precision, "fp32");
  EXPECT_EQ(c.cuda_graph, "auto");
  TrainConfig d;
  d.skip_nonfinite = 3;
  EXPECT_EQ(config_from_json(to_json(d)).skip_nonfinite, 3);
}

TEST(TrainOptionsTest, JsonRoundTripKeepsEveryField) {
  TrainConfig c;
  c.inference = "semi-amortized";
  c.upper_latent = {8, 4};
  c.seed = 77;
  c.threads = 3;
  c.lr = 1e-3;
  c.encode_data = false;
  c.likelihood = "gaussian";
  const auto j = to_json(c);
  EXPECT_EQ(j.at("inference"), "semi-amortized");  // a string, as always
  EXPECT_EQ(to_json(config_from_json(j)), j);
  auto bad = j;
  bad["bacth_size"] = 3;
  EXPECT_TRUE(contains(error_of([&] { config_from_json(bad); }),
                       "saved config has an unknown key 'bacth_size'"));
}

TEST(TrainOptionsTest, ResolveChecksEachFieldFromTheTable) {
  TrainConfig c;
  c.batch_size = 0;
  EXPECT_TRUE(contains(error_of([&] { resolve(c); }),
                       "--batch-size must be \u2265 1 (got 0)"));
  c = TrainConfig{};
  c.encoding = "foo";
  EXPECT_TRUE(contains(error_of([&] { resolve(c); }),
                       "--encoding must be one of error, gradient, none; "
                       "got 'foo'"));
  c = TrainConfig{};
  c.lr_decay = 1.5;
  EXPECT_TRUE(contains(error_of([&] { resolve(c); }),
                       "--lr-decay must be in (0, 1] (got 1.5)"));
  c = TrainConfig{};
  c.upper_latent = {4, -1};
  c.model = "hierarchical";
  EXPECT_TRUE(contains(error_of([&] { resolve(c); }),
                       "--upper-latent must be \u2265 1 (got -1)"));
}

// Without --data-dir a data set is read from its own folder, data/<name>.
TEST(TrainOptionsTest, EachDataSetHasItsOwnDefaultFolder) {
  TrainConfig c;
  EXPECT_EQ(resolve(c).data_dir, "data/mnist");
  c.dataset = "cifar10";
  EXPECT_EQ(resolve(c).data_dir, "data/cifar10");
  c.dataset = "rcv1";
  EXPECT_EQ(resolve(c).data_dir, "data/rcv1");
  c.data_dir = "elsewhere";
  EXPECT_EQ(resolve(c).data_dir, "elsewhere");
  EXPECT_EQ(default_data_dir("svhn"), "data/svhn");
  EXPECT_EQ(default_data_dir("idx"), "");  // --train-images, --test-images
}

TEST(InferenceRegistryTest, NamesAndKindsIndexTheSameEntries) {
  EXPECT_EQ(inference_names(),
            (std::vector<std::string>{"standard", "iterative", "semi-amortized",
                                      "ladder"}));
  for (const auto& entry : inference_entries()) {
    EXPECT_EQ(&inference_entry(entry.kind), &entry);
    EXPECT_EQ(&inference_entry(entry.name), &entry);
  }
  EXPECT_TRUE(contains(error_of([] { inference_entry("amortized"); }),
                       "unknown --inference 'amortized'"));
  EXPECT_EQ(train_option("inference").allowed, inference_names());
}

TEST(InferenceRegistryTest, ResolveTakesTAndSAndTheStepFromTheEntry) {
  struct Case {
    std::string inference;
    int64_t iterations, samples;
    TrainingStep step;
  };
  for (const auto& k : {Case{"standard", 1, 1, TrainingStep::kDetached},
                        Case{"iterative", 5, 10, TrainingStep::kDetached},
                        Case{"semi-amortized", 4, 1, TrainingStep::kUnrolled},
                        Case{"ladder", 1, 1, TrainingStep::kDetached}}) {
    TrainConfig c;
    c.inference = k.inference;
    c.refine_steps = 3;
    if (k.inference == "ladder") c.model = "hierarchical";
    const auto r = resolve(c);
    EXPECT_EQ(r.iterations, k.iterations) << k.inference;
    EXPECT_EQ(r.samples, k.samples) << k.inference;
    EXPECT_EQ(inference_entry(r).training_step, k.step) << k.inference;
  }
  TrainConfig c;
  c.inference = "ladder";
  c.posterior = "point";
  c.model = "hierarchical";
  EXPECT_TRUE(contains(error_of([&] { resolve(c); }),
                       "--inference ladder needs --posterior gaussian"));
  c.inference = "semi-amortized";
  c.posterior = "gaussian";
  c.model = "single";
  c.iterations = 3;
  EXPECT_TRUE(contains(error_of([&] { resolve(c); }),
                       "--iterations of a semi-amortized model is 1 + "
                       "--refine-steps (6); got 3"));
}

// Every option reaches its own field and only that one, from a flag and
// from a TOML key: each is set to a value no other field holds, and every
// field is compared with the defaults through a list written out here by
// hand (not through the option table, whose round trip would agree with a
// field pointer aimed at the wrong field: the table's encoder_hidden entry
// aimed at &TrainConfig::decoder_hidden passes every other test here and
// fails this one).
nlohmann::json fields_of(const TrainConfig& c) {
  return {{"dataset", c.dataset},
          {"data_dir", c.data_dir},
          {"train_images", c.train_images},
          {"test_images", c.test_images},
          {"max_train", c.max_train},
          {"max_test", c.max_test},
          {"model", c.model},
          {"likelihood", c.likelihood},
          {"output_variance", c.output_variance},
          {"gaussian_mean", c.gaussian_mean},
          {"latent", c.latent},
          {"upper_latent", c.upper_latent},
          {"upper_hidden", c.upper_hidden},
          {"deterministic", c.deterministic},
          {"batch_norm", c.batch_norm},
          {"concat_latents", c.concat_latents},
          {"decoder_layers", c.decoder_layers},
          {"decoder_hidden", c.decoder_hidden},
          {"decoder_kind", c.decoder_kind},
          {"decoder", c.decoder},
          {"inference", c.inference},
          {"iterations", c.iterations},
          {"samples", c.samples},
          {"encoder_layers", c.encoder_layers},
          {"encoder_hidden", c.encoder_hidden},
          {"encoder_kind", c.encoder_kind},
          {"encode_data", c.encode_data},
          {"encoding", c.encoding},
          {"error_weighting", c.error_weighting},
          {"normalization", c.normalization},
          {"update", c.update},
          {"recurrent", c.recurrent},
          {"posterior", c.posterior},
          {"refine_steps", c.refine_steps},
          {"refine_lr", c.refine_lr},
          {"batch_size", c.batch_size},
          {"epochs", c.epochs},
          {"lr", c.lr},
          {"lr_decay", c.lr_decay},
          {"skip_nonfinite", c.skip_nonfinite},
          {"seed", c.seed},
          {"threads", c.threads},
          {"device", c.device},
          {"precision", c.precision},
          {"cuda_graph", c.cuda_graph},
          {"out", c.out},
          {"test_every", c.test_every},
          {"checkpoint_every", c.checkpoint_every},
          {"checkpoint_minutes", c.checkpoint_minutes},
          {"record_gradients_every", c.record_gradients_every}};
}

/// A value for option number i that differs from its default and from
/// every other option's: as JSON (the expected field), as command-line
/// arguments and as a TOML line.
struct Distinct {
  nlohmann::json value;
  std::vector<std::string> flag;
  std::string toml;
};

Distinct distinct_value(const OptionSpec& option, size_t i,
                        const TrainConfig& defaults) {
  const std::string flag = option.flag(), key = flag.substr(2);
  const auto number = static_cast<int64_t>(1000 + i);
  return std::visit(
      [&](auto field) -> Distinct {
        using V = std::decay_t<decltype(defaults.*field)>;
        const V& by_default = defaults.*field;
        if constexpr (std::is_same_v<V, std::string>) {
          std::string v = "v-" + option.name;
          if (option.name == "device") v = "cpu";
          for (const auto& allowed : option.allowed) {
            if (allowed != by_default) v = allowed;  // the last other one
          }
          return {v, {flag + "=" + v}, key + " = \"" + v + "\""};
        } else if constexpr (std::is_same_v<V, bool>) {
          const bool v = !by_default;
          return {v,
                  {v ? flag : "--no-" + key},
                  key + (v ? " = true" : " = false")};
        } else if constexpr (std::is_same_v<V, double>) {
          std::ostringstream text;  // in (0, 1], for --lr-decay
          text << 0.25 + static_cast<double>(i) / 1000;
          const double v = std::stod(text.str());
          return {v, {flag + "=" + text.str()}, key + " = " + text.str()};
        } else if constexpr (std::is_same_v<V, std::vector<int64_t>>) {
          const std::vector<int64_t> v = {number, 7};
          return {v,
                  {flag + "=" + std::to_string(number), flag + "=7"},
                  key + " = [" + std::to_string(number) + ", 7]"};
        } else {
          const V v = static_cast<V>(number);
          return {v,
                  {flag + "=" + std::to_string(v)},
                  key + " = " + std::to_string(v)};
        }
      },
      option.field);
}

/// `iai train`'s options (its --config and every option of the table)
/// parsed from args into a fresh TrainConfig.
TrainConfig parsed(const std::vector<std::string>& args) {
  TrainConfig config;
  const auto app = iai::cli::make_app();
  auto* train = app->add_subcommand("train");
  iai::cli::add_config_option(*train);
  iai::cli::add_train_options(*train, config);
  std::vector<std::string> all = {"train"};
  all.insert(all.end(), args.begin(), args.end());
  ::testing::internal::CaptureStderr();
  const int code = iai::cli::run_on(*app, all);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 0) << err;
  return config;
}

TEST(TrainOptionsTest, EveryFlagAndTomlKeySetsItsOwnFieldOnly) {
  const TrainConfig defaults;
  const nlohmann::json default_fields = fields_of(defaults);
  std::set<std::string> listed, named;
  for (const auto& item : default_fields.items()) listed.insert(item.key());
  for (const auto& option : train_options()) named.insert(option.name);
  ASSERT_EQ(listed, named) << "fields_of() lists every field of the table";
  EXPECT_EQ(fields_of(parsed({})), default_fields);

  const std::string toml = iai::testing::scratch_dir() + "/one.toml";
  const auto& options = train_options();
  for (size_t i = 0; i < options.size(); ++i) {
    const auto& option = options[i];
    const Distinct d = distinct_value(option, i, defaults);
    ASSERT_NE(d.value, default_fields.at(option.name)) << option.name;
    nlohmann::json expected = default_fields;
    expected[option.name] = d.value;
    EXPECT_EQ(nlohmann::json::diff(expected, fields_of(parsed(d.flag))),
              nlohmann::json::array())
        << "flag " << d.flag[0];
    std::ofstream(toml) << d.toml << "\n";
    EXPECT_EQ(
        nlohmann::json::diff(expected, fields_of(parsed({"--config", toml}))),
        nlohmann::json::array())
        << "TOML line " << d.toml;
  }
}

}  // namespace

// --inference's help and the kind lookup come from the registry: every
// entry is listed with its own help, and each kind finds its own entry
// whatever the entries' order.
TEST(TrainOptionsTest, InferenceHelpAndKindsComeFromTheRegistry) {
  const std::string help = train_option("inference").help;
  for (const auto& e : inference_entries()) {
    EXPECT_TRUE(contains(help, e.name + " (" + e.help + ")")) << e.name;
    EXPECT_EQ(inference_entry(e.kind).name, e.name);
  }
  EXPECT_EQ(train_option("inference").allowed, inference_names());
}

// The error weighting a config names reaches the procedure built from it, at
// one level and at every level of a hierarchy (the shipped hierarchical
// iterative config depends on it).
TEST(TrainOptionsTest, ErrorWeightingReachesTheProcedure) {
  using iai::inference::ErrorWeighting;
  for (const std::string model : {"single", "hierarchical"}) {
    for (const std::string weighting : {"precision", "none"}) {
      TrainConfig c;
      c.model = model;
      c.inference = "iterative";
      c.encoding = "error";
      c.error_weighting = weighting;
      c.latent = 3;
      if (model == "hierarchical") c.upper_latent = {2};
      c.encoder_hidden = c.decoder_hidden = c.upper_hidden = 4;
      auto m = iai::train::build_model(c, 5);
      auto p = iai::train::build_procedure(c, 5, m);
      EXPECT_EQ(p->error_weighting(), weighting == "none"
                                          ? ErrorWeighting::kNone
                                          : ErrorWeighting::kPrecision)
          << model << ", " << weighting;
    }
  }
}

// What `iai train --resume` may change comes from the table: exactly what a
// run's numbers do not depend on, and the epochs to go on. A seed or a
// learning rate marked resumable would let a resumed run silently differ
// from the run it continues.
TEST(TrainOptionsTest, ResumableOptionsAreThoseARunsNumbersDoNotDependOn) {
  std::set<std::string> resumable;
  for (const auto& o : train_options()) {
    if (o.resumable) resumable.insert(o.name);
  }
  EXPECT_EQ(resumable,
            (std::set<std::string>{"epochs", "threads", "device",
                                   "checkpoint_every", "checkpoint_minutes"}));
  EXPECT_EQ(iai::train::resumable_flags(),
            "--epochs, --threads, --device, --checkpoint-every and "
            "--checkpoint-minutes");
  // copy_option moves one field and nothing else.
  TrainConfig from, to;
  from.checkpoint_minutes = 7.5;
  from.lr = 0.5;
  iai::train::copy_option(train_option("checkpoint_minutes"), from, to);
  EXPECT_EQ(to.checkpoint_minutes, 7.5);
  EXPECT_EQ(to_json(to).dump(), [&] {
    TrainConfig expected;
    expected.checkpoint_minutes = 7.5;
    return to_json(expected).dump();
  }());
}
