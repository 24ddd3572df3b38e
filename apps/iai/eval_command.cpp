// `iai eval`: evaluates a checkpoint on the test split.

#include "cli.h"

#include "iai/analysis/run_eval.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace iai::cli {

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a checkpoint on the test split: ELBO after each inference "
      "iteration, importance-weighted log p(x), reconstruction grid (Fig. 5); "
      "writes eval.json and reconstructions.png.");
  auto c = std::make_shared<analysis::EvalConfig>();
  add_config_option(*cmd);
  cmd->add_option("--checkpoint", c->checkpoint,
                  "Run folder or checkpoint file")
      ->required();
  cmd->add_option("--iw-samples", c->iw_samples,
                  "K, importance samples for log p(x) (0 = skip)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-examples", c->max_examples,
                  "Evaluate the first N test examples (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--iterations", c->iterations,
                  "T, inference iterations (default: the model's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--samples", c->samples,
                  "S, samples per ELBO estimate (default: the model's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--data-dir", c->data_dir,
                  "Data folder (default: the one the model was trained on)");
  cmd->add_option("--out", c->out,
                  "Folder for eval.json and reconstructions.png (default: "
                  "the run folder)");
  cmd->add_option("--batch-size", c->batch_size, "Examples per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--grid-examples", c->grid_examples,
                  "Rows of the reconstruction grid (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", c->seed, "Seed for binarisation and sampling")
      ->capture_default_str();
  cmd->add_option("--threads", c->threads, "CPU threads (0 = one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->callback([c] { analysis::run_eval(*c); });
}

}  // namespace iai::cli
