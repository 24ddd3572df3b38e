// Throughput of a training step, inference and importance-weighted
// evaluation against the machine's practical peak. bench/compare.sh runs the
// same cases in Python PyTorch (bench/pytorch_baseline.py) beside them.
//
//   ./build/bench/iai_bench            (about 1-2 minutes on 2 cores)
//
// 1. peak/blas/mm2048/thr:N, peak/onednn/mm2048/thr:N
//                     a 2048^3 fp32 product at N threads through LibTorch's
//                     BLAS (torch::mm: OpenBLAS on Debian) and through
//                     oneDNN (cpu/gemm.h, where built in): the practical
//                     GEMM peaks of this build. "Of peak" is against the
//                     better of the two, the best product this build can
//                     run on this machine.
// 2. step/<kind>/S:s/T:t/thr:N
//                     one training step exactly as train/trainer.cpp runs it
//                     (train/step/train_batch: zero_grad, accumulate_gradients,
//                     the finiteness read-back, both FusedAdam
//                     step()s) at the paper's MNIST settings: B = 64, D = 784,
//                     Z = 64, encoder highway 2x512, decoder sequential 2x512.
// 3. infer/iterative/S:10/T:5/thr:N   T inference iterations on 250 examples
//                     (run_inference, nothing trained); iw/K:5000/thr:N
//                     importance-weighted log p(x) of 16 examples, K = 5000.
//    Counters: ex/s (examples per second), GFLOP/s (achieved, from the
//    minimum FLOP count step_flops() / infer_flops() below, not from what
//    LibTorch happens to execute) and peak_frac = GFLOP/s / measured peak at
//    the same thread count; on step rows products_ms, the part of a step spent
//    in its matrix products (gemm::ProductClock).
//    products/standard/thr:N  the standard step's matrix products alone,
//                     their operands warm: what its "in products" would be
//                     without the rest of the step's memory traffic.
// 4. adam/torch|fused/thr:N  one Adam step of the standard model's ~2.5M
//                     parameters: torch::optim::Adam against FusedAdam
//                     (train/optim/fused_adam.h); GB/s of minimum memory
//                     traffic.
// A summary table is printed after all benchmarks have run.

#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/cpu/allocator.h"
#include "iai/cpu/blas_core.h"
#include "iai/cpu/gemm.h"
#include "iai/cpu/product_clock.h"
#include "iai/inference/run_inference.h"
#include "iai/objectives/importance_weighted.h"
#include "iai/train/config/config.h"
#include "iai/train/config/factory.h"
#include "iai/train/optim/optimizers.h"
#include "iai/train/step/train_batch.h"

#include <benchmark/benchmark.h>
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

constexpr int64_t kBatch = 64;
constexpr int64_t kData = 784;
constexpr int64_t kLatent = 64;
constexpr int64_t kHidden = 512;
constexpr int64_t kPeakN = 2048;

// ---------------------------------------------------------------------------
// Minimum FLOPs of one training step (2*m*n*k per GEMM; elementwise ops,
// sampling, the likelihood and Adam are ignored). Networks of the paper's
// MNIST model, written for its shapes (two hidden layers each):
//
//   decoder (sequential), per row:  Z->H, H->H, H->D
//     dec(N)      = 2 N (Z H + H H + H D)          forward on N = B S rows
//     backward to its input (z, hence lambda) runs every layer's input grad,
//     first layer included: same GEMM shapes transposed -> dec(N) again.
//     Weight grads: dec(N) again, needed only at the last iteration.
//   encoder (highway, fused: layer 0 one Dense in->3H, layer 1 H->2H), B rows
//     iterative: in = 6Z + D (grad encoding 4Z, mu, logvar, data), head H->4Z
//     standard:  in = D,                                            head H->2Z
//     enc_fwd     = 2 B (in 3H + H 2H + H head)
//     enc_wgrad   = enc_fwd                        (every layer's weights)
//   iterative: the D data columns of layer 0 read the same x at every
//   iteration, so their part of layer 0's product and of its weight
//   gradient, 2 B D 3H each, is needed once per step, not T times
//   (inference/iterative_encoder.cpp, nn/deferred_weight_gradients.h)
//     enc_igrad   = 2 B (H 2H + H head)            (all but the first layer:
//                                                   its input is not learned)
//
//   step = [iterative] 2 dec(BS)                   initial gradient at the
//                                                   prior: fwd + bwd-to-input
//        + T (enc_fwd + enc_wgrad + enc_igrad + 2 dec(BS))
//        - [iterative] (T - 1) 2 (2 B D 3H)        data columns, once
//        + dec(BS)                                 decoder weight grads, t = T
// ---------------------------------------------------------------------------
double step_flops(int64_t B, int64_t S, int64_t T, int64_t D, int64_t Z,
                  int64_t H, bool iterative) {
  const double N = static_cast<double>(B * S);
  const double dec = 2.0 * N * double(Z * H + H * H + H * D);
  const double in = iterative ? double(6 * Z + D) : double(D);
  const double head = iterative ? double(4 * Z) : double(2 * Z);
  const double b = static_cast<double>(B);
  const double enc_fwd = 2.0 * b * (in * 3 * H + double(H) * 2 * H + H * head);
  const double enc_wgrad = enc_fwd;
  const double enc_igrad = 2.0 * b * (double(H) * 2 * H + H * head);
  double flops = 0;
  if (iterative) flops += 2 * dec;
  flops += double(T) * (enc_fwd + enc_wgrad + enc_igrad + 2 * dec);
  if (iterative) flops -= double(T - 1) * 2 * (2.0 * b * double(D) * 3 * H);
  flops += dec;
  return flops;
}

