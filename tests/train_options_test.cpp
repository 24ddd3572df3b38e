// The option table (train/options.h) and the inference registry
// (train/inference_registry.h): config.json keeps its keys, resolve() keeps
// its messages and each procedure its T, S and training step.

#include "test_support.h"

#include "iai/train/config.h"
#include "iai/train/inference_registry.h"
#include "iai/train/options.h"

#include <nlohmann/json.hpp>

#include <set>

namespace {

using iai::testing::contains;
using iai::testing::error_of;
using namespace iai::train;

TEST(TrainOptionsTest, ConfigJsonKeysAreThoseOfOldRunFolders) {
  // Old run folders and checkpoints hold exactly these keys.
  const std::set<std::string> old_keys = {
      "dataset", "data_dir", "train_images", "test_images", "max_train",
      "max_test", "model", "latent", "upper_latent", "upper_hidden",
      "deterministic", "batch_norm", "concat_latents", "likelihood",
      "output_variance", "gaussian_mean", "decoder_layers", "decoder_hidden",
      "decoder_kind", "inference", "iterations", "samples", "encoder_layers",
      "encoder_hidden", "encoder_kind", "encode_data", "encoding",
      "normalization", "update", "recurrent", "posterior", "refine_steps",
      "refine_lr", "batch_size", "epochs", "lr", "lr_decay", "seed",
      "threads", "out", "test_every", "record_gradients_every"};
  // Keys added since (issues 14, 12), which old files lack
  // (config_from_json fills in their defaults:
  // OldConfigJsonLoadsWithNewKeysDefaulted).
  std::set<std::string> keys = old_keys;
  keys.insert({"checkpoint_every", "checkpoint_minutes", "skip_nonfinite",
               "device", "precision", "cuda_graph"});
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

}  // namespace
