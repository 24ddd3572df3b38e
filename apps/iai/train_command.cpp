// `iai train`: fills a TrainConfig from flags (or a TOML --config) and runs
// iai::train::run_train / resume_train.

#include "cli.h"

#include "iai/core/error.h"
#include "iai/train/trainer.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <set>

namespace iai::cli {

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train",
      "Train a latent Gaussian model with a standard or an iterative inference "
      "model (the paper's procedure; defaults: MNIST single-level settings).");
  auto c = std::make_shared<train::TrainConfig>();
  auto resume = std::make_shared<std::string>();
  add_config_option(*cmd);

  cmd->add_option("--data-dir", c->data_dir,
                  "Folder with the four MNIST-named IDX files, plain or .gz")
      ->capture_default_str();
  cmd->add_option("--dataset", c->dataset,
                  "Data set in --data-dir: mnist (IDX files), omniglot "
                  "(chardata.mat), svhn (train_32x32.mat, test_32x32.mat), "
                  "cifar10 (binary batches), rcv1 (word counts: train.feat, "
                  "test.feat, vocab.new) or idx (--train-images, --test-images)")
      ->check(CLI::IsMember({"mnist", "omniglot", "svhn", "cifar10", "rcv1", "idx"}))
      ->capture_default_str();
  cmd->add_option("--train-images", c->train_images,
                  "--dataset idx: training images, (N,H,W) uint8 IDX");
  cmd->add_option("--test-images", c->test_images,
                  "--dataset idx: test images, (N,H,W) uint8 IDX");
  cmd->add_option("--inference", c->inference,
                  "Inference model: standard (one pass from x), iterative "
                  "(Section 4: --encoding, --update, --recurrent ...) or "
                  "semi-amortized (standard + --refine-steps SGD steps, "
                  "trained through them: SA-VAE) or ladder (hierarchical "
                  "models: bottom-up estimates precision-weighted with the "
                  "top-down priors, Ladder VAE)")
      ->check(CLI::IsMember({"standard", "iterative", "semi-amortized", "ladder"}))
      ->capture_default_str();
  cmd->add_option("--iterations", c->iterations,
                  "T, inference iterations per batch (default: 5 iterative, "
                  "1 standard)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--samples", c->samples,
                  "S, samples per ELBO estimate (default: 10 iterative, 1 "
                  "standard)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--model", c->model,
                  "Generative model: single (one latent level) or "
                  "hierarchical (a chain with empirical priors, Section 4.1)")
      ->check(CLI::IsMember({"single", "hierarchical"}))
      ->capture_default_str();
  cmd->add_option("--likelihood", c->likelihood,
                  "p(x | z): bernoulli (binary images, binarised afresh each "
                  "batch), gaussian (dequantised images in [0, 1]) or "
                  "multinomial (word counts); default the data set's "
                  "(gaussian for svhn, cifar10; multinomial for rcv1)")
      ->check(CLI::IsMember({"bernoulli", "gaussian", "multinomial"}));
  cmd->add_option("--output-variance", c->output_variance,
                  "Gaussian output log-variance: head (per example, clamped "
                  "to [-7, 15]), dimension (one learned value each), single "
                  "(one learned value) or fixed (0)")
      ->check(CLI::IsMember({"dimension", "single", "head", "fixed"}))
      ->capture_default_str();
  cmd->add_option("--gaussian-mean", c->gaussian_mean,
                  "Gaussian output mean: sigmoid (data in [0, 1]) or linear")
      ->check(CLI::IsMember({"sigmoid", "linear"}))
      ->capture_default_str();
  cmd->add_option("--latent", c->latent,
                  "Z, latent dimensions (of level 1 when hierarchical)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--upper-latent", c->upper_latent,
                  "Hierarchical: latent dimensions of the levels above level "
                  "1, bottom first; repeat for more levels (default 32)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--upper-hidden", c->upper_hidden,
                  "Hierarchical: units per hidden layer of the upper levels' "
                  "encoder and decoder networks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--deterministic", c->deterministic,
                  "Hierarchical: deterministic units each level passes down "
                  "to the one below (paper: 64)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--batch-norm,!--no-batch-norm", c->batch_norm,
                "Batch normalisation in every network");
  cmd->add_flag("--concat-latents,!--no-concat-latents", c->concat_latents,
                "Hierarchical: the output decoder reads every level's z");
  cmd->add_option("--encoder-layers", c->encoder_layers,
                  "Inference model hidden layers")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--encoder-hidden", c->encoder_hidden,
                  "Inference model units per layer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--encoder-kind", c->encoder_kind,
                  "Inference model layer type")
      ->check(CLI::IsMember({"sequential", "highway"}))
      ->capture_default_str();
  cmd->add_flag("--encode-data,!--no-encode-data", c->encode_data,
                "Iterative model: also encode the data (default on)");
  cmd->add_option("--encoding", c->encoding,
                  "Iterative model input: gradient (eq. 6-8), error (eq. "
                  "14-15, precision-weighted eq. 11-12) or none (data only)")
      ->check(CLI::IsMember({"gradient", "error", "none"}))
      ->capture_default_str();
  cmd->add_option("--normalization", c->normalization,
                  "Iterative model: normalisation of the encoded signal: "
                  "log-sign (log|g|, sign g), layer (over the batch) or none")
      ->check(CLI::IsMember({"log-sign", "layer", "none"}))
      ->capture_default_str();
  cmd->add_option("--update", c->update,
                  "Iterative model update: highway (gated, eq. 7-8) or direct")
      ->check(CLI::IsMember({"highway", "direct"}))
      ->capture_default_str();
  cmd->add_flag("--recurrent,!--no-recurrent", c->recurrent,
                "Iterative model: an LSTM cell whose state carries across "
                "the iterations of a batch (default off)");
  cmd->add_option("--posterior", c->posterior,
                  "Approximate posterior: gaussian, or point (q = delta(mu), "
                  "MAP inference)")
      ->check(CLI::IsMember({"gaussian", "point"}))
      ->capture_default_str();
  cmd->add_option("--refine-steps", c->refine_steps,
                  "Semi-amortized: SGD steps on lambda after the encoder")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--refine-lr", c->refine_lr,
                  "Semi-amortized: SGD step size on each example's ELBO")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--decoder-layers", c->decoder_layers,
                  "Decoder hidden layers (0 = linear decoder)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--decoder-hidden", c->decoder_hidden,
                  "Decoder units per layer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--decoder-kind", c->decoder_kind, "Decoder layer type")
      ->check(CLI::IsMember({"sequential", "highway"}))
      ->capture_default_str();
  cmd->add_option("--batch-size", c->batch_size, "Examples per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--epochs", c->epochs, "Epochs to train (in total)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lr", c->lr, "Adam learning rate (both models)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lr-decay", c->lr_decay,
                  "Learning-rate factor per epoch")
      ->check(CLI::Range(1e-9, 1.0))
      ->capture_default_str();
  cmd->add_option("--seed", c->seed,
                  "Seed for data order, binarisation and sampling")
      ->capture_default_str();
  cmd->add_option("--threads", c->threads, "CPU threads (0 = one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-train", c->max_train,
                  "Use only the first N training examples (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-test", c->max_test,
                  "Use only the first N test examples (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--test-every", c->test_every,
                  "Test-set ELBO every N epochs (0 = never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--record-gradients-every", c->record_gradients_every,
                  "Figure 6: record mean |grad_mu L| per inference iteration "
                  "every N training steps into gradients.jsonl (0 = never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--out", c->out,
                  "Run folder (default runs/<inference>-<date>-<time>); an "
                  "existing run is never overwritten");
  cmd->add_option("--resume", *resume,
                  "Continue the run in this folder from its checkpoint, with "
                  "its saved config (only --epochs and --threads may change)");

  cmd->callback([cmd, c, resume] {
    if (resume->empty()) {
      train::run_train(*c);
      return;
    }
    const std::set<std::string> allowed = {"--resume", "--epochs", "--threads",
                                           "--help"};
    for (const auto* opt : cmd->get_options()) {
      if (opt->count() > 0 && !allowed.count(opt->get_name())) {
        throw Error(message(opt->get_name(),
                            " cannot be combined with --resume: a resumed run "
                            "keeps its saved config (only --epochs and "
                            "--threads may change)"));
      }
    }
    std::optional<int64_t> epochs;
    std::optional<int> threads;
    if (cmd->count("--epochs")) epochs = c->epochs;
    if (cmd->count("--threads")) threads = c->threads;
    train::resume_train(*resume, epochs, threads);
  });
}

}  // namespace iai::cli
