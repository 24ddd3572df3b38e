#include "iai/analysis/run_eval.h"

#include "iai/analysis/loaded_run.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/core/runtime_scope.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/data/idx.h"
#include "iai/inference/run_inference.h"
#include "iai/objectives/evaluation.h"
#include "iai/objectives/metrics.h"
#include "iai/parallel/process_group.h"
#include "iai/report/image_grid.h"
#include "iai/report/progress.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/config/training_data.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace iai::analysis {

namespace fs = std::filesystem;

namespace {

int64_t or_default(int64_t value, int64_t fallback) {
  return value > 0 ? value : fallback;
}

void check_config(const EvalConfig& config) {
  IAI_CHECK(config.iw_samples >= 0, "--iw-samples must be >= 0, got ",
            config.iw_samples);
  IAI_CHECK(config.max_examples >= 0, "--max-examples must be >= 0, got ",
            config.max_examples);
  IAI_CHECK(config.batch_size > 0, "--batch-size must be positive, got ",
            config.batch_size);
}

/// A point estimate has no density to importance-sample.
bool skips_log_px(const EvalInputs& inputs, const EvalConfig& config) {
  return inputs.run.procedure->point_estimate() && config.iw_samples > 0;
}

std::string binarisation(const train::TrainConfig& c, uint64_t seed) {
  if (c.likelihood == "gaussian") {
    return "none: uniform dequantisation (fresh draw), seed " +
           std::to_string(seed);
  }
  if (c.likelihood == "multinomial") return "none: word counts";
  return "dynamic (fresh Bernoulli draw), seed " + std::to_string(seed);
}

/// elbo_per_iteration's rows.
nlohmann::json iteration_rows(const objectives::Evaluation& eval) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t t = 0; t < eval.per_iteration.size(); ++t) {
    const auto& it = eval.per_iteration[t];
    nlohmann::json row = {{"iteration", t + 1},
                          {"elbo", it.elbo},
                          {"reconstruction", it.reconstruction},
                          {"kl", it.kl}};
    if (it.kl_levels.size() > 1) row["kl_levels"] = it.kl_levels;
    rows.push_back(row);
  }
  return rows;
}

/// Gaussian (dequantised) images are reported in bits/dim of the discrete
/// 0..255 data (docs/reference.md#data), word counts as perplexity over
/// all test words, from the IW log p(x) and as a bound from the ELBO.
void add_data_measures(nlohmann::json& result, const EvalInputs& inputs,
                       const objectives::Evaluation& eval) {
  const auto& likelihood = inputs.train_config.likelihood;
  const double elbo = eval.per_iteration.back().elbo;
  if (likelihood == "gaussian") {
    const int64_t dims = inputs.run.header.data_dim;
    result["bits_per_dim_elbo"] = objectives::bits_per_dim(elbo, dims);
    if (eval.has_log_px) {
      result["bits_per_dim"] = objectives::bits_per_dim(eval.log_px, dims);
    }
  }
  if (likelihood == "multinomial") {
    const double n = static_cast<double>(eval.examples);
    result["words"] = eval.total_x;
    result["perplexity_bound"] =
        objectives::perplexity(-elbo * n, eval.total_x);
    if (eval.has_log_px) {
      result["perplexity"] =
          objectives::perplexity(-eval.log_px * n, eval.total_x);
    }
  }
}

void print_iterations(const objectives::Evaluation& eval, int64_t samples) {
  std::printf("\n  iteration   ELBO (S=%lld)   reconstruction        KL\n",
              (long long)samples);
  for (size_t t = 0; t < eval.per_iteration.size(); ++t) {
    const auto& it = eval.per_iteration[t];
    std::string levels;
    if (it.kl_levels.size() > 1) {
      for (size_t l = 0; l < it.kl_levels.size(); ++l) {
        char part[48];
        std::snprintf(part, sizeof part, "%slevel %zu %.3f",
                      l == 0 ? "  (" : ", ", l + 1, it.kl_levels[l]);
        levels += part;
      }
      levels += ")";
    }
    std::printf("  %9zu   %12.3f   %14.3f   %7.3f%s\n", t + 1, it.elbo,
                it.reconstruction, it.kl, levels.c_str());
  }
}

