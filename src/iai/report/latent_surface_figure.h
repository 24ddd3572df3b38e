#pragma once
// Figures 1 and 3 of the paper as drawings: the objective over a 2-D latent
// space (mu_1, mu_2) with plain gradient ascent, the inference model's
// estimate or trajectory and the MAP estimate on top, once as the main view
// and once enlarged near the optimum. Plain numbers in, two PNGs out
// (write_contour_plot); what the numbers are is analysis/surface_figure's.

#include "iai/report/contour_plot.h"

#include <cstdint>
#include <string>
#include <vector>

namespace iai::report {

struct LatentSurfaceFigure {
  /// The main view's title (the enlarged view has its own).
  std::string title;
  ContourGrid main, zoom;
  /// Gradient ascent from the prior mean: its points, steps and step size.
  std::vector<double> ascent_mu1, ascent_mu2;
  int64_t ascent_steps = 0;
  double ascent_step_size = 0;
  /// The inference model's points from lambda_0; a standard model (one
  /// pass) is drawn as its final point, an iterative one as a numbered path.
  std::vector<double> model_mu1, model_mu2;
  bool model_one_pass = false;
  int64_t model_iterations = 0;
  /// The MAP estimate.
  double map_mu1 = 0, map_mu2 = 0;
};

/// Draws the main view to `png` and the enlarged one to `zoom_png` (with
/// their gnuplot scripts and data beside them); throws as
/// write_contour_plot.
void write_latent_surface_figures(const std::string& png,
                                  const std::string& zoom_png,
                                  const LatentSurfaceFigure& figure);

}  // namespace iai::report
