#pragma once
// `iai surface` as a library call: Figures 1 and 3 of the paper for a run
// with a 2-D latent space and a point-estimate posterior q = delta(mu). For
// one test example it draws the objective L(mu) = log p(x | mu) + log p(mu)
// over (mu_1, mu_2) as a filled contour plot with the MAP estimate (long
// Adam ascent), a plain gradient-ascent trajectory from the prior mean, and
// the run's own inference model: a standard model's one-pass estimate
// (Figure 1) or an iterative model's T-step trajectory (Figure 3); plus an
// enlarged view near the optimum (Figure 1, right).

#include "iai/analysis/elbo_surface.h"
#include "iai/analysis/loaded_run.h"
#include "iai/core/runtime.h"

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace iai::analysis {

struct SurfaceConfig {
  /// Run folder or checkpoint file (2-D latent space, --posterior point).
  std::string run;
  /// Index of the test example (binarised with `seed`).
  int64_t example = 0;
  /// Grid points per axis.
  int64_t grid = 101;
  /// mu_1 min, mu_1 max, mu_2 min, mu_2 max; empty = a square around the
  /// prior mean, the MAP estimate and every trajectory.
  std::vector<double> range;
  /// Output folder for surface.png, surface_zoom.png, surface.json (empty =
  /// <run>/surface).
  std::string out;
  /// Data folder (empty = the one the run was trained on).
  std::string data_dir;
  /// Inference iterations of the run's model (0 = its training T).
  int64_t iterations = 0;
  /// Gradient-ascent steps from the prior mean and their size (0 = the
  /// best of 1e-4 ... 1 for this example after that many steps).
  int64_t ascent_steps = 100;
  double ascent_step_size = 0;
  /// Adam steps of the MAP search.
  int64_t map_steps = 2000;
  /// --seed, --threads.
  RuntimeOptions runtime;
};

/// The stages of run_surface, each callable alone.

/// What the figures are computed from: the run (checked: 2-D latent space,
/// point estimate) and its test example x (1,D), binarised with
/// config.runtime.seed (the global RNG is seeded here).
struct SurfaceInputs {
  LoadedRun run;
  torch::Tensor x;
  std::string data_name;
};
SurfaceInputs load_surface_inputs(const SurfaceConfig& config);

/// Everything the figures and surface.json show.
struct SurfaceResult {
  int64_t iterations = 0;  // of the run's model
  bool standard = false;   // a standard (one-pass) model: Figure 1
  LatentPath model_path;   // lambda_0 .. lambda_T
  LatentPath ascent;
  double ascent_step_size = 0;
  MapEstimate map;
  SurfaceBounds bounds, zoom;
  torch::Tensor surface, zoom_surface;  // (grid, grid) each
};
SurfaceResult compute_surface(SurfaceInputs& inputs,
                              const SurfaceConfig& config);

/// Draws surface.png and surface_zoom.png in out_dir; returns their paths.
std::vector<std::string> draw_surface(const std::string& out_dir,
                                      const SurfaceInputs& inputs,
                                      const SurfaceResult& result,
                                      const SurfaceConfig& config);

/// surface.json's content.
nlohmann::json surface_json(const SurfaceInputs& inputs,
                            const SurfaceResult& result,
                            const SurfaceConfig& config,
                            const std::vector<std::string>& figures);

/// Computes and draws the figures; prints a summary; writes
/// <out>/surface.png, <out>/surface_zoom.png (with their gnuplot scripts and
/// data) and <out>/surface.json, which it returns: grid bounds and size, the
/// MAP point and value, every trajectory's points and values. Throws
/// iai::Error when the run is not 2-D or not a point-estimate run, the
/// example does not exist, the range is malformed, or gnuplot fails.
nlohmann::json run_surface(const SurfaceConfig& config);

}  // namespace iai::analysis