/// The table and the measures of `result` below it.
void print_eval(const nlohmann::json& result, const EvalOutcome& outcome,
                const objectives::EvaluationOptions& options,
                const std::string& likelihood) {
  const auto& eval = outcome.evaluation;
  print_iterations(eval, options.samples);
  const auto k = (long long)options.iw_samples;
  if (eval.has_log_px) {
    std::printf(
        "\n  log p(x), importance-weighted, K=%lld: %.3f nats "
        "(-log p(x) = %.3f)\n",
        k, eval.log_px, -eval.log_px);
  }
  if (likelihood == "gaussian") {
    std::printf("  bits/dim (from -ELBO, 0..255 scale): %.4f\n",
                result["bits_per_dim_elbo"].get<double>());
    if (eval.has_log_px) {
      std::printf("  bits/dim (from IW log p(x), K=%lld): %.4f\n", k,
                  result["bits_per_dim"].get<double>());
    }
  }
  if (likelihood == "multinomial") {
    std::printf("  perplexity bound (from -ELBO): %.2f over %.0f words\n",
                result["perplexity_bound"].get<double>(), eval.total_x);
    if (eval.has_log_px) {
      std::printf("  perplexity (from IW log p(x), K=%lld): %.2f\n", k,
                  result["perplexity"].get<double>());
    }
  }
  std::printf(likelihood == "gaussian"
                  ? "  %lld test examples, dequantised, %.1fs\n"
              : likelihood == "multinomial"
                  ? "  %lld test documents, %.1fs\n"
                  : "  %lld test examples, dynamically binarised, %.1fs\n",
              (long long)eval.examples, outcome.seconds);
}

}  // namespace

EvalInputs load_eval_inputs(const EvalConfig& config) {
  const torch::Device device = parallel::job_device(config.runtime.device);
  EvalInputs inputs{load_run(config.checkpoint, device), {}, {}};
  inputs.train_config = inputs.run.header.config;
  if (!config.data_dir.empty()) inputs.train_config.data_dir = config.data_dir;
  inputs.data = load_run_data(inputs.run, config.data_dir, config.max_examples);
  return inputs;
}

objectives::EvaluationOptions eval_options(const EvalInputs& inputs,
                                           const EvalConfig& config) {
  objectives::EvaluationOptions options;
  options.iterations =
      or_default(config.iterations, inputs.train_config.iterations);
  options.samples = or_default(config.samples, inputs.train_config.samples);
  options.gradient_batch = inputs.train_config.batch_size;
  options.iw_samples = skips_log_px(inputs, config) ? 0 : config.iw_samples;
  options.batch_size = config.batch_size;
  // As in training: a TorchScript decoder runs eagerly.
  options.cuda_graph =
      config.cuda_graph != "off" && inputs.train_config.decoder.empty();
  return options;
}

torch::Tensor reconstruction_grid(LoadedRun& run,
                                  const data::ExampleSource& examples,
                                  int64_t rows, int64_t iterations,
                                  int64_t samples) {
  const data::ImageSplit& split = *examples.images();
  rows = std::min<int64_t>(rows, examples.size());
  auto x = to_device(examples.range(0, rows), device_of(*run.model));
  auto steps =
      inference::run_inference(*run.model, *run.procedure, x, iterations,
                               samples, run.header.config.batch_size);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> columns;
  for (const auto& step : steps) {
    columns.push_back(run.model->output_mean(step.posterior.mu));
  }
  columns.push_back(x);  // data in the last column, as Figure 5
  std::vector<int64_t> shape{rows, (int64_t)columns.size()};
  if (split.channels > 1) shape.push_back(split.channels);
  shape.push_back(split.height);
  shape.push_back(split.width);
  return torch::stack(columns, /*dim=*/1).view(shape).cpu();
}

EvalOutcome compute_eval(EvalInputs& inputs,
                         objectives::EvaluationOptions options,
                         const EvalConfig& config) {
  seed_everything(config.runtime.seed);
  report::ProgressLine progress;
  const auto start = std::chrono::steady_clock::now();
  options.on_batch = [&](int64_t done, int64_t total) {
    progress.update("evaluating " + std::to_string(done) + "/" +
                    std::to_string(total) + " test examples");
  };
  EvalOutcome outcome;
  outcome.evaluation = objectives::evaluate(
      *inputs.run.model, *inputs.run.procedure, *inputs.data.test, options);
  progress.clear();
  outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  // Figure 5 is drawn for image data; word counts have no picture.
  if (config.grid_examples > 0 && inputs.data.test->images()) {
    outcome.grid =
        reconstruction_grid(inputs.run, *inputs.data.test, config.grid_examples,
                            options.iterations, options.samples);
  }
  return outcome;
}

