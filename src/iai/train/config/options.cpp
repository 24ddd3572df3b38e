#include "iai/train/config/options.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/precision.h"
#include "iai/data/dataset.h"
#include "iai/inference/encoder_options.h"
#include "iai/inference/feedback.h"
#include "iai/inference/input_encoding.h"
#include "iai/model/output_likelihood.h"
#include "iai/nn/mlp.h"
#include "iai/train/config/inference_registry.h"
#include "iai/train/step/step_graph.h"

#include <algorithm>
#include <type_traits>

namespace iai::train {

namespace {

using G = OptionGroup;
using T = TrainConfig;

/// Sets an entry's optional parts in a readable chain.
struct Entry {
  OptionSpec spec;
  Entry& one_of(const std::vector<std::string>& names) {
    spec.allowed = names;
    return *this;
  }
  Entry& positive() { return range(OptionRange::kPositive); }
  Entry& non_negative() { return range(OptionRange::kNonNegative); }
  Entry& range(OptionRange r) {
    spec.range = r;
    return *this;
  }
  /// "" / 0 = derived by resolve(), so no default to show.
  Entry& derived() {
    spec.derived = true;
    return no_default();
  }
  Entry& no_default() {
    spec.show_default = false;
    return *this;
  }
  Entry& resumable() {
    spec.resumable = true;
    return *this;
  }
};

std::vector<OptionSpec> make_table() {
  std::vector<Entry> t;
  auto add = [&t](const char* name, OptionField field, OptionGroup group,
                  const std::string& help) -> Entry& {
    t.push_back({OptionSpec{name, field, group, help}});
    return t.back();
  };
  add("data_dir", &T::data_dir, G::kData,
      "The data set's folder (default: data/<dataset>: data/mnist, "
      "data/cifar10, ...); for mnist the four MNIST-named IDX files, plain "
      "or .gz")
      .derived();
  add("dataset", &T::dataset, G::kData,
      "Data set in --data-dir: mnist (IDX files), omniglot "
      "(chardata.mat), svhn (train_32x32.mat, test_32x32.mat), "
      "cifar10 (binary batches), rcv1 (word counts: train.feat, "
      "test.feat, vocab.new) or idx (--train-images, --test-images)")
      .one_of(data::dataset_names());
  add("train_images", &T::train_images, G::kData,
      "--dataset idx: training images, (N,H,W) uint8 IDX")
      .no_default();
  add("test_images", &T::test_images, G::kData,
      "--dataset idx: test images, (N,H,W) uint8 IDX")
      .no_default();
  add("inference", &T::inference, G::kInference, inference_help())
      .one_of(inference_names());
  add("iterations", &T::iterations, G::kInference,
      "T, inference iterations per batch (default: 5 iterative, "
      "1 standard)")
      .positive()
      .derived();
  add("samples", &T::samples, G::kInference,
      "S, samples per ELBO estimate (default: 10 iterative, 1 "
      "standard)")
      .positive()
      .derived();
  add("model", &T::model, G::kModel,
      "Generative model: single (one latent level) or "
      "hierarchical (a chain with empirical priors, Section 4.1)")
      .one_of({"single", "hierarchical"});
  add("likelihood", &T::likelihood, G::kModel,
      "p(x | z): bernoulli (binary images, binarised afresh each "
      "batch), gaussian (dequantised images in [0, 1]) or "
      "multinomial (word counts); default the data set's "
      "(gaussian for svhn, cifar10; multinomial for rcv1)")
      .one_of(model::likelihood_names())
      .derived();
  add("output_variance", &T::output_variance, G::kModel,
      "Gaussian output log-variance: head (per example, clamped "
      "to [-7, 15]), dimension (one learned value each), single "
      "(one learned value) or fixed (0)")
      .one_of(model::output_variance_names());
  add("gaussian_mean", &T::gaussian_mean, G::kModel,
      "Gaussian output mean: sigmoid (data in [0, 1]) or linear")
      .one_of({"sigmoid", "linear"});
  add("latent", &T::latent, G::kModel,
      "Z, latent dimensions (of level 1 when hierarchical)")
      .positive();
  add("upper_latent", &T::upper_latent, G::kModel,
      "Hierarchical: latent dimensions of the levels above level "
      "1, bottom first; repeat for more levels (default 32)")
      .positive()
      .derived();
  add("upper_hidden", &T::upper_hidden, G::kModel,
      "Hierarchical: units per hidden layer of the upper levels' "
      "encoder and decoder networks")
      .positive();
  add("deterministic", &T::deterministic, G::kModel,
      "Hierarchical: deterministic units each level passes down "
      "to the one below (paper: 64)")
      .non_negative();
  add("batch_norm", &T::batch_norm, G::kModel,
      "Batch normalisation in every network");
  add("concat_latents", &T::concat_latents, G::kModel,
      "Hierarchical: the output decoder reads every level's z");
  add("encoder_layers", &T::encoder_layers, G::kInference,
      "Inference model hidden layers")
      .non_negative();
  add("encoder_hidden", &T::encoder_hidden, G::kInference,
      "Inference model units per layer")
      .positive();
  add("encoder_kind", &T::encoder_kind, G::kInference,
      "Inference model layer type")
      .one_of(nn::mlp_kind_names());
  add("encode_data", &T::encode_data, G::kInference,
      "Iterative model: also encode the data (default on)");
  add("encoding", &T::encoding, G::kInference,
      "Iterative model input: gradient (eq. 6-8), error (eq. "
      "14-15, precision-weighted eq. 11-12) or none (data only)")
      .one_of(inference::feedback_kind_names());
  add("error_weighting", &T::error_weighting, G::kInference,
      "Error encoding: errors divided by their variances (precision, eq. "
      "11-12) or raw, x - E[x|z] and z - mu_p (none)")
      .one_of(inference::error_weighting_names());
  add("normalization", &T::normalization, G::kInference,
      "Iterative model: normalisation of the encoded signal: "
      "log-sign (log|g|, sign g), layer (over the batch) or none")
      .one_of(inference::normalization_names());
  add("update", &T::update, G::kInference,
      "Iterative model update: highway (gated, eq. 7-8) or direct")
      .one_of(inference::update_form_names());
  add("recurrent", &T::recurrent, G::kInference,
      "Iterative model: an LSTM cell whose state carries across "
      "the iterations of a batch (default off)");
  add("posterior", &T::posterior, G::kInference,
      "Approximate posterior: gaussian, or point (q = delta(mu), "
      "MAP inference)")
      .one_of({"gaussian", "point"});
  add("refine_steps", &T::refine_steps, G::kInference,
      "Semi-amortized: SGD steps on lambda after the encoder")
      .positive();
  add("refine_lr", &T::refine_lr, G::kInference,
      "Semi-amortized: SGD step size on each example's ELBO")
      .positive();
  add("decoder_layers", &T::decoder_layers, G::kModel,
      "Decoder hidden layers (0 = linear decoder)")
      .non_negative();
  add("decoder_hidden", &T::decoder_hidden, G::kModel,
      "Decoder units per layer")
      .positive();
  add("decoder_kind", &T::decoder_kind, G::kModel, "Decoder layer type")
      .one_of(nn::mlp_kind_names());
  add("decoder", &T::decoder, G::kModel,
      "A decoder of your own: a TorchScript file (torch.jit.script or "
      "torch.jit.trace, then save) mapping z (N, Z) to the likelihood's "
      "parameter (N, D), or to (mean, log-variance) with --output-variance "
      "head; it replaces decoder-layers, -hidden and -kind, and the run's "
      "checkpoints carry it (docs/your-model.md)")
      .no_default();
  add("batch_size", &T::batch_size, G::kOptimisation, "Examples per batch")
      .positive();
  add("epochs", &T::epochs, G::kOptimisation, "Epochs to train (in total)")
      .positive()
      .resumable();
  add("lr", &T::lr, G::kOptimisation, "Adam learning rate (both models)")
      .positive();
  add("lr_decay", &T::lr_decay, G::kOptimisation,
      "Learning-rate factor per epoch")
      .range(OptionRange::kFraction);
  add("skip_nonfinite", &T::skip_nonfinite, G::kOptimisation,
      "Skip up to K batches with a non-finite ELBO, encoded input or "
      "gradient (warned, counted in metrics.jsonl) before stopping; "
      "0 = stop at the first")
      .non_negative();
  add("seed", &T::seed, G::kRuntime,
      "Seed for data order, binarisation and sampling");
  add("threads", &T::threads, G::kRuntime,
      "CPU threads (0 = one per CPU this process may use: its affinity mask, "
      "capped by a cgroup quota)")
      .non_negative()
      .resumable();
  add("device", &T::device, G::kRuntime, kDeviceHelp).resumable();
  add("precision", &T::precision, G::kRuntime, kPrecisionHelp)
      .one_of({"fp32", "tf32", "bf16"});
  add("cuda_graph", &T::cuda_graph, G::kOptimisation, kCudaGraphHelp)
      .one_of({"auto", "off"});
  add("max_train", &T::max_train, G::kData,
      "Use only the first N training examples (0 = all)")
      .non_negative();
  add("max_test", &T::max_test, G::kData,
      "Use only the first N test examples (0 = all)")
      .non_negative();
  add("test_every", &T::test_every, G::kOutput,
      "Test-set ELBO every N epochs (0 = never)")
      .non_negative();
  add("checkpoint_every", &T::checkpoint_every, G::kOutput,
      "Also write a checkpoint (with the position in the epoch) every N "
      "training steps (0 = not by steps)")
      .non_negative()
      .resumable();
  add("checkpoint_minutes", &T::checkpoint_minutes, G::kOutput,
      "Also write a checkpoint once M minutes have passed since the last "
      "(0 = only at epoch ends and --checkpoint-every)")
      .non_negative()
      .resumable();
  add("record_gradients_every", &T::record_gradients_every, G::kOutput,
      "Figure 6: record mean |grad_mu L| per inference iteration "
      "every N training steps into gradients.jsonl (0 = never)")
      .non_negative();
  add("out", &T::out, G::kOutput,
      "Run folder (default runs/<inference>-<date>-<time>); an "
      "existing run is never overwritten")
      .no_default();

  std::vector<OptionSpec> specs;
  for (auto& e : t) specs.push_back(std::move(e.spec));
  return specs;
}

template <typename V>
void check_range(const OptionSpec& o, V value) {
  bool ok = true;
  switch (o.range) {
    case OptionRange::kAny:
      return;
    case OptionRange::kPositive:
      ok = value > 0;
      break;
    case OptionRange::kNonNegative:
      ok = value >= 0;
      break;
    case OptionRange::kFraction:
      ok = value > 0 && value <= 1;
      break;
  }
  if (!ok) {
    throw Error(
        range_error(o.flag(), o.range, std::is_integral_v<V>, message(value)));
  }
}

void check_value(const OptionSpec& o, const std::string& value) {
  if (o.allowed.empty() ||
      std::count(o.allowed.begin(), o.allowed.end(), value)) {
    return;
  }
  // Listed sorted, as the messages always were.
  auto sorted = o.allowed;
  std::sort(sorted.begin(), sorted.end());
  std::string list;
  for (const auto& v : sorted) list += (list.empty() ? "" : ", ") + v;
  throw Error(
      message(o.flag(), " must be one of ", list, "; got '", value, "'"));
}
template <typename V>
void check_value(const OptionSpec& o, V value) {
  check_range(o, value);
}
void check_value(const OptionSpec&, bool) {}
void check_value(const OptionSpec& o, const std::vector<int64_t>& values) {
  for (int64_t v : values) check_range(o, v);
}

}  // namespace

std::string range_error(const std::string& flag, OptionRange range, bool whole,
                        const std::string& value) {
  const char* bound = "";
  switch (range) {
    case OptionRange::kAny:
      break;
    case OptionRange::kPositive:
      bound = whole ? "≥ 1" : "> 0";
      break;
    case OptionRange::kNonNegative:
      bound = "≥ 0";
      break;
    case OptionRange::kFraction:
      bound = "in (0, 1]";
      break;
  }
  return message(flag, " must be ", bound, " (got ", value, ")");
}

std::string default_data_dir(const std::string& dataset) {
  return dataset == "idx" ? std::string() : "data/" + dataset;
}

std::string OptionSpec::flag() const {
  std::string f = "--" + name;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

const std::vector<OptionSpec>& train_options() {
  static const std::vector<OptionSpec> table = make_table();
  return table;
}

const OptionSpec& train_option(const std::string& name) {
  for (const auto& o : train_options()) {
    if (o.name == name) return o;
  }
  throw Error(message("no training option named '", name, "'"));
}

void check_option(const OptionSpec& o, const TrainConfig& c) {
  std::visit([&](auto field) { check_value(o, c.*field); }, o.field);
}

std::string resumable_flags() {
  std::vector<std::string> flags;
  for (const auto& o : train_options()) {
    if (o.resumable) flags.push_back(o.flag());
  }
  std::string out;
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i > 0) out += i + 1 == flags.size() ? " and " : ", ";
    out += flags[i];
  }
  return out;
}

void copy_option(const OptionSpec& option, const TrainConfig& from,
                 TrainConfig& to) {
  std::visit([&](auto field) { to.*field = from.*field; }, option.field);
}

}  // namespace iai::train
