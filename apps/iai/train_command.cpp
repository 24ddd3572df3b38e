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

  // Every option of train/options.h, in its order, then --resume.
  add_train_options(*cmd, *c);
  add_launch_flags(*cmd);
  cmd->add_option("--resume", *resume,
                  "Continue the run in this folder from its checkpoint (or "
                  "checkpoint.prev.pt when that is unreadable), with its "
                  "saved config (only --epochs, --threads, "
                  "--device, --checkpoint-every and --checkpoint-minutes may "
                  "change)")
      ->group("Output");

  cmd->callback([cmd, c, resume] {
    if (resume->empty()) {
      train::run_train(*c);
      return;
    }
    // What the run's numbers do not depend on (and --epochs, to go on).
    const std::set<std::string> allowed = {
        "--resume",           "--epochs", "--threads", "--device",
        "--checkpoint-every", "--checkpoint-minutes", "--help"};
    for (const auto* opt : cmd->get_options()) {
      if (opt->count() > 0 && !allowed.count(opt->get_name())) {
        throw Error(message(opt->get_name(),
                            " cannot be combined with --resume: a resumed run "
                            "keeps its saved config (only --epochs, "
                            "--threads, --device, --checkpoint-every and "
                            "--checkpoint-minutes may change)"));
      }
    }
    train::ResumeChanges changes;
    if (cmd->count("--epochs")) changes.epochs = c->epochs;
    if (cmd->count("--threads")) changes.threads = c->threads;
    if (cmd->count("--device")) changes.device = c->device;
    if (cmd->count("--checkpoint-every")) {
      changes.checkpoint_every = c->checkpoint_every;
    }
    if (cmd->count("--checkpoint-minutes")) {
      changes.checkpoint_minutes = c->checkpoint_minutes;
    }
    train::resume_train(*resume, changes);
  });
}

}  // namespace iai::cli