nlohmann::json eval_json(const EvalInputs& inputs,
                         const objectives::EvaluationOptions& options,
                         const EvalOutcome& outcome, const EvalConfig& config) {
  const auto& eval = outcome.evaluation;
  nlohmann::json result = {
      {"checkpoint", inputs.run.path},
      {"inference", inputs.train_config.inference},
      {"epochs", inputs.run.header.epoch},
      {"split", "test"},
      {"examples", eval.examples},
      {"binarisation", binarisation(inputs.train_config, config.runtime.seed)},
      {"iterations", options.iterations},
      {"elbo_samples", options.samples},
      {"elbo", eval.per_iteration.back().elbo},
      {"seconds", outcome.seconds},
      {"device", device_of(*inputs.run.model).str()},
      {"cuda_graph", eval.cuda_graph},
      {"config", train::to_json(inputs.train_config)}};
  result["elbo_per_iteration"] = iteration_rows(eval);
  if (eval.has_log_px) {
    result["log_px"] = eval.log_px;
    result["iw_samples"] = options.iw_samples;
  }
  add_data_measures(result, inputs, eval);
  return result;
}

nlohmann::json run_eval(const EvalConfig& config) {
  const RuntimeScope runtime(config.runtime);
  check_config(config);
  const int threads = runtime.threads();
  auto inputs = load_eval_inputs(config);
  auto options = eval_options(inputs, config);
  // Several processes: the test examples split across them, the sums
  // gathered; rank 0 alone prints and writes.
  options.group = parallel::world();
  const bool root = parallel::is_root();
  if (root && skips_log_px(inputs, config)) {
    std::printf(
        "iai eval: this run infers point estimates q = delta(mu), "
        "which have no density to importance-sample; skipping "
        "log p(x)\n");
  }
  if (root) {
    std::printf(
        "iai eval: %s (%s inference, %lld epochs), %lld test examples, "
        "T=%lld, S=%lld, K=%lld, on %s, %s%d thread%s\n",
        inputs.run.path.c_str(), inputs.train_config.inference.c_str(),
        (long long)inputs.run.header.epoch, (long long)inputs.data.test->size(),
        (long long)options.iterations, (long long)options.samples,
        (long long)options.iw_samples,
        describe_device(device_of(*inputs.run.model)).c_str(),
        parallel::processes_label().c_str(), threads, threads == 1 ? "" : "s");
    std::fflush(stdout);
  }
  const auto outcome = compute_eval(inputs, options, config);
  auto result = eval_json(inputs, options, outcome, config);
  if (!root) return result;
  print_eval(result, outcome, options, inputs.train_config.likelihood);

  const std::string out_dir =
      config.out.empty() ? fs::path(inputs.run.path).parent_path().string()
                         : config.out;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  IAI_CHECK(!ec, "cannot create '", out_dir, "': ", ec.message());
  if (outcome.grid.defined()) {
    const auto grid_path = (fs::path(out_dir) / "reconstructions.png").string();
    report::write_image_grid(grid_path, outcome.grid);
    result["reconstructions"] = grid_path;
    std::printf("  reconstructions over iterations (data last): %s\n",
                grid_path.c_str());
  }
  const auto json_path = (fs::path(out_dir) / "eval.json").string();
  std::ofstream out(json_path);
  IAI_CHECK(out.good(), "cannot write '", json_path, "'");
  out << result.dump(2) << '\n';
  std::printf("  results: %s\n", json_path.c_str());
  return result;
}

