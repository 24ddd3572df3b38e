// `iai eval`: evaluates a checkpoint on the test split.

#include "cli.h"

#include "iai/analysis/run_eval.h"
#include "iai/core/output_folder.h"
#include "iai/train/config/options.h"

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
      ->check(range_check(train::OptionRange::kNonNegative, true))
      ->capture_default_str();
  add_run_data_dir_flag(*cmd, c->data_dir);
  cmd->add_option("--out", c->out,
                  "Folder for eval.json and reconstructions.png (default: "
                  "the run folder)");
  cmd->add_option("--batch-size", c->batch_size, "Examples per batch")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--grid-examples", c->grid_examples,
                  "Rows of the reconstruction grid (0 = none)")
      ->check(range_check(train::OptionRange::kNonNegative, true))
      ->capture_default_str();
  add_inference_flags(*cmd, c->iterations, c->samples, c->max_examples,
                      c->runtime);
  add_cuda_graph_flag(*cmd, c->cuda_graph);
  add_launch_flags(*cmd);
  cmd->callback([c] {
    if (!c->out.empty()) check_output_folder(c->out, "--out");
    analysis::run_eval(*c);
  });
}

}  // namespace iai::cli
