#pragma once
// Everything a training run is made of, as one documented struct (no
// compile-time hyper-parameters). Defaults are the paper's MNIST single-level
// settings (docs/reference.md#experiments). The resolved config is printed
// at start, written to
// the run folder and saved in every checkpoint. Each field's flag, help,
// allowed values and range are declared once, in train/config/options.cpp (a
// new field needs an entry there); --inference names an entry of
// train/config/inference_registry.h.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace iai::train {

struct TrainConfig {
  // --- data ---
  /// Data set: "mnist" (IDX files in MNIST's layout), "omniglot"
  /// (chardata.mat), "svhn" (train_32x32.mat, test_32x32.mat), "cifar10"
  /// (the binary batches), "rcv1" (bag-of-words counts: train.feat,
  /// test.feat, vocab.new) or "idx" (any pair of IDX image files).
  std::string dataset = "mnist";
  /// The data set's folder (mnist: the four MNIST-named IDX files, plain or
  /// .gz); "" = the data set's default, data/<dataset> (resolve()).
  std::string data_dir;
  /// idx: the training and test image files, (N,H,W) uint8 IDX.
  std::string train_images;
  std::string test_images;
  /// Use only the first N training / test examples (0 = all).
  int64_t max_train = 0;
  int64_t max_test = 0;

  // --- generative model ---
  /// "single" (one latent level) or "hierarchical" (a chain of levels with
  /// empirical priors, Section 4.1).
  std::string model = "single";
  /// p(x | z): "bernoulli" (binary images), "gaussian" (images in [0, 1])
  /// or "multinomial" (word counts); "" = the data set's (gaussian for
  /// svhn and cifar10, multinomial for rcv1, bernoulli otherwise). Bernoulli
  /// data are binarised, Gaussian data dequantised, afresh for every batch.
  std::string likelihood;
  /// Gaussian output: log-variance from a "head" per example, one learned
  /// value per "dimension", a "single" learned value, or "fixed" at 0.
  std::string output_variance = "dimension";
  /// Gaussian output: "sigmoid" (data in [0, 1], docs/reference.md) or "linear"
  /// mean.
  std::string gaussian_mean = "sigmoid";
  /// Z (Z_1 of a hierarchical model): latent dimensions.
  int64_t latent = 64;
  /// Hierarchical: latent dimensions of the levels above level 1, bottom
  /// first (empty with --model hierarchical = the paper's {32}).
  std::vector<int64_t> upper_latent;
  /// Hierarchical: units per hidden layer of the upper levels' networks
  /// (encoder and decoder).
  int64_t upper_hidden = 256;
  /// Hierarchical: deterministic units each level passes down to the one
  /// below (the paper's MNIST: 64).
  int64_t deterministic = 0;
  /// Batch normalisation in every network (encoder and decoder).
  bool batch_norm = false;
  /// Hierarchical: the output decoder reads every level's z, not z_1 alone.
  bool concat_latents = false;
  /// Decoder: hidden layers, units, layer type (sequential | highway).
  int64_t decoder_layers = 2;
  int64_t decoder_hidden = 512;
  std::string decoder_kind = "sequential";
  /// A TorchScript file to use as level 1's decoder in place of the MLP
  /// ("" = the MLP); as given, for the record.
  std::string decoder;
  /// That file's bytes, read when a run starts and kept in its checkpoints
  /// (not an option: never in config.json).
  std::string decoder_script;