// Measured peaks (GFLOP/s) by thread count: filled by the peak benchmarks,
// or measured on demand if those were filtered out.
std::map<int, double>& peaks() {
  static std::map<int, double> p;
  return p;
}

/// The product a peak benchmark measures: LibTorch's BLAS or oneDNN.
enum class PeakBackend { kBlas, kOneDnn };

torch::Tensor peak_product(PeakBackend backend, const torch::Tensor& a,
                           const torch::Tensor& b) {
  return backend == PeakBackend::kBlas ? torch::mm(a, b) : iai::gemm::mm(a, b);
}

double measure_peak(int threads) {
  iai::set_threads(threads);
  torch::NoGradGuard no_grad;
  auto a = torch::rand({kPeakN, kPeakN});
  auto b = torch::rand({kPeakN, kPeakN});
  double best = 0;
  for (auto backend : {PeakBackend::kBlas, PeakBackend::kOneDnn}) {
    if (backend == PeakBackend::kOneDnn && !iai::gemm::uses_onednn()) continue;
    auto c = peak_product(backend, a, b);  // warm-up
    const int reps = 5;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) c = peak_product(backend, a, b);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    best = std::max(best, reps * 2.0 * kPeakN * kPeakN * kPeakN / s / 1e9);
  }
  return best;
}

double peak(int threads) {
  auto it = peaks().find(threads);
  if (it != peaks().end()) return it->second;
  return peaks()[threads] = measure_peak(threads);
}

