// `iai surface`: Figures 1 and 3, the objective of a 2-D point-estimate
// model over its latent space for one test example, with the MAP estimate,
// gradient ascent and the run's inference model drawn on it.

#include "cli.h"

#include "iai/analysis/surface_figure.h"
#include "iai/core/output_folder.h"
#include "iai/train/config/options.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace iai::cli {

void add_surface_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "surface",
      "Figures 1 and 3: L(mu) = log p(x|mu) + log p(mu) over the 2-D latent "
      "space of a point-estimate run for one test example, with the MAP "
      "estimate, gradient ascent and the run's inference model; writes "
      "surface.png, surface_zoom.png and surface.json.");
  auto c = std::make_shared<analysis::SurfaceConfig>();
  add_config_option(*cmd);
  cmd->add_option("--run", c->run,
                  "Run folder or checkpoint file (--latent 2, --posterior "
                  "point)")
      ->required();
  cmd->add_option("--example", c->example, "Test example index")
      ->check(range_check(train::OptionRange::kNonNegative, true))
      ->capture_default_str();
  cmd->add_option("--grid", c->grid, "Grid points per axis")
      ->check(between_check(2, 1001))
      ->capture_default_str();
  cmd->add_option("--range", c->range,
                  "mu1-min,mu1-max,mu2-min,mu2-max (default: a square around "
                  "the prior mean, the MAP estimate and the trajectories)")
      ->delimiter(',')
      ->expected(4);
  add_option_flag(*cmd, train::train_option("iterations"), c->iterations,
                  "Iterations of the run's inference model (default: its "
                  "training T)");
  cmd->add_option("--ascent-steps", c->ascent_steps,
                  "Gradient-ascent steps from the prior mean")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--ascent-step-size", c->ascent_step_size,
                  "Their step size (0 = the best of 1e-4 ... 1 for this "
                  "example)")
      ->check(range_check(train::OptionRange::kNonNegative, false))
      ->capture_default_str();
  cmd->add_option("--map-steps", c->map_steps, "Adam steps of the MAP search")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->capture_default_str();
  cmd->add_option("--out", c->out, "Output folder (default: <run>/surface)");
  add_run_data_dir_flag(*cmd, c->data_dir);
  add_runtime_flags(*cmd, c->runtime, "Seed for the example's binarisation");
  cmd->callback([c] {
    if (!c->out.empty()) check_output_folder(c->out, "--out");
    analysis::run_surface(*c);
  });
}

}  // namespace iai::cli
