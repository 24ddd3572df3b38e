#include "iai/analysis/surface_figure.h"

#include "iai/analysis/elbo_surface.h"
#include "iai/analysis/loaded_run.h"
#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/inference/run_inference.h"
#include "iai/report/contour_plot.h"
#include "iai/train/inference_registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace iai::analysis {

namespace fs = std::filesystem;

namespace {

nlohmann::json path_json(const LatentPath& p) {
  return {{"mu1", p.mu1}, {"mu2", p.mu2}, {"value", p.value}};
}

nlohmann::json bounds_json(const SurfaceBounds& b) {
  return {{"mu1", {b.mu1_min, b.mu1_max}}, {"mu2", {b.mu2_min, b.mu2_max}}};
}

/// A square of half-width `half` around (c1, c2).
SurfaceBounds square(double c1, double c2, double half) {
  return {c1 - half, c1 + half, c2 - half, c2 + half};
}

/// The smallest square holding every point, widened by 30% (at least 1.5
/// units from its centre, so a surface around a single point still shows
/// its shape).
SurfaceBounds around(const std::vector<const LatentPath*>& paths,
                     const MapEstimate& map) {
  double lo1 = std::min(0.0, map.mu1), hi1 = std::max(0.0, map.mu1);
  double lo2 = std::min(0.0, map.mu2), hi2 = std::max(0.0, map.mu2);
  for (const auto* p : paths) {
    for (std::size_t i = 0; i < p->mu1.size(); ++i) {
      if (!std::isfinite(p->mu1[i]) || !std::isfinite(p->mu2[i])) continue;
      lo1 = std::min(lo1, p->mu1[i]);
      hi1 = std::max(hi1, p->mu1[i]);
      lo2 = std::min(lo2, p->mu2[i]);
      hi2 = std::max(hi2, p->mu2[i]);
    }
  }
  const double half = std::max(1.5, 0.65 * std::max(hi1 - lo1, hi2 - lo2));
  return square(0.5 * (lo1 + hi1), 0.5 * (lo2 + hi2), half);
}

report::ContourGrid contour_grid(const torch::Tensor& surface,
                                 const SurfaceBounds& b, int64_t points) {
  report::ContourGrid g;
  g.x = grid_axis(b.mu1_min, b.mu1_max, points);
  g.y = grid_axis(b.mu2_min, b.mu2_max, points);
  auto flat = surface.to(torch::kDouble).contiguous().view(-1);
  g.z.assign(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
  return g;
}

LatentPath path_of(model::LatentGaussianModelImpl& model,
                   const torch::Tensor& x, const std::vector<double>& mu1,
                   const std::vector<double>& mu2) {
  auto mu = torch::stack({torch::tensor(mu1, torch::kDouble),
                          torch::tensor(mu2, torch::kDouble)},
                         1);
  auto values = point_objective(model, x, mu).to(torch::kDouble);
  LatentPath p{mu1, mu2, {}};
  p.value.assign(values.data_ptr<double>(),
                 values.data_ptr<double>() + values.numel());
  return p;
}

}  // namespace

nlohmann::json run_surface(const SurfaceConfig& config) {
  IAI_CHECK(config.grid >= 2, "--grid must be at least 2, got ", config.grid);
  IAI_CHECK(config.range.empty() || config.range.size() == 4,
            "--range takes 4 numbers: mu1-min,mu1-max,mu2-min,mu2-max; got ",
            config.range.size());
  if (!config.range.empty()) {
    IAI_CHECK(config.range[0] < config.range[1] &&
                  config.range[2] < config.range[3],
              "--range must be mu1-min < mu1-max, mu2-min < mu2-max; got ",
              config.range[0], ",", config.range[1], ",", config.range[2],
              ",", config.range[3]);
  }
  IAI_CHECK(config.ascent_steps > 0, "--ascent-steps must be positive, got ",
            config.ascent_steps);
  IAI_CHECK(config.map_steps > 0, "--map-steps must be positive, got ",
            config.map_steps);
  IAI_CHECK(config.example >= 0, "--example must be >= 0, got ",
            config.example);
  set_threads(config.threads);
  auto run = load_run(config.run);
  const auto& tc = run.header.config;
  IAI_CHECK(tc.latent == 2,
            "iai surface draws the objective over a 2-D latent space "
            "(Figures 1 and 3); run '", run.path, "' has --latent ", tc.latent,
            " (train one with configs/mnist-2d-point.toml)");
  IAI_CHECK(run.procedure->point_estimate(),
            "iai surface needs a point-estimate posterior q = delta(mu) "
            "(--posterior point), whose objective is a function of mu alone; "
            "run '", run.path, "' has --posterior ", tc.posterior,
            " (train one with configs/mnist-2d-point.toml)");
  auto data = load_run_data(run, config.data_dir, 0);
  const int64_t n_test = data.test->size();
  IAI_CHECK(config.example < n_test, "--example ", config.example,
            " is out of range: the test split has ", n_test, " examples");
  seed_everything(config.seed);
  auto x = data.test->range(config.example, config.example + 1);
  auto& model = *run.model;
  const int64_t iterations =
      config.iterations > 0 ? config.iterations : tc.iterations;
  const bool standard = train::inference_entry(tc).one_pass;

  // The run's own inference model, from the prior mean (lambda_0).
  std::vector<double> m1 = {0.0}, m2 = {0.0};
  auto steps = inference::run_inference(model, *run.procedure, x, iterations,
                                        /*samples=*/1, tc.batch_size);
  for (const auto& s : steps) {
    m1.push_back(s.posterior.mu[0][0].item<double>());
    m2.push_back(s.posterior.mu[0][1].item<double>());
  }
  const LatentPath model_path = path_of(model, x, m1, m2);

  // Plain gradient ascent from the same start.
  const auto origin = torch::zeros({2});
  const double step_size =
      config.ascent_step_size > 0
          ? config.ascent_step_size
          : tune_ascent_step(model, x, origin, config.ascent_steps);
  const LatentPath ascent =
      gradient_ascent(model, x, origin, config.ascent_steps, step_size);

  // The MAP estimate: long Adam ascent from the best of the known points.
  const double map_lr = 0.05;
  auto best_start = [&](const LatentPath& p) {
    const auto i = std::max_element(p.value.begin(), p.value.end()) -
                   p.value.begin();
    return torch::tensor({p.mu1[i], p.mu2[i]}, torch::kDouble);
  };
  MapEstimate map = find_map(model, x, best_start(model_path),
                             config.map_steps, map_lr);
  const MapEstimate from_ascent =
      find_map(model, x, best_start(ascent), config.map_steps, map_lr);
  if (from_ascent.value > map.value) map = from_ascent;

  SurfaceBounds bounds;
  if (config.range.empty()) {
    bounds = around({&model_path, &ascent}, map);
  } else {
    bounds = {config.range[0], config.range[1], config.range[2],
              config.range[3]};
  }
  auto surface = elbo_surface(model, x, bounds, config.grid);
  {
    // The grid's best point may lie in another basin: refine it too.
    const auto flat = surface.argmax().item<int64_t>();
    const auto a1 = grid_axis(bounds.mu1_min, bounds.mu1_max, config.grid);
    const auto a2 = grid_axis(bounds.mu2_min, bounds.mu2_max, config.grid);
    const MapEstimate from_grid = find_map(
        model, x,
        torch::tensor({a1[flat % config.grid], a2[flat / config.grid]},
                      torch::kDouble),
        config.map_steps, map_lr);
    if (from_grid.value > map.value) map = from_grid;
  }

  // The enlarged view: around the MAP, wide enough to show where the final
  // estimates lie (but at most a third of the main view, at least 1/40).
  const double main_half = 0.5 * std::max(bounds.mu1_max - bounds.mu1_min,
                                          bounds.mu2_max - bounds.mu2_min);
  double reach = 0;
  for (const auto* p : {&model_path, &ascent}) {
    reach = std::max(reach, std::hypot(p->mu1.back() - map.mu1,
                                       p->mu2.back() - map.mu2));
  }
  const double zoom_half =
      std::clamp(1.5 * reach, main_half / 40, main_half / 3);
  const SurfaceBounds zoom = square(map.mu1, map.mu2, zoom_half);
  auto zoom_surface = elbo_surface(model, x, zoom, config.grid);

  // Drawing.
  const std::string out_dir =
      config.out.empty()
          ? (fs::path(run.path).parent_path() / "surface").string()
          : config.out;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  IAI_CHECK(!ec, "cannot create '", out_dir, "': ", ec.message());
  char buf[160];
  std::vector<report::ContourOverlay> overlays;
  {
    report::ContourOverlay o;
    std::snprintf(buf, sizeof buf, "gradient ascent, %lld steps of %.3g",
                  (long long)config.ascent_steps, step_size);
    o.label = buf;
    o.x = ascent.mu1;
    o.y = ascent.mu2;
    o.color = "#2c7bb6";
    o.point_size = 0.6;
    overlays.push_back(o);
  }
  {
    report::ContourOverlay o;
    if (standard) {
      o.label = "standard inference model (one pass)";
      o.x = {model_path.mu1.back()};
      o.y = {model_path.mu2.back()};
      o.path = false;
      o.point_type = 9;
      o.point_size = 2.5;
    } else {
      o.label = "iterative inference model, " + std::to_string(iterations) +
                " steps";
      o.x = model_path.mu1;
      o.y = model_path.mu2;
      o.number_points = true;
    }
    o.color = "#e41a1c";
    overlays.push_back(o);
  }
  {
    report::ContourOverlay o;
    o.label = "MAP estimate (optimum)";
    o.x = {map.mu1};
    o.y = {map.mu2};
    o.path = false;
    o.point_type = 3;
    o.point_size = 3;
    o.color = "#000000";
    overlays.push_back(o);
  }
  report::ContourOptions options;
  std::snprintf(buf, sizeof buf, "%s test example %lld: L(mu) over a 2-D "
                "latent space (Figure %s)",
                data.name.c_str(), (long long)config.example,
                standard ? "1" : "3");
  options.title = buf;
  options.x_label = "mu_1";
  options.y_label = "mu_2";
  options.z_label = "L = log p(x|mu) + log p(mu) (nats; colours in log gap "
                    "to the maximum)";
  options.log_gap = true;
  const auto png = (fs::path(out_dir) / "surface.png").string();
  const auto zoom_png = (fs::path(out_dir) / "surface_zoom.png").string();
  report::write_contour_plot(png, contour_grid(surface, bounds, config.grid),
                             overlays, options);
  options.title = "enlarged view near the optimum";
  report::write_contour_plot(
      zoom_png, contour_grid(zoom_surface, zoom, config.grid), overlays,
      options);

  const double model_final = model_path.value.back();
  nlohmann::json result = {
      {"run", run.path},
      {"inference", tc.inference},
      {"epochs", run.header.epoch},
      {"example", config.example},
      {"split", "test"},
      {"binarisation", "dynamic (fresh Bernoulli draw), seed " +
                           std::to_string(config.seed)},
      {"objective", "log p(x|mu) + log N(mu; 0, I) (point estimate q = "
                    "delta(mu)), nats"},
      {"grid", {{"points", config.grid},
                {"bounds", bounds_json(bounds)},
                {"max", surface.max().item<double>()},
                {"min", surface.min().item<double>()}}},
      {"zoom", {{"points", config.grid},
                {"bounds", bounds_json(zoom)},
                {"max", zoom_surface.max().item<double>()},
                {"min", zoom_surface.min().item<double>()}}},
      {"map", {{"mu", {map.mu1, map.mu2}},
               {"value", map.value},
               {"adam_steps", config.map_steps}}},
      {"model", path_json(model_path)},
      {"model_iterations", standard ? 1 : iterations},
      {"ascent", path_json(ascent)},
      {"ascent_step_size", step_size},
      {"gap_to_map", {{"model", map.value - model_final},
                      {"ascent", map.value - ascent.value.back()}}},
      {"figures", {png, zoom_png}}};
  const auto json_path = (fs::path(out_dir) / "surface.json").string();
  std::ofstream out(json_path);
  IAI_CHECK(out.good(), "cannot write '", json_path, "'");
  out << result.dump(2) << '\n';

  std::printf("iai surface: %s (%s, 2-D point estimate), test example %lld\n",
              run.path.c_str(), tc.inference.c_str(),
              (long long)config.example);
  std::printf("  MAP estimate  mu = (%.3f, %.3f)  L = %.3f nats\n", map.mu1,
              map.mu2, map.value);
  std::printf("  %s model: L at t = 0..%lld:", tc.inference.c_str(),
              (long long)(model_path.value.size() - 1));
  for (const double v : model_path.value) std::printf(" %.2f", v);
  std::printf("\n  gradient ascent (step %.3g): L after 1, 10, %lld steps: "
              "%.2f %.2f %.2f\n",
              step_size, (long long)config.ascent_steps, ascent.value[1],
              ascent.value[std::min<int64_t>(10, config.ascent_steps)],
              ascent.value.back());
  std::printf("  gap to the MAP: model %.3f nats, gradient ascent %.3f nats\n",
              map.value - model_final, map.value - ascent.value.back());
  std::printf("  figures: %s, %s\n  results: %s\n", png.c_str(),
              zoom_png.c_str(), json_path.c_str());
  return result;
}

}  // namespace iai::analysis
