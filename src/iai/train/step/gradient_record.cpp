#include "iai/train/step/gradient_record.h"

#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/inference/run_inference.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace iai::train {

std::vector<double> mean_abs_mu_gradients(
    model::GenerativeModelImpl& model,
    inference::InferenceProcedureImpl& procedure, const torch::Tensor& x,
    int64_t iterations, int64_t samples, int64_t gradient_batch) {
  // Recording draws samples; training must not see that.
  const auto state = rng_state();
  std::vector<double> out;
  const auto steps = inference::run_inference(model, procedure, x, iterations,
                                              samples, gradient_batch);
  for (const auto& step : steps) {
    // gradient_batch = 1: each example's own dL_i/dmu_i.
    auto at = inference::elbo_with_feedback(model, x, step.posterior, samples,
                                            /*gradient_batch=*/1,
                                            inference::FeedbackKind::kGradient);
    out.push_back(at.feedback.gradient.mu.abs().mean().item<double>());
  }
  set_rng_state(state);
  return out;
}

bool records_gradients_at(int64_t step, int64_t every) {
  return every > 0 && step >= 1 && (step - 1) % every == 0;
}

void append_gradient_record(const std::string& path, int64_t step,
                            int64_t epoch, const std::vector<double>& values) {
  nlohmann::json record = {{"step", step},
                           {"epoch", epoch},
                           {"iterations", values.size()},
                           {"mean_abs_grad_mu", values}};
  std::ofstream out(path, std::ios::app);
  IAI_CHECK(out.good(), "cannot append to gradient log '", path, "'");
  out << record.dump() << '\n';
  IAI_CHECK(out.good(), "writing gradient log '", path, "' failed");
}

}  // namespace iai::train
