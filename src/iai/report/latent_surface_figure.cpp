#include "iai/report/latent_surface_figure.h"

#include <cstdio>

namespace iai::report {

namespace {

ContourOverlay ascent_overlay(const LatentSurfaceFigure& f) {
  ContourOverlay o;
  char label[160];
  std::snprintf(label, sizeof label, "gradient ascent, %lld steps of %.3g",
                (long long)f.ascent_steps, f.ascent_step_size);
  o.label = label;
  o.x = f.ascent_mu1;
  o.y = f.ascent_mu2;
  o.color = "#2c7bb6";
  o.point_size = 0.6;
  return o;
}

ContourOverlay model_overlay(const LatentSurfaceFigure& f) {
  ContourOverlay o;
  if (f.model_one_pass) {
    o.label = "standard inference model (one pass)";
    o.x = {f.model_mu1.back()};
    o.y = {f.model_mu2.back()};
    o.path = false;
    o.point_type = 9;
    o.point_size = 2.5;
  } else {
    o.label = "iterative inference model, " +
              std::to_string(f.model_iterations) + " steps";
    o.x = f.model_mu1;
    o.y = f.model_mu2;
    o.number_points = true;
  }
  o.color = "#e41a1c";
  return o;
}

ContourOverlay map_overlay(const LatentSurfaceFigure& f) {
  ContourOverlay o;
  o.label = "MAP estimate (optimum)";
  o.x = {f.map_mu1};
  o.y = {f.map_mu2};
  o.path = false;
  o.point_type = 3;
  o.point_size = 3;
  o.color = "#000000";
  return o;
}

}  // namespace

void write_latent_surface_figures(const std::string& png,
                                  const std::string& zoom_png,
                                  const LatentSurfaceFigure& figure) {
  const std::vector<ContourOverlay> overlays = {
      ascent_overlay(figure), model_overlay(figure), map_overlay(figure)};
  ContourOptions options;
  options.title = figure.title;
  options.x_label = "mu_1";
  options.y_label = "mu_2";
  options.z_label =
      "L = log p(x|mu) + log p(mu) (nats; colours in log gap "
      "to the maximum)";
  options.log_gap = true;
  write_contour_plot(png, figure.main, overlays, options);
  options.title = "enlarged view near the optimum";
  write_contour_plot(zoom_png, figure.zoom, overlays, options);
}

}  // namespace iai::report
