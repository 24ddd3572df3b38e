// The cases of bench/pytorch_baseline.py, timed on any device with nothing
// beyond LibTorch (no Google Benchmark: GPU machines lack it), for
// scripts/gpu-check.sh's GPU-vs-PyTorch and GPU-vs-CPU columns.
//
//   build/bench/iai_device_bench [--device cuda] [--seconds 2] [--threads N]
//                                [--precision fp32|tf32|bf16] [--filter TEXT]
//                                [--json] [--profile FILE]
//
// step/<kind>/S:s/T:t   one training step as the trainer takes it
//                       (train_batch: the host batch copied to the device,
//                       both Adams, the ELBO sums and finiteness read back),
//                       paper's MNIST model, B = 64; on a GPU replayed from
//                       a CUDA graph as the trainer does (--cuda-graph auto)
// step/<kind>/S:s/T:t/eager   on a GPU: the same step, every kernel eager
// infer/iterative/S:10/T:5   T inference iterations on 250 examples
// iw/K:5000             importance-weighted log p(x), K = 5000, 16 examples
// Times are means over at least --seconds after a warm-up, each call
// finished on the device (a read-back) before the clock stops.
// --profile FILE records every LibTorch operator of the timed calls (after
// the warm-up) in a Chrome trace, and says on stderr how many calls it
// holds; bench/profile_table.py FILE --calls N sums each operator's self
// time and count per call: where a step's time goes, and on a GPU how many
// kernels an eager step launches.

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/precision.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/cpu/allocator.h"
#include "iai/inference/run_inference.h"
#include "iai/objectives/importance_weighted.h"
#include "iai/train/config/config.h"
#include "iai/train/config/factory.h"
#include "iai/train/optim/optimizers.h"
#include "iai/train/step/train_batch.h"

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/types.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int64_t kBatch = 64, kData = 784, kLatent = 64;
constexpr int64_t kInferBatch = 250;
constexpr int64_t kIwBatch = 16, kIwSamples = 5000;

struct Case {
  std::string name;
  std::function<void()> run;  // returns once the device has finished
  int64_t examples;
};

double seconds_per_call(const std::function<void()>& run, double seconds,
                        const std::string& profile, const std::string& name) {
  run();  // warm-up: allocations, Adam state, kernel selection
  std::unique_ptr<torch::autograd::profiler::RecordProfile> recording;
  if (!profile.empty()) {
    recording =
        std::make_unique<torch::autograd::profiler::RecordProfile>(profile);
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t calls = 0;
  for (;;) {
    run();
    ++calls;
    const double elapsed =
        std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed >= seconds && calls >= 3) {
      if (recording) {
        std::fprintf(stderr, "iai_device_bench: %s: %lld calls in %s\n",
                     name.c_str(), static_cast<long long>(calls),
                     profile.c_str());
      }
      return elapsed / calls;
    }
  }
}

iai::train::TrainConfig paper_config(const char* inference, int64_t samples,
                                     int64_t iterations) {
  iai::train::TrainConfig config;  // the paper's MNIST model
  config.inference = inference;
  config.samples = samples;
  config.iterations = iterations;
  config.batch_size = kBatch;
  return iai::train::resolve(config);
}

Case step_case(const torch::Device& device, const char* inference,
               int64_t samples, int64_t iterations, bool graph) {
  const auto config = paper_config(inference, samples, iterations);
  auto model = iai::train::build_model(config, kData);
  auto procedure = iai::train::build_procedure(config, kData, model);
  model->to(device);
  procedure->to(device);
  auto optimizers = std::make_shared<iai::train::Optimizers>(
      model->parameters(), procedure->parameters(), config.lr);
  model->train();
  procedure->train();
  const auto x = torch::bernoulli(torch::rand({kBatch, kData}));  // host
  auto step_graph =
      std::make_shared<iai::train::StepGraph>(graph ? "auto" : "off");
  iai::train::BatchSettings settings{
      iterations, samples, false, kBatch, device, nullptr, step_graph.get()};
  return {iai::message("step/", inference, "/S:", samples, "/T:", iterations,
                       graph || !device.is_cuda() ? "" : "/eager"),
          [=]() mutable {
            (void)step_graph;  // kept alive with the case
            // Reads the sums back: finished on the device when it returns.
            iai::train::train_batch(*model, *procedure, *optimizers, x,
                                    settings);
          },
          kBatch};
}

