#include "iai/analysis/run_tensors.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/data/tensor_examples.h"
#include "iai/model/prior_sample.h"

#include <c10/core/ScalarType.h>

namespace iai::analysis {

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) {
    s += (i ? ", " : "") + std::to_string(t.size(i));
  }
  return s + "]";
}

/// (N, width) float32, dense, finite.
void check_rows(const torch::Tensor& t, const std::string& name, int64_t width,
                const std::string& what) {
  IAI_CHECK(t.defined(), name, " is an undefined tensor");
  IAI_CHECK(t.layout() == torch::kStrided, name,
            " must be a dense tensor, got layout ", t.layout());
  IAI_CHECK(t.scalar_type() == torch::kFloat, name,
            " must be float32, the model's dtype, got ",
            c10::toString(t.scalar_type()), " (convert it with ", name,
            ".float())");
  IAI_CHECK(t.dim() == 2 && t.size(1) == width, name, " must be (N, ", width,
            "): one ", what, " per row; got shape ", shape_of(t),
            t.dim() > 2 ? " (flatten each row: " + name + ".reshape(len(" +
                              name + "), -1))"
                        : std::string());
  IAI_CHECK(t.size(0) > 0, name, " holds no rows");
  const auto finite = torch::isfinite(t);
  if (!finite.all().item<bool>()) {
    const auto bad = (~finite).any(/*dim=*/1).nonzero();
    throw Error(message(name, " holds NaN or infinite values (in ", bad.size(0),
                        " of its ", t.size(0), " rows, the first row ",
                        bad[0].item<int64_t>(), ")"));
  }
}

}  // namespace

void check_examples(const LoadedRun& run, const torch::Tensor& x,
                    const std::string& name) {
  check_rows(x, name, run.model->data_dim(), "example");
  torch::NoGradGuard no_grad;
  const double low = x.min().item<double>();
  const double high = x.max().item<double>();
  switch (run.model->likelihood()) {
    case model::Likelihood::kBernoulli:
      IAI_CHECK(low >= 0 && high <= 1, name, " holds values in [", low, ", ",
                high,
                "], outside [0, 1], the support of this run's "
                "Bernoulli likelihood (binarise images to {0, 1}, e.g. "
                "torch.bernoulli(pixels / 255.0))");
      break;
    case model::Likelihood::kMultinomial:
      IAI_CHECK(low >= 0, name, " holds negative values (as low as ", low,
                "); this run's multinomial likelihood reads word counts "
                ">= 0");
      break;
    case model::Likelihood::kGaussian:
      break;  // every finite value
  }
}

void check_latents(const LoadedRun& run, const torch::Tensor& z,
                   const std::string& name) {
  check_rows(z, name, run.model->latent_dim(), "latent vector");
}

objectives::Evaluation infer_tensor(LoadedRun& run, const torch::Tensor& x,
                                    const InferenceSettings& settings) {
  check_examples(run, x);
  const auto examples = data::tensor_examples(x.to(device_of(*run.model)));
  return infer_examples(run, *examples, settings);
}

torch::Tensor decode(LoadedRun& run, const torch::Tensor& z) {
  check_latents(run, z);
  torch::NoGradGuard no_grad;
  run.model->eval();
  return run.model->output_mean(z.to(device_of(*run.model)));
}

ModelSamples sample(LoadedRun& run, int64_t n) {
  IAI_CHECK(n > 0, "the number of samples must be positive, got ", n);
  torch::NoGradGuard no_grad;
  run.model->eval();
  ModelSamples s;
  s.z = model::sample_prior(*run.model, n);
  s.x_mean = run.model->output_mean(s.z);
  return s;
}

}  // namespace iai::analysis
