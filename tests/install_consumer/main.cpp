// Loads a trained run through the installed library and infers lambda for a
// batch of binary images: iai_consumer RUN_FOLDER. Prints the ELBO after each
// iteration of the first example; exits 1 unless every number is finite and
// the shapes are the run's.

#include "iai/analysis/loaded_run.h"
#include "iai/analysis/run_eval.h"
#include "iai/core/error.h"
#include "iai/data/tensor_examples.h"

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: iai_consumer RUN_FOLDER\n");
    return 2;
  }
  try {
    auto run = iai::analysis::load_run(argv[1], torch::kCPU);
    torch::manual_seed(0);
    // x is (B,D): 5 binary images.
    const auto x = torch::bernoulli(torch::full({5, run.header.data_dim}, 0.3));
    iai::analysis::InferenceSettings settings;  // the run's T and S
    const auto eval = iai::analysis::infer_examples(
        run, *iai::data::tensor_examples(x), settings);
    const int64_t t = run.header.config.iterations;
    const bool ok =
        eval.mu.sizes() == torch::IntArrayRef{5, run.model->latent_dim()} &&
        eval.elbo_per_iteration.sizes() == torch::IntArrayRef{5, t} &&
        torch::isfinite(eval.elbo_per_iteration).all().item<bool>() &&
        torch::isfinite(eval.mu).all().item<bool>();
    std::printf("ELBO per iteration (example 0):");
    for (int64_t i = 0; i < eval.elbo_per_iteration.size(1); ++i) {
      std::printf(" %.3f", eval.elbo_per_iteration[0][i].item<double>());
    }
    std::printf("\n%s\n", ok ? "ok" : "wrong shapes or non-finite values");
    return ok ? 0 : 1;
  } catch (const iai::Error& e) {
    std::fprintf(stderr, "iai_consumer: %s\n", e.what());
    return 1;
  }
}
