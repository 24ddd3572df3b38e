#include "iai/analysis/elbo_surface.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/model/elbo.h"

#include <torch/autograd.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <limits>

namespace iai::analysis {

namespace {

void check_2d(const model::GenerativeModelImpl& model) {
  IAI_CHECK(model.latent_dim() == 2,
            "the ELBO surface needs a 2-D latent space (the paper's Figures 1 "
            "and 3); this model has ",
            model.latent_dim(),
            " latent dimensions (train one with --latent 2)");
}

torch::Tensor as_row(const model::GenerativeModelImpl& model,
                     const torch::Tensor& x) {
  auto row = x.reshape({1, -1});
  IAI_CHECK(row.size(1) == model.data_dim(), "the example has ", row.size(1),
            " dimensions; the model expects ", model.data_dim());
  return row;
}

/// L at mu (N,2), differentiable in mu. The figure's points and paths stay
/// on the CPU; only the model's evaluation runs where the model is.
torch::Tensor objective(model::GenerativeModelImpl& model,
                        const torch::Tensor& x_row, const torch::Tensor& mu) {
  const torch::Device device = device_of(model);
  auto x =
      x_row.to(device, mu.scalar_type()).expand({mu.size(0), x_row.size(1)});
  // A point estimate (logvar undefined): log p(x | mu) + log p(mu).
  return model::elbo(model, x, mu.to(device), torch::Tensor(), /*samples=*/1)
      .elbo.cpu();
}

torch::Tensor start_point(const torch::Tensor& start, torch::Dtype dtype) {
  IAI_CHECK(start.numel() == 2,
            "a start point in a 2-D latent space has 2 "
            "values, got ",
            start.numel());
  return start.detach().reshape({1, 2}).to(dtype).clone();
}

torch::Dtype model_dtype(model::GenerativeModelImpl& model) {
  auto params = model.parameters();
  return params.empty() ? torch::kFloat : params.front().scalar_type();
}

double value_at(model::GenerativeModelImpl& model, const torch::Tensor& x_row,
                const torch::Tensor& mu) {
  torch::NoGradGuard no_grad;
  return objective(model, x_row, mu).item<double>();
}

}  // namespace

torch::Tensor point_objective(model::GenerativeModelImpl& model,
                              const torch::Tensor& x, const torch::Tensor& mu) {
  check_2d(model);
  IAI_CHECK(mu.dim() == 2 && mu.size(1) == 2,
            "points in a 2-D latent space are (N,2); got ", mu.sizes());
  auto row = as_row(model, x);
  torch::NoGradGuard no_grad;
  return objective(model, row, mu.to(model_dtype(model))).detach();
}

std::vector<double> grid_axis(double lo, double hi, int64_t points) {
  IAI_CHECK(points >= 2, "a grid needs at least 2 points per axis, got ",
            points);
  IAI_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi,
            "a grid axis needs lo < hi, got [", lo, ", ", hi, "]");
  std::vector<double> axis(points);
  for (int64_t i = 0; i < points; ++i) {
    axis[i] = lo + (hi - lo) * static_cast<double>(i) / (points - 1);
  }
  return axis;
}

torch::Tensor elbo_surface(model::GenerativeModelImpl& model,
                           const torch::Tensor& x, const SurfaceBounds& bounds,
                           int64_t points, int64_t chunk) {
  check_2d(model);
  IAI_CHECK(chunk > 0, "chunk must be positive, got ", chunk);
  const auto a1 = grid_axis(bounds.mu1_min, bounds.mu1_max, points);
  const auto a2 = grid_axis(bounds.mu2_min, bounds.mu2_max, points);
  const auto dtype = model_dtype(model);
  auto opts = torch::TensorOptions().dtype(torch::kDouble);
  auto m1 = torch::tensor(a1, opts), m2 = torch::tensor(a2, opts);
  // Row j holds mu_2 = a2[j]; column i holds mu_1 = a1[i].
  auto mesh = torch::meshgrid({m2, m1}, "ij");
  auto mu =
      torch::stack({mesh[1].reshape(-1), mesh[0].reshape(-1)}, 1).to(dtype);
  auto row = as_row(model, x);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < mu.size(0); s += chunk) {
    parts.push_back(objective(model, row, mu.slice(0, s, s + chunk)));
  }
  return torch::cat(parts).view({points, points});
}

LatentPath gradient_ascent(model::GenerativeModelImpl& model,
                           const torch::Tensor& x, const torch::Tensor& start,
                           int64_t steps, double step_size) {
  check_2d(model);
  IAI_CHECK(steps >= 0, "gradient ascent steps must be >= 0, got ", steps);
  IAI_CHECK(step_size > 0,
            "the gradient-ascent step size must be positive, "
            "got ",
            step_size);
  auto row = as_row(model, x);
  auto mu = start_point(start, model_dtype(model));
  LatentPath path;
  for (int64_t t = 0; t <= steps; ++t) {
    auto leaf = mu.detach().requires_grad_();
    torch::AutoGradMode enable(true);
    auto value = objective(model, row, leaf).sum();
    path.mu1.push_back(leaf[0][0].item<double>());
    path.mu2.push_back(leaf[0][1].item<double>());
    path.value.push_back(value.item<double>());
    if (t == steps) break;
    auto grad = torch::autograd::grad({value}, {leaf})[0];
    mu = (leaf + step_size * grad).detach();
  }
  return path;
}

double tune_ascent_step(model::GenerativeModelImpl& model,
                        const torch::Tensor& x, const torch::Tensor& start,
                        int64_t steps) {
  double best_step = 1e-4;
  double best = -std::numeric_limits<double>::infinity();
  for (int k = -8; k <= 0; ++k) {  // 1e-4 ... 1 in half-decades
    const double step = std::pow(10.0, k / 2.0);
    const double final =
        gradient_ascent(model, x, start, steps, step).value.back();
    if (std::isfinite(final) && final > best) {
      best = final;
      best_step = step;
    }
  }
  return best_step;
}

MapEstimate find_map(model::GenerativeModelImpl& model, const torch::Tensor& x,
                     const torch::Tensor& start, int64_t steps, double lr) {
  check_2d(model);
  IAI_CHECK(steps > 0 && lr > 0, "MAP search needs steps > 0 and lr > 0");
  auto row = as_row(model, x);
  auto mu = start_point(start, model_dtype(model)).requires_grad_();
  torch::optim::Adam adam({mu}, torch::optim::AdamOptions(lr));
  // lr -> lr / 1000 over the run: large moves first, then settling.
  const double decay = std::pow(1e-3, 1.0 / static_cast<double>(steps));
  torch::AutoGradMode enable(true);
  for (int64_t t = 0; t < steps; ++t) {
    // The gradient reaches mu only; the model's parameters keep no .grad.
    auto loss = -objective(model, row, mu).sum();
    mu.mutable_grad() = torch::autograd::grad({loss}, {mu})[0];
    adam.step();
    for (auto& group : adam.param_groups()) {
      auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
      o.lr(o.lr() * decay);
    }
  }
  MapEstimate map;
  map.mu1 = mu[0][0].item<double>();
  map.mu2 = mu[0][1].item<double>();
  map.value = value_at(model, row, mu.detach());
  return map;
}

}  // namespace iai::analysis
