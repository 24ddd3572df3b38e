#pragma once
// Step sizes for optimiser inference, chosen as the paper did: each
// optimiser's step size tuned on held-out data. A grid search over a
// procedure factory, scored by the mean ELBO after the last iteration.

#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"

#include <functional>
#include <vector>

namespace iai::analysis {

/// Default grid: 1e-4 ... 3 in half-decades.
std::vector<double> default_step_size_grid();

struct StepSizeSearch {
  /// The step size with the best final ELBO (the grid's first when every
  /// candidate diverged).
  double best = 0;
  /// (step size, mean final ELBO; NaN when it diverged), in grid order.
  std::vector<std::pair<double, double>> scores;
};

/// Runs make(step) for `iterations` iterations on x (B,D) for every step
/// size of the grid, S samples per ELBO, gradients scaled by gradient_batch.
StepSizeSearch search_step_size(
    model::GenerativeModelImpl& model,
    const std::function<inference::InferenceProcedure(double)>& make,
    const torch::Tensor& x, const std::vector<double>& grid, int64_t iterations,
    int64_t samples, int64_t gradient_batch);

}  // namespace iai::analysis
