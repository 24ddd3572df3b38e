#include "iai/analysis/surface_figure.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/core/runtime_scope.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/inference/run_inference.h"
#include "iai/report/latent_surface_figure.h"
#include "iai/train/config/inference_registry.h"

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

LatentPath path_of(model::GenerativeModelImpl& model, const torch::Tensor& x,
                   const std::vector<double>& mu1,
                   const std::vector<double>& mu2) {
  auto mu = torch::stack(
      {torch::tensor(mu1, torch::kDouble), torch::tensor(mu2, torch::kDouble)},
      1);
  auto values = point_objective(model, x, mu).to(torch::kDouble);
  LatentPath p{mu1, mu2, {}};
  p.value.assign(values.data_ptr<double>(),
                 values.data_ptr<double>() + values.numel());
  return p;
}

void check_config(const SurfaceConfig& config) {
  IAI_CHECK(config.grid >= 2, "--grid must be at least 2, got ", config.grid);
  IAI_CHECK(config.range.empty() || config.range.size() == 4,
            "--range takes 4 numbers: mu1-min,mu1-max,mu2-min,mu2-max; got ",
            config.range.size());
  if (!config.range.empty()) {
    IAI_CHECK(
        config.range[0] < config.range[1] && config.range[2] < config.range[3],
        "--range must be mu1-min < mu1-max, mu2-min < mu2-max; got ",
        config.range[0], ",", config.range[1], ",", config.range[2], ",",
        config.range[3]);
  }
  IAI_CHECK(config.ascent_steps > 0, "--ascent-steps must be positive, got ",
            config.ascent_steps);
  IAI_CHECK(config.map_steps > 0, "--map-steps must be positive, got ",
            config.map_steps);
  IAI_CHECK(config.example >= 0, "--example must be >= 0, got ",
            config.example);
}

/// The run's own inference model from the prior mean (lambda_0).
LatentPath model_trajectory(LoadedRun& run, const torch::Tensor& x,
                            int64_t iterations) {
  std::vector<double> m1 = {0.0}, m2 = {0.0};
  auto steps = inference::run_inference(
      *run.model, *run.procedure, to_device(x, device_of(*run.model)),
      iterations, /*samples=*/1, run.header.config.batch_size);
  for (const auto& s : steps) {
    m1.push_back(s.posterior.mu[0][0].item<double>());
    m2.push_back(s.posterior.mu[0][1].item<double>());
  }
  return path_of(*run.model, x, m1, m2);
}

constexpr double kMapLr = 0.05;

/// The MAP estimate: long Adam ascent from the best point of each path.
MapEstimate map_from_paths(model::GenerativeModelImpl& model,
                           const torch::Tensor& x, const LatentPath& model_path,
                           const LatentPath& ascent, int64_t map_steps) {
  auto best_start = [&](const LatentPath& p) {
    const auto i =
        std::max_element(p.value.begin(), p.value.end()) - p.value.begin();
    return torch::tensor({p.mu1[i], p.mu2[i]}, torch::kDouble);
  };
  MapEstimate map =
      find_map(model, x, best_start(model_path), map_steps, kMapLr);
  const MapEstimate from_ascent =
      find_map(model, x, best_start(ascent), map_steps, kMapLr);
  if (from_ascent.value > map.value) map = from_ascent;
  return map;
}

/// The grid's best point may lie in another basin: `map` refined from it,
/// when that is better.
MapEstimate map_from_grid(model::GenerativeModelImpl& model,
                          const torch::Tensor& x, const torch::Tensor& surface,
                          const SurfaceBounds& bounds, int64_t grid,
                          int64_t map_steps, MapEstimate map) {
  const auto flat = surface.argmax().item<int64_t>();
  const auto a1 = grid_axis(bounds.mu1_min, bounds.mu1_max, grid);
  const auto a2 = grid_axis(bounds.mu2_min, bounds.mu2_max, grid);
  const MapEstimate from_grid = find_map(
      model, x,
      torch::tensor({a1[flat % grid], a2[flat / grid]}, torch::kDouble),
      map_steps, kMapLr);
  return from_grid.value > map.value ? from_grid : map;
}