data::Examples load_infer_examples(const LoadedRun& run,
                                   const InferConfig& config) {
  auto train_config = run.header.config;
  data::Examples examples;
  if (config.images.empty()) {
    train_config.max_test = config.max_examples;
    examples = train::load_data(train_config).test;
  } else {
    auto raw = data::read_idx(config.images);
    IAI_CHECK(raw.dim() == 3, "IDX file '", config.images, "' holds ",
              raw.dim(), "-D data; expected images (N, H, W)");
    data::ImageSplit split;
    split.images = raw.reshape({raw.size(0), -1});
    if (config.max_examples > 0 && config.max_examples < split.images.size(0)) {
      split.images = split.images.slice(0, 0, config.max_examples);
    }
    split.height = raw.size(1);
    split.width = raw.size(2);
    examples =
        data::image_examples(split, train::preprocessing_of(train_config));
  }
  IAI_CHECK(examples->dim() == run.header.data_dim, "examples have ",
            examples->dim(), " dimensions; the model expects ",
            run.header.data_dim);
  return examples;
}

void write_inference_csv(const std::string& path,
                         const objectives::Evaluation& eval,
                         int64_t iterations) {
  std::ofstream out(path);
  IAI_CHECK(out.good(), "cannot write CSV '", path, "'");
  const int64_t z = eval.mu.size(1);
  // A point estimate has no log-variance columns.
  const int64_t zv = eval.logvar.defined() ? z : 0;
  out << "index";
  for (int64_t t = 1; t <= iterations; ++t) out << ",elbo_t" << t;
  for (int64_t i = 0; i < z; ++i) out << ",mu_" << i;
  for (int64_t i = 0; i < zv; ++i) out << ",logvar_" << i;
  out << '\n';
  auto elbo = eval.elbo_per_iteration.accessor<float, 2>();
  auto mu = eval.mu.accessor<float, 2>();
  auto logvar_t = zv ? eval.logvar : torch::zeros({eval.examples, 0});
  auto logvar = logvar_t.accessor<float, 2>();
  for (int64_t n = 0; n < eval.examples; ++n) {
    out << n;
    for (int64_t t = 0; t < iterations; ++t) out << ',' << elbo[n][t];
    for (int64_t i = 0; i < z; ++i) out << ',' << mu[n][i];
    for (int64_t i = 0; i < zv; ++i) out << ',' << logvar[n][i];
    out << '\n';
  }
}

objectives::Evaluation infer_examples(LoadedRun& run,
                                      const data::ExampleSource& examples,
                                      const InferenceSettings& settings) {
  const auto& train_config = run.header.config;
  IAI_CHECK(settings.iw_samples == 0 || !run.procedure->point_estimate(),
            "this run infers point estimates q = delta(mu), which have no "
            "density to importance-sample: log p(x) needs a Gaussian q");
  IAI_CHECK(settings.batch_size > 0, "the batch size must be positive, got ",
            settings.batch_size);
  objectives::EvaluationOptions options;
  options.iterations = or_default(settings.iterations, train_config.iterations);
  options.samples = or_default(settings.samples, train_config.samples);
  options.gradient_batch = train_config.batch_size;
  options.iw_samples = settings.iw_samples;
  options.batch_size = settings.batch_size;
  options.keep_per_example = true;
  options.cuda_graph = settings.cuda_graph && train_config.decoder.empty();
  if (settings.seed) seed_everything(*settings.seed);
  return objectives::evaluate(*run.model, *run.procedure, examples, options);
}

int64_t run_infer(const InferConfig& config) {
  const RuntimeScope runtime(config.runtime);
  auto run = load_run(config.checkpoint, runtime.device());
  const auto& train_config = run.header.config;
  const auto examples = load_infer_examples(run, config);
  InferenceSettings settings;
  settings.iterations = or_default(config.iterations, train_config.iterations);
  settings.samples = or_default(config.samples, train_config.samples);
  settings.seed = config.runtime.seed;
  settings.cuda_graph = config.cuda_graph != "off";
  auto eval = infer_examples(run, *examples, settings);
  write_inference_csv(config.out, eval, settings.iterations);
  std::printf(
      "iai infer: %lld examples, T=%lld, S=%lld, on %s (ELBO per "
      "iteration, final mu and log sigma^2) -> %s\n",
      (long long)eval.examples, (long long)settings.iterations,
      (long long)settings.samples,
      describe_device(device_of(*run.model)).c_str(), config.out.c_str());
  return eval.examples;
}

}  // namespace iai::analysis
