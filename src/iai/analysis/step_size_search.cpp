#include "iai/analysis/step_size_search.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/inference/run_inference.h"

#include <cmath>
#include <limits>

namespace iai::analysis {

std::vector<double> default_step_size_grid() {
  return {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0};
}

StepSizeSearch search_step_size(
    model::GenerativeModelImpl& model,
    const std::function<inference::InferenceProcedure(double)>& make,
    const torch::Tensor& x, const std::vector<double>& grid, int64_t iterations,
    int64_t samples, int64_t gradient_batch) {
  IAI_CHECK(!grid.empty(), "step-size search needs at least one candidate");
  StepSizeSearch result;
  result.best = grid.front();
  double best_score = -std::numeric_limits<double>::infinity();
  const torch::Tensor on_device = to_device(x, device_of(model));
  for (double step : grid) {
    auto procedure = make(step);
    auto steps = inference::run_inference(model, *procedure, on_device,
                                          iterations, samples, gradient_batch);
    double score = steps.back().terms.elbo.mean().item<double>();
    if (!std::isfinite(score)) score = std::nan("");
    result.scores.emplace_back(step, score);
    if (std::isfinite(score) && score > best_score) {
      best_score = score;
      result.best = step;
    }
  }
  return result;
}

}  // namespace iai::analysis