void BM_Peak(benchmark::State& state, int threads, PeakBackend backend) {
  iai::set_threads(threads);
  torch::NoGradGuard no_grad;
  iai::seed_everything(1);
  auto a = torch::rand({kPeakN, kPeakN});
  auto b = torch::rand({kPeakN, kPeakN});
  auto c = peak_product(backend, a, b);  // warm-up
  for (auto _ : state) {
    c = peak_product(backend, a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * kPeakN * kPeakN * kPeakN / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
  state.counters["thr"] = threads;
}

struct StepCase {
  bool iterative;
  int64_t samples;
  int64_t iterations;
  int threads;
};

void BM_Step(benchmark::State& state, StepCase c) {
  iai::set_threads(c.threads);
  iai::seed_everything(1);
  iai::train::TrainConfig config;  // paper's MNIST defaults
  config.inference = c.iterative ? "iterative" : "standard";
  config.samples = c.samples;
  config.iterations = c.iterations;
  config.batch_size = kBatch;
  config = iai::train::resolve(config);

  auto model = iai::train::build_model(config, kData);
  auto procedure = iai::train::build_procedure(config, kData, model);
  iai::train::Optimizers optimizers(model->parameters(),
                                    procedure->parameters(), config.lr);
  model->train();
  procedure->train();
  auto x = torch::bernoulli(torch::rand({kBatch, kData}));
  iai::train::BatchSettings settings;
  settings.iterations = config.iterations;
  settings.samples = config.samples;
  settings.gradient_batch = kBatch;

  // Exactly the trainer's step: zero_grad, accumulate, finiteness read-back,
  // both Adam steps.
  auto step = [&] {
    return iai::train::train_batch(*model, *procedure, optimizers, x, settings);
  };
  step();                            // warm-up: allocates Adam state and grads
  iai::gemm::ProductClock products;  // the time inside the step's products
  for (auto _ : state) {
    auto result = step();
    benchmark::DoNotOptimize(result.updated);
  }
  state.counters["products_ms"] = benchmark::Counter(
      products.seconds() * 1e3, benchmark::Counter::kAvgIterations);
  const double flops = step_flops(kBatch, c.samples, c.iterations, kData,
                                  kLatent, kHidden, c.iterative);
  state.counters["ex/s"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/step"] = flops / 1e9;
  state.counters["thr"] = c.threads;
}

// The standard MNIST model's parameters, the encoder's then the decoder's
// (freshly initialised, seed 1), at `threads` threads.
std::vector<torch::Tensor> standard_parameters(int threads) {
  iai::set_threads(threads);
  iai::seed_everything(1);
  iai::train::TrainConfig config;
  config.inference = "standard";
  config = iai::train::resolve(config);
  auto model = iai::train::build_model(config, kData);
  auto procedure = iai::train::build_procedure(config, kData, model);
  std::vector<torch::Tensor> params = procedure->parameters();
  for (auto& p : model->parameters()) params.push_back(p);
  return params;
}

// The standard step's matrix products alone: every dense layer's forward
// product, its input's gradient (not for the encoder's first layer, whose
// input is the data) and its weight gradient, at batch 64, one after the
// other and again, so that the weights stay in the caches. The same
// minimum FLOPs as step/standard/S:1/T:1: against that step's "in
// products" it shows what the step's own traffic (the other layers'
// weights, the gradients, Adam's state) costs its products.
void BM_StandardProducts(benchmark::State& state, int threads) {
  const std::vector<torch::Tensor> params = standard_parameters(threads);
  struct Layer {
    torch::Tensor w, x, g, g_t;
    bool input_gradient;
  };
  std::vector<Layer> layers;
  double flops = 0;
  for (const auto& w : params) {
    if (w.dim() != 2) continue;  // biases
    const int64_t out = w.size(0), in = w.size(1);
    Layer l{w.detach(),
            torch::randn({kBatch, in}),
            torch::randn({kBatch, out}),
            {},
            in != kData};
    l.g_t = l.g.t().contiguous();
    layers.push_back(l);
    flops += 2.0 * kBatch * double(in * out) * (l.input_gradient ? 3 : 2);
  }
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    for (const auto& l : layers) {
      benchmark::DoNotOptimize(iai::gemm::mm(l.x, l.w.t()));
      if (l.input_gradient) benchmark::DoNotOptimize(iai::gemm::mm(l.g, l.w));
      benchmark::DoNotOptimize(iai::gemm::mm(l.g_t, l.x));
    }
  }
  state.counters["ex/s"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/step"] = flops / 1e9;
  state.counters["thr"] = threads;
}

// Pure inference: T iterations of the iterative model on kInferBatch
// examples (the evaluation's batch), S samples, nothing trained. Minimum
// FLOPs: the feedback at lambda_0 .. lambda_{T-1} (decoder forward and
// backward to its input), the ELBO alone at lambda_T, T encoder passes
// (the data columns' part of the first layer once).
constexpr int64_t kInferBatch = 250;

double infer_flops(int64_t B, int64_t S, int64_t T) {
  const double N = static_cast<double>(B * S);
  const double dec =
      2.0 * N * double(kLatent * kHidden + kHidden * kHidden + kHidden * kData);
  const double in = double(6 * kLatent + kData);
  const double enc_fwd = 2.0 * double(B) *
                         (in * 3 * kHidden + double(kHidden) * 2 * kHidden +
                          double(kHidden) * 4 * kLatent);
  const double data_part = 2.0 * double(B) * double(kData) * 3 * kHidden;
  return double(T) * (2 * dec + enc_fwd) + dec - double(T - 1) * data_part;
}

void BM_Infer(benchmark::State& state, int threads) {
  iai::set_threads(threads);
  iai::seed_everything(1);
  iai::train::TrainConfig config;  // paper's MNIST defaults: S = 10, T = 5
  config = iai::train::resolve(config);
  auto model = iai::train::build_model(config, kData);
  auto procedure = iai::train::build_procedure(config, kData, model);
  model->eval();
  procedure->eval();
  auto x = torch::bernoulli(torch::rand({kInferBatch, kData}));
  auto run = [&] {
    return iai::inference::run_inference(*model, *procedure, x,
                                         config.iterations, config.samples,
                                         config.batch_size);
  };
  run();  // warm-up
  for (auto _ : state) {
    auto steps = run();
    benchmark::DoNotOptimize(steps.back().terms.elbo.data_ptr<float>());
  }
  state.counters["ex/s"] = benchmark::Counter(
      kInferBatch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      infer_flops(kInferBatch, config.samples, config.iterations) / 1e9,
      benchmark::Counter::kIsIterationInvariantRate);
  state.counters["thr"] = threads;
}

// Importance-weighted log p(x), K = 5000, on kIwBatch examples in chunks of
// the evaluation's CPU rows: minimum FLOPs one decoder forward per sample.
constexpr int64_t kIwBatch = 16, kIwSamples = 5000;

void BM_Iw(benchmark::State& state, int threads) {
  iai::set_threads(threads);
  iai::seed_everything(1);
  iai::train::TrainConfig config;
  config = iai::train::resolve(config);
  auto model = iai::train::build_model(config, kData);
  model->eval();
  auto x = torch::bernoulli(torch::rand({kIwBatch, kData}));
  iai::inference::Posterior q{torch::randn({kIwBatch, kLatent}) * 0.5,
                              torch::full({kIwBatch, kLatent}, -2.0)};
  auto run = [&] {
    return iai::objectives::importance_weighted_log_px(
        *model, x, q, kIwSamples,
        iai::objectives::default_iw_rows(torch::kCPU) / kIwBatch);
  };
  run();  // warm-up
  for (auto _ : state) {
    auto log_px = run();
    benchmark::DoNotOptimize(log_px.data_ptr<float>());
  }
  const double dec =
      2.0 * double(kIwBatch * kIwSamples) *
      double(kLatent * kHidden + kHidden * kHidden + kHidden * kData);
  state.counters["ex/s"] = benchmark::Counter(
      kIwBatch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      dec / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["thr"] = threads;
}

// One Adam step of both networks of the standard MNIST model (~2.5M
// parameters), the library's torch::optim::Adam against FusedAdam, in one
// run. Counter GB/s: the minimum memory traffic (read p, g, m, v; write p,
// m, v: 28 bytes per parameter) per second.
void BM_Adam(benchmark::State& state, bool fused, int threads) {
  std::vector<torch::Tensor> params = standard_parameters(threads);
  const double lr = iai::train::TrainConfig().lr;
  int64_t n = 0;
  for (auto& p : params) {
    p.mutable_grad() = torch::randn_like(p);
    n += p.numel();
  }
  std::unique_ptr<torch::optim::Adam> adam =
      fused ? std::make_unique<iai::train::FusedAdam>(params, lr)
            : std::make_unique<torch::optim::Adam>(params, lr);
  adam->step();  // warm-up: allocates the state
  for (auto _ : state) adam->step();
  state.counters["GB/s"] = benchmark::Counter(
      28.0 * double(n) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["params"] = double(n);
  state.counters["thr"] = threads;
}

struct Row {
  std::string name;
  double ms;
  double ex_s;
  double gflops;
  int threads;
  double frac;
  bool is_peak;
  double products_ms = 0;  // of ms, in matrix products (step rows)
};

// Console output as usual, plus peak_frac on each step row, plus the rows
// kept for the closing table.

/// Whether a run failed: Google Benchmark 1.8 replaced Run::error_occurred
/// (Debian 12's 1.7) with Run::skipped.
template <class R>
auto failed(const R& run, int) -> decltype(bool(run.error_occurred)) {
  return run.error_occurred;
}
template <class R>
bool failed(const R& run, long) {
  return run.skipped != decltype(run.skipped){};
}

class TableReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal (the library's own flag drives only its
  // default reporter).
  TableReporter()
      : ConsoleReporter(isatty(fileno(stdout)) ? OO_Defaults : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> out = runs;
    for (auto& run : out) {
      if (failed(run, 0) || run.run_type != Run::RT_Iteration ||
          run.counters.find("GFLOP/s") == run.counters.end()) {
        continue;  // rows without FLOPs (adam/...) stay in the console only
      }
      const int threads = static_cast<int>(run.counters.at("thr").value);
      const double gflops = run.counters.at("GFLOP/s").value;
      const bool is_peak = run.counters.find("ex/s") == run.counters.end();
      if (is_peak) {
        // The best product of this build at this thread count.
        auto& best = peaks()[threads];
        best = std::max(best, gflops);
        rows.push_back({run.run_name.function_name, run.GetAdjustedRealTime(),
                        0, gflops, threads, 1.0, true});
      } else {
        const double frac = gflops / peak(threads);
        run.counters["peak_frac"] = frac;
        const auto products = run.counters.find("products_ms");
        rows.push_back(
            {run.run_name.function_name, run.GetAdjustedRealTime(),
             run.counters.at("ex/s").value, gflops, threads, frac, false,
             products == run.counters.end() ? 0.0 : products->second.value});
      }
    }
    ConsoleReporter::ReportRuns(out);
  }

  void PrintTable() const {
    // "in products": the ms of each step spent in its matrix products
    // (gemm::ProductClock), and the fraction of peak they reach there on
    // the step's minimum FLOPs (a floor: a product beyond the minimum
    // counts in their time but not in their FLOPs).
    std::printf("\n%-30s %10s %10s %9s %9s %12s %9s\n", "benchmark", "ms/iter",
                "ex/s", "GFLOP/s", "of peak", "in products", "of peak");
    for (const auto& r : rows) {
      if (r.is_peak) {
        std::printf("%-30s %10.2f %10s %9.1f %9s\n", r.name.c_str(), r.ms, "-",
                    r.gflops, "(peak)");
      } else if (r.products_ms > 0) {
        std::printf("%-30s %10.2f %10.0f %9.1f %8.1f%% %12.2f %8.1f%%\n",
                    r.name.c_str(), r.ms, r.ex_s, r.gflops, 100.0 * r.frac,
                    r.products_ms, 100.0 * r.frac * r.ms / r.products_ms);
      } else {
        std::printf("%-30s %10.2f %10.0f %9.1f %8.1f%%\n", r.name.c_str(), r.ms,
                    r.ex_s, r.gflops, 100.0 * r.frac);
      }
    }
    const auto& p = peaks();
    if (p.count(1) && p.count(2) && p.at(2) < 1.3 * p.at(1)) {
      std::printf(
          "WARNING: the 2-thread peak is under 1.3x the 1-thread peak: "
          "another process is probably busy on a core, so the 2-thread rows "
          "measure contention, not this code.\n");
    }
  }

  std::vector<Row> rows;
};

void register_all() {
  for (int threads : {1, 2}) {
    for (auto backend : {PeakBackend::kBlas, PeakBackend::kOneDnn}) {
      if (backend == PeakBackend::kOneDnn && !iai::gemm::uses_onednn())
        continue;
      const std::string name =
          backend == PeakBackend::kBlas ? "blas" : "onednn";
      benchmark::RegisterBenchmark(
          ("peak/" + name + "/mm2048/thr:" + std::to_string(threads)).c_str(),
          BM_Peak, threads, backend)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(1.0);
    }
  }
  // (iterative, S, T)
  const std::vector<StepCase> cases = {
      {false, 1, 1, 0}, {false, 10, 1, 0}, {true, 1, 1, 0},
      {true, 1, 5, 0},  {true, 10, 1, 0},  {true, 10, 5, 0},
  };
  for (int threads : {1, 2}) {
    for (StepCase c : cases) {
      c.threads = threads;
      const std::string name = std::string("step/") +
                               (c.iterative ? "iterative" : "standard") +
                               "/S:" + std::to_string(c.samples) +
                               "/T:" + std::to_string(c.iterations) +
                               "/thr:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), BM_Step, c)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(1.0);
    }
  }
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(
        ("products/standard/thr:" + std::to_string(threads)).c_str(),
        BM_StandardProducts, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(1.0);
  }
  for (int threads : {1, 2}) {
    const std::string thr = "/thr:" + std::to_string(threads);
    benchmark::RegisterBenchmark(("infer/iterative/S:10/T:5" + thr).c_str(),
                                 BM_Infer, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(1.0);
    benchmark::RegisterBenchmark(("iw/K:5000" + thr).c_str(), BM_Iw, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(2.0);
  }
  for (int threads : {1, 2}) {
    for (bool fused : {false, true}) {
      const std::string name = std::string("adam/") +
                               (fused ? "fused" : "torch") +
                               "/thr:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), BM_Adam, fused, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(0.5);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  iai::keep_freed_memory();  // as the CLI does
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Which kernels each product runs on, in the output's context (and so in
  // --benchmark_out's JSON, which bench/compare.sh reads).
  const auto core = iai::blas::openblas_core();
  benchmark::AddCustomContext("openblas_core", core ? *core : "not OpenBLAS");
  benchmark::AddCustomContext("products", iai::gemm::backend());
  iai::blas::warn_once_if_crippled();
  register_all();
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintTable();
  benchmark::Shutdown();
  return 0;
}
