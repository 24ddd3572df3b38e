#pragma once
// The objective of a point-estimate posterior q = delta(mu) over a 2-D latent
// space, for one data example: L(mu) = log p(x | mu) + log p(mu) (the MAP
// objective of model/elbo.h), on a grid, at given points, and maximised by
// gradient ascent. These are Figures 1 and 3 of the paper (Sections 3.1 and
// 5.1): the surface, its optimum (MAP), a gradient-ascent trajectory and an
// inference model's estimates drawn on it.

#include "iai/model/generative_model.h"

#include <torch/types.h>

#include <vector>

namespace iai::analysis {

/// A rectangle in (mu_1, mu_2) sampled at points x points (mu_1 along the
/// columns, mu_2 along the rows).
struct SurfaceBounds {
  double mu1_min = -3, mu1_max = 3;
  double mu2_min = -3, mu2_max = 3;
};

/// L(mu) = log p(x | mu) + log N(mu; 0, I) for each row of mu (N,2); x is
/// (D) or (1,D). Returns (N) in the model's dtype, detached. Throws
/// iai::Error unless the model's latent space is 2-D.
torch::Tensor point_objective(model::GenerativeModelImpl& model,
                              const torch::Tensor& x, const torch::Tensor& mu);

/// The grid's coordinates along one axis: `points` values evenly spaced
/// from lo to hi inclusive.
std::vector<double> grid_axis(double lo, double hi, int64_t points);

/// L on a points x points grid over `bounds`: a (points, points) tensor
/// whose entry [j][i] is L at (mu_1 = axis1[i], mu_2 = axis2[j]), axes from
/// grid_axis. Evaluated in chunks of `chunk` decoder rows. Throws iai::Error
/// for points < 2, an empty rectangle or a latent space that is not 2-D.
torch::Tensor elbo_surface(model::GenerativeModelImpl& model,
                           const torch::Tensor& x, const SurfaceBounds& bounds,
                           int64_t points, int64_t chunk = 4096);

/// A path in the latent space: mu at each step and L there.
struct LatentPath {
  std::vector<double> mu1, mu2, value;
};

/// Plain gradient ascent mu <- mu + step_size * grad_mu L from `start` (2),
/// for `steps` steps on this example's own objective (not divided by a batch
/// size). Returns steps + 1 points, the start first.
LatentPath gradient_ascent(model::GenerativeModelImpl& model,
                           const torch::Tensor& x, const torch::Tensor& start,
                           int64_t steps, double step_size);

/// The step size among 1e-4 ... 1 (half-decades) whose gradient ascent
/// from `start` reaches the highest L after `steps` steps (ties: the
/// smaller step).
double tune_ascent_step(model::GenerativeModelImpl& model,
                        const torch::Tensor& x, const torch::Tensor& start,
                        int64_t steps);

/// The MAP estimate: the maximum of L found by Adam from `start` (2) for
/// `steps` steps, its learning rate `lr` decaying geometrically to lr/1000
/// (long enough to settle in the optimum to well within a grid cell).
/// Returns {mu1, mu2, L}.
struct MapEstimate {
  double mu1 = 0, mu2 = 0, value = 0;
};
MapEstimate find_map(model::GenerativeModelImpl& model, const torch::Tensor& x,
                     const torch::Tensor& start, int64_t steps = 2000,
                     double lr = 0.05);

}  // namespace iai::analysis
