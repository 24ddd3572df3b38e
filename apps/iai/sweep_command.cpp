// `iai sweep`: Figure 7's training sweeps over T and S.

#include "cli.h"

#include "iai/analysis/sweep.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace iai::cli {

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sweep",
      "Figure 7: train iterative models (gradient / error encoding, with and "
      "without data) over inference iterations T and samples S, and the "
      "standard model over S; writes sweep.csv and two PNG plots. Runs "
      "already in --out are resumed, not retrained.");
  auto c = std::make_shared<analysis::SweepConfig>();
  c->base.epochs = 1;
  c->base.max_train = 10000;
  c->base.test_every = 0;
  add_config_option(*cmd);
  auto& b = c->base;
  cmd->add_option("--variants", c->variants,
                  "gradient, gradient-nodata, error, error-nodata, standard")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--t-values", c->t_values, "T values of the T sweep")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--s-values", c->s_values, "S values of the S sweep")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--fixed-samples", c->fixed_samples, "S during the T sweep")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--fixed-iterations", c->fixed_iterations,
                  "T during the S sweep")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--eval-examples", c->eval_examples,
                  "Test examples for each run's ELBO (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--out", c->out, "Folder for the runs, sweep.csv and plots")
      ->capture_default_str();
  cmd->add_option("--data-dir", b.data_dir, "MNIST folder")->capture_default_str();
  cmd->add_option("--epochs", b.epochs, "Epochs per run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-train", b.max_train,
                  "Training examples per run (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--batch-size", b.batch_size, "Examples per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lr", b.lr, "Adam learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--latent", b.latent, "Z, latent dimensions")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--encoder-hidden", b.encoder_hidden, "Encoder units per layer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--encoder-layers", b.encoder_layers, "Encoder hidden layers")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--decoder-hidden", b.decoder_hidden, "Decoder units per layer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--decoder-layers", b.decoder_layers, "Decoder hidden layers")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--test-every", b.test_every,
                  "Test-set ELBO every N epochs during each run (0 = never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", b.seed, "Seed of every run")->capture_default_str();
  cmd->add_option("--threads", b.threads, "CPU threads (0 = one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->callback([c] { analysis::run_sweep(*c); });
}

}  // namespace iai::cli