/// The enlarged view: around the MAP, wide enough to show where the final
/// estimates lie (but at most a third of the main view, at least 1/40).
SurfaceBounds zoom_bounds(const SurfaceBounds& bounds, const MapEstimate& map,
                          const std::vector<const LatentPath*>& paths) {
  const double main_half = 0.5 * std::max(bounds.mu1_max - bounds.mu1_min,
                                          bounds.mu2_max - bounds.mu2_min);
  double reach = 0;
  for (const auto* p : paths) {
    reach = std::max(
        reach, std::hypot(p->mu1.back() - map.mu1, p->mu2.back() - map.mu2));
  }
  const double zoom_half =
      std::clamp(1.5 * reach, main_half / 40, main_half / 3);
  return square(map.mu1, map.mu2, zoom_half);
}

void print_surface(const SurfaceInputs& inputs, const SurfaceResult& r,
                   const SurfaceConfig& config,
                   const std::vector<std::string>& figures,
                   const std::string& json_path) {
  const auto& tc = inputs.run.header.config;
  const auto& map = r.map;
  const auto& ascent = r.ascent;
  std::printf(
      "iai surface: %s (%s, 2-D point estimate), test example %lld, "
      "on %s\n",
      inputs.run.path.c_str(), tc.inference.c_str(), (long long)config.example,
      describe_device(device_of(*inputs.run.model)).c_str());
  std::printf("  MAP estimate  mu = (%.3f, %.3f)  L = %.3f nats\n", map.mu1,
              map.mu2, map.value);
  std::printf("  %s model: L at t = 0..%lld:", tc.inference.c_str(),
              (long long)(r.model_path.value.size() - 1));
  for (const double v : r.model_path.value) std::printf(" %.2f", v);
  std::printf(
      "\n  gradient ascent (step %.3g): L after 1, 10, %lld steps: "
      "%.2f %.2f %.2f\n",
      r.ascent_step_size, (long long)config.ascent_steps, ascent.value[1],
      ascent.value[std::min<int64_t>(10, config.ascent_steps)],
      ascent.value.back());
  std::printf("  gap to the MAP: model %.3f nats, gradient ascent %.3f nats\n",
              map.value - r.model_path.value.back(),
              map.value - ascent.value.back());
  std::printf("  figures: %s, %s\n  results: %s\n", figures[0].c_str(),
              figures[1].c_str(), json_path.c_str());
}

}  // namespace

SurfaceInputs load_surface_inputs(const SurfaceConfig& config) {
  SurfaceInputs inputs{
      load_run(config.run, resolve_device(config.runtime.device)), {}, {}};
  const auto& run = inputs.run;
  const auto& tc = run.header.config;
  IAI_CHECK(tc.latent == 2,
            "iai surface draws the objective over a 2-D latent space "
            "(Figures 1 and 3); run '",
            run.path, "' has --latent ", tc.latent,
            " (train one with configs/mnist-2d-point.toml)");
  IAI_CHECK(run.procedure->point_estimate(),
            "iai surface needs a point-estimate posterior q = delta(mu) "
            "(--posterior point), whose objective is a function of mu alone; "
            "run '",
            run.path, "' has --posterior ", tc.posterior,
            " (train one with configs/mnist-2d-point.toml)");
  auto data = load_run_data(run, config.data_dir, 0);
  const int64_t n_test = data.test->size();
  IAI_CHECK(config.example < n_test, "--example ", config.example,
            " is out of range: the test split has ", n_test, " examples");
  seed_everything(config.runtime.seed);
  inputs.x = data.test->range(config.example, config.example + 1);
  inputs.data_name = data.name;
  return inputs;
}

SurfaceResult compute_surface(SurfaceInputs& inputs,
                              const SurfaceConfig& config) {
  auto& model = *inputs.run.model;
  const auto& x = inputs.x;
  const auto& tc = inputs.run.header.config;
  SurfaceResult r;
  r.iterations = config.iterations > 0 ? config.iterations : tc.iterations;
  r.standard = train::inference_entry(tc).one_pass;
  r.model_path = model_trajectory(inputs.run, x, r.iterations);

  // Plain gradient ascent from the same start.
  const auto origin = torch::zeros({2});
  r.ascent_step_size =
      config.ascent_step_size > 0
          ? config.ascent_step_size
          : tune_ascent_step(model, x, origin, config.ascent_steps);
  r.ascent = gradient_ascent(model, x, origin, config.ascent_steps,
                             r.ascent_step_size);

  r.map = map_from_paths(model, x, r.model_path, r.ascent, config.map_steps);
  r.bounds = config.range.empty()
                 ? around({&r.model_path, &r.ascent}, r.map)
                 : SurfaceBounds{config.range[0], config.range[1],
                                 config.range[2], config.range[3]};
  r.surface = elbo_surface(model, x, r.bounds, config.grid);
  r.map = map_from_grid(model, x, r.surface, r.bounds, config.grid,
                        config.map_steps, r.map);
  r.zoom = zoom_bounds(r.bounds, r.map, {&r.model_path, &r.ascent});
  r.zoom_surface = elbo_surface(model, x, r.zoom, config.grid);
  return r;
}