  // --- inference ---
  /// "standard" (one pass from x; bottom-up for a hierarchical model),
  /// "iterative" (Section 4), "semi-amortized" (a standard encoder refined
  /// by refine_steps SGD steps on lambda, trained through them: SA-VAE, Kim
  /// et al. 2018) or "ladder" (hierarchical only: bottom-up estimates
  /// combined with the top-down priors, Ladder VAE).
  std::string inference = "iterative";
  /// T: inference iterations. 0 = the paper's (5 iterative, 1 standard).
  int64_t iterations = 0;
  /// S: samples per ELBO estimate. 0 = the paper's (10 iterative, 1 standard).
  int64_t samples = 0;
  /// Encoder: hidden layers, units, layer type.
  int64_t encoder_layers = 2;
  int64_t encoder_hidden = 512;
  std::string encoder_kind = "highway";
  /// Iterative models: also encode the data, besides the gradient.
  bool encode_data = true;
  /// Iterative models: what they read of the ELBO: gradient | error | none.
  std::string encoding = "gradient";
  /// Error-encoding models: errors precision-weighted | none (raw).
  std::string error_weighting = "precision";
  /// Iterative models: normalisation of that signal: log-sign | layer | none.
  std::string normalization = "log-sign";
  /// Iterative models: update form: highway | direct.
  std::string update = "highway";
  /// Iterative models: an LSTM cell carries state across iterations.
  bool recurrent = false;
  /// q(z | x): "gaussian" or "point" (q = delta(mu), MAP inference).
  std::string posterior = "gaussian";
  /// Semi-amortized: SGD steps on lambda after the encoder, and their size
  /// (on each example's own ELBO gradient).
  int64_t refine_steps = 5;
  double refine_lr = 0.5;

  // --- optimisation ---
  int64_t batch_size = 64;
  int64_t epochs = 10;
  /// Adam learning rate of both parameter groups; x lr_decay per epoch.
  double lr = 2e-4;
  double lr_decay = 0.999;
  /// Non-finite steps (any iteration's ELBO, encoded input or gradient) to
  /// skip, with a warning, before training stops (0 = stop at the first).
  /// A key old config.json files lack: they load with 0.
  int64_t skip_nonfinite = 0;
  /// Fixes data order, binarisation and sampling.
  uint64_t seed = 1;
  /// Intra-op threads (0 = one per usable CPU: affinity mask, cgroup quota).
  int threads = 0;
  /// --device: cpu, cuda, cuda:N or auto (core/device.h). A run records the
  /// device it resolved to ("cpu", "cuda:0"); not part of its numbers: a
  /// resume takes its own --device (default auto). Old config.json files
  /// lack the key: they load with "auto".
  std::string device = "auto";
  /// --cuda-graph: auto captures the training step in a CUDA graph when
  /// training on a GPU (train/step/step_graph.h); off runs every kernel
  /// eagerly. Changes no number. Old config.json files lack the key: "auto".
  std::string cuda_graph = "auto";
  /// --precision: fp32, tf32 or bf16 on a GPU (core/precision.h). Part of a
  /// run's numbers: a resume keeps it. Old config.json files lack the key:
  /// they load with "fp32".
  std::string precision = "fp32";

  // --- output ---
  /// Run folder (checkpoint.pt, config.json, metrics.jsonl).
  std::string out;
  /// Test-set ELBO after every N epochs (0 = never).
  int64_t test_every = 1;
  /// Checkpoints inside an epoch, besides the one at each epoch's end: after
  /// every N training steps (counted across epochs; 0 = not by steps) and
  /// once M minutes have passed since the last one (0 = not by time). They
  /// hold the position in the epoch, so a resume from one continues
  /// bit-identically. Not part of the run's numbers: --resume may change
  /// them.
  int64_t checkpoint_every = 0;
  double checkpoint_minutes = 10;

  // --- diagnostics ---
  /// Figure 6: mean |grad_mu L| per inference iteration, recorded on the
  /// training batch of steps 1, 1 + N, 1 + 2N, ... into gradients.jsonl
  /// (0 = never).
  int64_t record_gradients_every = 50;
};

/// Fills the "0 = paper default" fields and checks every value; throws
/// iai::Error naming the offending flag.
TrainConfig resolve(TrainConfig config);

nlohmann::json to_json(const TrainConfig& config);
/// Reads a config saved by to_json; unknown keys are an error.
TrainConfig config_from_json(const nlohmann::json& json);

}  // namespace iai::train
