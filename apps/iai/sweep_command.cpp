// `iai sweep`: Figure 7's training sweeps over T and S.

#include "cli.h"

#include "iai/analysis/sweep.h"
#include "iai/core/output_folder.h"
#include "iai/core/runtime.h"
#include "iai/train/config/options.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <utility>
#include <variant>

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
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--s-values", c->s_values, "S values of the S sweep")
      ->delimiter(',')
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--fixed-samples", c->fixed_samples, "S during the T sweep")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--fixed-iterations", c->fixed_iterations,
                  "T during the S sweep")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--eval-examples", c->eval_examples,
                  "Test examples for each run's ELBO (0 = all)")
      ->check(range_check(train::OptionRange::kNonNegative, true))
      ->capture_default_str();
  cmd->add_option("--out", c->out, "Folder for the runs, sweep.csv and plots")
      ->capture_default_str();
  // The shared training settings: the train options of the same names,
  // described per run.
  const std::pair<const char*, const char*> shared[] = {
      {"data_dir", "MNIST folder (default: data/mnist)"},
      {"epochs", "Epochs per run"},
      {"max_train", "Training examples per run (0 = all)"},
      {"batch_size", "Examples per batch"},
      {"lr", "Adam learning rate"},
      {"latent", "Z, latent dimensions"},
      {"encoder_hidden", "Encoder units per layer"},
      {"encoder_layers", "Encoder hidden layers"},
      {"decoder_hidden", "Decoder units per layer"},
      {"decoder_layers", "Decoder hidden layers"},
      {"test_every",
       "Test-set ELBO every N epochs during each run (0 = never)"}};
  for (const auto& [name, help] : shared) {
    const auto& option = train::train_option(name);
    std::visit(
        [&](auto field) {
          add_option_flag(*cmd, option, b.*field, help)->capture_default_str();
        },
        option.field);
  }
  // Every run of the sweep takes the sweep's runtime group.
  auto runtime = std::make_shared<RuntimeOptions>();
  runtime->seed = b.seed;
  runtime->threads = b.threads;
  runtime->device = b.device;
  runtime->precision = b.precision;
  add_runtime_flags(*cmd, *runtime, "Seed of every run");
  cmd->callback([c, runtime] {
    c->base.seed = runtime->seed;
    c->base.threads = runtime->threads;
    c->base.device = runtime->device;
    c->base.precision = runtime->precision;
    check_output_folder(c->out, "--out");
    analysis::run_sweep(*c);
  });
}

}  // namespace iai::cli