std::vector<std::string> draw_surface(const std::string& out_dir,
                                      const SurfaceInputs& inputs,
                                      const SurfaceResult& r,
                                      const SurfaceConfig& config) {
  report::LatentSurfaceFigure figure;
  char title[160];
  std::snprintf(title, sizeof title,
                "%s test example %lld: L(mu) over a 2-D "
                "latent space (Figure %s)",
                inputs.data_name.c_str(), (long long)config.example,
                r.standard ? "1" : "3");
  figure.title = title;
  figure.main = contour_grid(r.surface, r.bounds, config.grid);
  figure.zoom = contour_grid(r.zoom_surface, r.zoom, config.grid);
  figure.ascent_mu1 = r.ascent.mu1;
  figure.ascent_mu2 = r.ascent.mu2;
  figure.ascent_steps = config.ascent_steps;
  figure.ascent_step_size = r.ascent_step_size;
  figure.model_mu1 = r.model_path.mu1;
  figure.model_mu2 = r.model_path.mu2;
  figure.model_one_pass = r.standard;
  figure.model_iterations = r.iterations;
  figure.map_mu1 = r.map.mu1;
  figure.map_mu2 = r.map.mu2;
  const auto png = (fs::path(out_dir) / "surface.png").string();
  const auto zoom_png = (fs::path(out_dir) / "surface_zoom.png").string();
  report::write_latent_surface_figures(png, zoom_png, figure);
  return {png, zoom_png};
}

nlohmann::json surface_json(const SurfaceInputs& inputs, const SurfaceResult& r,
                            const SurfaceConfig& config,
                            const std::vector<std::string>& figures) {
  const double model_final = r.model_path.value.back();
  return {{"run", inputs.run.path},
          {"inference", inputs.run.header.config.inference},
          {"epochs", inputs.run.header.epoch},
          {"example", config.example},
          {"split", "test"},
          {"binarisation", "dynamic (fresh Bernoulli draw), seed " +
                               std::to_string(config.runtime.seed)},
          {"objective",
           "log p(x|mu) + log N(mu; 0, I) (point estimate q = "
           "delta(mu)), nats"},
          {"grid",
           {{"points", config.grid},
            {"bounds", bounds_json(r.bounds)},
            {"max", r.surface.max().item<double>()},
            {"min", r.surface.min().item<double>()}}},
          {"zoom",
           {{"points", config.grid},
            {"bounds", bounds_json(r.zoom)},
            {"max", r.zoom_surface.max().item<double>()},
            {"min", r.zoom_surface.min().item<double>()}}},
          {"map",
           {{"mu", {r.map.mu1, r.map.mu2}},
            {"value", r.map.value},
            {"adam_steps", config.map_steps}}},
          {"model", path_json(r.model_path)},
          {"model_iterations", r.standard ? 1 : r.iterations},
          {"ascent", path_json(r.ascent)},
          {"ascent_step_size", r.ascent_step_size},
          {"gap_to_map",
           {{"model", r.map.value - model_final},
            {"ascent", r.map.value - r.ascent.value.back()}}},
          {"figures", figures}};
}

nlohmann::json run_surface(const SurfaceConfig& config) {
  const RuntimeScope runtime(config.runtime);
  check_config(config);
  auto inputs = load_surface_inputs(config);
  const auto result = compute_surface(inputs, config);

  const std::string out_dir =
      config.out.empty()
          ? (fs::path(inputs.run.path).parent_path() / "surface").string()
          : config.out;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  IAI_CHECK(!ec, "cannot create '", out_dir, "': ", ec.message());
  const auto figures = draw_surface(out_dir, inputs, result, config);
  const nlohmann::json json = surface_json(inputs, result, config, figures);
  const auto json_path = (fs::path(out_dir) / "surface.json").string();
  std::ofstream out(json_path);
  IAI_CHECK(out.good(), "cannot write '", json_path, "'");
  out << json.dump(2) << '\n';
  print_surface(inputs, result, config, figures, json_path);
  return json;
}

}  // namespace iai::analysis
