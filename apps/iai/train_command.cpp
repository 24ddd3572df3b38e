// `iai train`: fills a TrainConfig from flags (or a TOML --config) and runs
// iai::train::run_train / resume_train.

#include "cli.h"

#include "iai/core/error.h"
#include "iai/parallel/process_group.h"
#include "iai/train/config/options.h"
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

  // Every option of train/config/options.h, in its order, then --resume.
  add_train_options(*cmd, *c);
  add_launch_flags(*cmd);
  cmd->add_option("--resume", *resume,
                  "Continue the run in this folder from its checkpoint (or "
                  "checkpoint.prev.pt when that is unreadable), with its "
                  "saved config (only " +
                      train::resumable_flags() + " may change)")
      ->group("Output");

  cmd->callback([cmd, c, resume] {
    if (resume->empty()) {
      train::run_train(*c);
      return;
    }
    // The options table marks what may change (train/config/options.h).
    std::set<std::string> allowed = {"--resume", "--help"};
    train::ResumeChanges changes;
    for (const auto& option : train::train_options()) {
      if (!option.resumable) continue;
      allowed.insert(option.flag());
      if (cmd->count(option.flag()) > 0) changes.given.insert(option.name);
    }
    for (const auto* opt : cmd->get_options()) {
      if (opt->count() > 0 && !allowed.count(opt->get_name())) {
        throw Error(message(opt->get_name(),
                            " cannot be combined with --resume: a resumed run "
                            "keeps its saved config (only ",
                            train::resumable_flags(), " may change)"));
      }
    }
    changes.values = *c;
    train::resume_train(*resume, changes, parallel::world());
  });
}

}  // namespace iai::cli
