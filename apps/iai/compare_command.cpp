// `iai compare` and `iai gap`: a trained model's inference against plain
// optimisers (Figure 4) and its amortisation gap (Cremer et al. 2018).

#include "cli.h"

#include "iai/analysis/amortization_gap.h"
#include "iai/analysis/inference_comparison.h"
#include "iai/core/output_folder.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/train/config/options.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace iai::cli {

namespace {

/// The flags compare and gap share after their own: tuning, output folder,
/// data folder, seed, threads.
void add_analysis_flags(CLI::App& cmd, int64_t& tune_examples,
                        int64_t& tune_iterations, std::string& out,
                        const std::string& out_help, std::string& data_dir,
                        RuntimeOptions& runtime) {
  cmd.add_option("--tune-examples", tune_examples,
                 "Held-out examples (the training split's last) for tuning "
                 "step sizes")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd.add_option("--tune-iterations", tune_iterations,
                 "Iterations each candidate step size runs while tuning")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd.add_option("--out", out, out_help);
  add_run_data_dir_flag(cmd, data_dir);
  add_runtime_flags(cmd, runtime, "Seed for binarisation and sampling");
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Figure 4: run the model's inference procedure, optimisers on lambda "
      "(tuned step sizes) and hybrids on test examples; write ELBO per "
      "iteration and per second to compare.csv and two PNG plots.");
  auto c = std::make_shared<analysis::CompareConfig>();
  add_config_option(*cmd);
  cmd->add_option("--checkpoint", c->checkpoint,
                  "Run folder or checkpoint file")
      ->required();
  cmd->add_option("--procedures", c->procedures,
                  "Procedures: model, sgd, momentum, nesterov, rmsprop, "
                  "adagrad, adam, or model+<optimiser> (the model's own T "
                  "iterations, then the optimiser)")
      ->delimiter(',')
      ->capture_default_str();
  add_option_flag(*cmd, train::train_option("iterations"), c->iterations,
                  "Iterations of every procedure (the model's too, past its "
                  "training T)")
      ->capture_default_str();
  add_option_flag(*cmd, train::train_option("samples"), c->samples,
                  "S per ELBO estimate (default: the model's)");
  cmd->add_option("--max-examples", c->max_examples,
                  "Test examples compared (0 = all)")
      ->check(range_check(train::OptionRange::kNonNegative, true))
      ->capture_default_str();
  cmd->add_option("--batch-size", c->batch_size, "Examples per batch")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--step-size", c->step_sizes,
                  "Fixed step size name=value (repeatable, e.g. adam=0.1); "
                  "others are tuned by grid search on held-out data")
      ->delimiter(',');
  add_analysis_flags(*cmd, c->tune_examples, c->tune_iterations, c->out,
                     "Output folder (default: <run>/compare)", c->data_dir,
                     c->runtime);
  add_launch_flags(*cmd);
  cmd->callback([c] {
    if (!c->out.empty()) check_output_folder(c->out, "--out");
    analysis::run_compare(*c);
  });
}

void add_gap_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gap",
      "Amortisation and approximation gaps (Cremer et al. 2018): the "
      "model's ELBO, the ELBO after optimising lambda per example, and "
      "log p(x); writes gap.json.");
  auto c = std::make_shared<analysis::GapConfig>();
  add_config_option(*cmd);
  cmd->add_option("--checkpoint", c->checkpoint,
                  "Run folder or checkpoint file")
      ->required();
  cmd->add_option("--max-examples", c->max_examples, "Test examples (0 = all)")
      ->check(range_check(train::OptionRange::kNonNegative, true))
      ->capture_default_str();
  cmd->add_option("--batch-size", c->batch_size, "Examples per batch")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--optimizer", c->optimizer, "Optimiser that refines lambda")
      ->check(one_of_check(inference::optimizer_kind_names()))
      ->capture_default_str();
  cmd->add_option("--step-size", c->step_size,
                  "Its step size (0 = tuned on held-out data)")
      ->check(range_check(train::OptionRange::kNonNegative, false))
      ->capture_default_str();
  cmd->add_option("--refine-iterations", c->refine_iterations,
                  "Optimiser iterations after the model's own")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  add_option_flag(*cmd, train::train_option("samples"), c->samples,
                  "S for the refinement's gradients (default: the model's)");
  cmd->add_option("--elbo-samples", c->elbo_samples,
                  "Samples for the reported ELBOs")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--iw-samples", c->iw_samples, "K for log p(x)")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  add_analysis_flags(*cmd, c->tune_examples, c->tune_iterations, c->out,
                     "Folder for gap.json (default: the run folder)",
                     c->data_dir, c->runtime);
  add_launch_flags(*cmd);
  cmd->callback([c] {
    if (!c->out.empty()) check_output_folder(c->out, "--out");
    analysis::run_gap(*c);
  });
}

}  // namespace iai::cli