Case infer_case(const torch::Device& device) {
  const auto config = paper_config("iterative", 10, 5);
  auto model = iai::train::build_model(config, kData);
  auto procedure = iai::train::build_procedure(config, kData, model);
  model->to(device);
  procedure->to(device);
  model->eval();
  procedure->eval();
  const auto x = iai::to_device(
      torch::bernoulli(torch::rand({kInferBatch, kData})), device);
  return {"infer/iterative/S:10/T:5",
          [=]() mutable {
            auto steps = iai::inference::run_inference(
                *model, *procedure, x, config.iterations, config.samples,
                config.batch_size);
            steps.back().terms.elbo.sum().item<double>();
          },
          kInferBatch};
}

Case iw_case(const torch::Device& device) {
  const auto config = paper_config("iterative", 10, 5);
  auto model = iai::train::build_model(config, kData);
  model->to(device);
  model->eval();
  const auto x =
      iai::to_device(torch::bernoulli(torch::rand({kIwBatch, kData})), device);
  const iai::inference::Posterior q{
      iai::to_device(torch::randn({kIwBatch, kLatent}) * 0.5, device),
      iai::to_device(torch::full({kIwBatch, kLatent}, -2.0), device)};
  return {"iw/K:5000",
          [=]() mutable {
            torch::NoGradGuard no_grad;
            iai::objectives::importance_weighted_log_px(
                *model, x, q, kIwSamples,
                iai::objectives::default_iw_rows(device) / kIwBatch)
                .sum()
                .item<double>();
          },
          kIwBatch};
}

int run(int argc, char** argv) {
  std::string device_name = "auto", filter, precision = "fp32", profile;
  double seconds = 2;
  int threads = 0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      IAI_CHECK(i + 1 < argc, a, " needs a value");
      return argv[++i];
    };
    if (a == "--device") {
      device_name = value();
    } else if (a == "--seconds") {
      seconds = std::stod(value());
    } else if (a == "--threads") {
      threads = std::stoi(value());
    } else if (a == "--precision") {
      precision = value();
    } else if (a == "--filter") {
      filter = value();
    } else if (a == "--profile") {
      profile = value();
    } else if (a == "--json") {
      json = true;
    } else {
      throw iai::Error(iai::message("unknown argument '", a, "'"));
    }
  }
  const torch::Device device = iai::resolve_device(device_name);
  const iai::PrecisionScope precision_scope(precision, device);
  threads = iai::set_threads(threads);
  iai::seed_everything(1);
  std::vector<std::function<Case()>> cases = {
      [&] { return step_case(device, "standard", 1, 1, true); },
      [&] { return step_case(device, "iterative", 10, 5, true); },
      [&] { return infer_case(device); }, [&] { return iw_case(device); }};
  if (device.is_cuda()) {  // what the CUDA graph gains
    cases.push_back([&] { return step_case(device, "standard", 1, 1, false); });
    cases.push_back(
        [&] { return step_case(device, "iterative", 10, 5, false); });
  }
  std::string out;
  for (const auto& make : cases) {
    const Case c = make();
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    IAI_CHECK(profile.empty() || !filter.empty(),
              "--profile records one case: give --filter too");
    const double s = seconds_per_call(c.run, seconds, profile, c.name);
    if (json) {
      out += iai::message(out.empty() ? "" : ", ", "\"", c.name,
                          "\": {\"ms\": ", 1e3 * s,
                          ", \"ex_s\": ", c.examples / s, "}");
    } else {
      std::printf("%-28s %10.3f ms %12.1f ex/s\n", c.name.c_str(), 1e3 * s,
                  c.examples / s);
      std::fflush(stdout);
    }
  }
  if (json) {
    std::printf(
        "{\"device\": \"%s\", \"threads\": %d, \"precision\": \"%s\", "
        "\"results\": {%s}}\n",
        device.str().c_str(), threads, precision.c_str(), out.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  iai::keep_freed_memory();  // as the CLI does
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iai_device_bench: error: %s\n", e.what());
    return 1;
  }
}
