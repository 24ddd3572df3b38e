#include "iai/train/trainer.h"

#include "iai/objectives/evaluation.h"
#include "iai/core/error.h"
#include "iai/core/interrupt.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/report/progress.h"
#include "iai/train/checkpoint.h"
#include "iai/train/factory.h"
#include "iai/train/gradient_record.h"
#include "iai/train/inference_registry.h"
#include "iai/train/metrics_log.h"
#include "iai/train/training_step.h"

#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace iai::train {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string default_run_dir(const TrainConfig& c) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + c.inference + "-" + stamp;
}

/// How the data are prepared, for labels.
std::string preparation(const TrainConfig& c) {
  if (c.likelihood == "gaussian") return "uniformly dequantised";
  if (c.likelihood == "multinomial") return "word counts";
  return "dynamically binarised";
}

class Trainer {
 public:
  Trainer(TrainConfig config, data::ExampleSets data)
      : config_(std::move(config)),
        data_(std::move(data)),
        data_dim_(data_.train->dim()),
        model_(build_model(config_, data_dim_)),
        procedure_(build_procedure(config_, data_dim_, model_)),
        model_optimizer_(model_->parameters(),
                         torch::optim::AdamOptions(config_.lr)),
        procedure_optimizer_(procedure_->parameters(),
                             torch::optim::AdamOptions(config_.lr)) {}

  const std::string checkpoint_file() const {
    return (fs::path(config_.out) / "checkpoint.pt").string();
  }
  const std::string metrics_file() const {
    return (fs::path(config_.out) / "metrics.jsonl").string();
  }

  void restore(const std::string& path) {
    load_checkpoint(path, *model_, *procedure_, &model_optimizer_,
                    &procedure_optimizer_, /*restore_rng=*/true);
  }

  TrainResult run(int64_t first_epoch) {
    install_interrupt_handler();
    for (int64_t epoch = first_epoch; epoch <= config_.epochs; ++epoch) {
      run_epoch(epoch);
    }
    return {config_.out, config_.epochs};
  }

  void set_epochs_done(int64_t done) { epochs_done_ = done; }

 private:
  void set_learning_rate(int64_t epoch) {
    // x lr_decay per completed epoch (REFERENCE.md, step 6).
    const double lr =
        config_.lr * std::pow(config_.lr_decay, static_cast<double>(epoch - 1));
    for (auto* opt : {&model_optimizer_, &procedure_optimizer_}) {
      for (auto& group : opt->param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
    }
    lr_ = lr;
  }

  void run_epoch(int64_t epoch) {
    set_learning_rate(epoch);
    model_->train();
    procedure_->train();
    const int64_t n = data_.train->size();
    const int64_t batches = data::batch_count(n, config_.batch_size);
    auto order = data::epoch_order(n, /*shuffle=*/true);
    double elbo_sum = 0, recon_sum = 0, kl_sum = 0;
    std::vector<double> kl_level_sum(model_->levels(), 0.0);
    int64_t seen = 0;
    report::ProgressLine progress;
    const auto start = Clock::now();

    for (int64_t b = 0; b < batches; ++b) {
      auto x = data_.train->batch(order, b, config_.batch_size);
      // Batch normalisation has no statistics for a batch of one: a last
      // batch of a single example is left out of the epoch.
      if (config_.batch_norm && x.size(0) == 1) break;
      record_gradients((epoch - 1) * batches + b + 1, epoch, x);
      model_optimizer_.zero_grad();
      procedure_optimizer_.zero_grad();
      auto outcome =
          inference_entry(config_).training_step == TrainingStep::kUnrolled
              ? accumulate_unrolled_gradients(*model_, *procedure_, x,
                                              config_.iterations,
                                              config_.samples)
              : accumulate_gradients(*model_, *procedure_, x,
                                     config_.iterations, config_.samples);
      const double elbo = outcome.final_terms.elbo.sum().item<double>();
      if (!std::isfinite(elbo)) {
        progress.clear();
        throw Error(message(
            "training diverged: non-finite ELBO at epoch ", epoch, ", step ",
            b + 1, " of ", batches, "; no update was applied. ",
            epochs_done_ > 0
                ? "The last good checkpoint (epoch " +
                      std::to_string(epochs_done_) + ") is intact in " +
                      checkpoint_file()
                : std::string("No checkpoint had been written yet"),
            ". Try a lower --lr."));
      }
      model_optimizer_.step();
      procedure_optimizer_.step();
      elbo_sum += elbo;
      recon_sum += outcome.final_terms.reconstruction.sum().item<double>();
      kl_sum += outcome.final_terms.kl.sum().item<double>();
      for (size_t l = 0; l < kl_level_sum.size(); ++l) {
        kl_level_sum[l] += outcome.final_terms.kl_levels[l].sum().item<double>();
      }
      seen += x.size(0);

      const double secs = seconds_since(start);
      char line[200];
      std::snprintf(line, sizeof line,
                    "epoch %lld/%lld  %lld/%lld  ELBO %.2f  KL %.2f  %.0f ex/s"
                    "  eta %s",
                    (long long)epoch, (long long)config_.epochs,
                    (long long)seen, (long long)n, elbo_sum / seen,
                    kl_sum / seen, seen / secs,
                    report::format_duration(secs / seen * (n - seen)).c_str());
      progress.update(line, b + 1 == batches);
      if (interrupt_requested()) {
        progress.clear();
        throw Error(message(
            "interrupted at epoch ", epoch, ", step ", b + 1, " of ", batches,
            "; ",
            epochs_done_ > 0
                ? "the checkpoint of epoch " + std::to_string(epochs_done_) +
                      " is intact in " + checkpoint_file() +
                      "; continue with: iai train --resume " + config_.out
                : std::string("no epoch had finished, nothing was saved")));
      }
    }
    progress.clear();
    const double train_seconds = seconds_since(start);

    nlohmann::json record = {
        {"epoch", epoch},
        {"train_elbo", elbo_sum / seen},
        {"train_reconstruction", recon_sum / seen},
        {"train_kl", kl_sum / seen},
        {"train_examples", seen},
        {"seconds", train_seconds},
        {"examples_per_second", seen / train_seconds},
        {"lr", lr_},
        {"estimator", "ELBO at lambda_T, S=" + std::to_string(config_.samples) +
                          " samples, " + preparation(config_)}};
    // Hierarchical models: each level's share of the KL.
    if (kl_level_sum.size() > 1) {
      for (size_t l = 0; l < kl_level_sum.size(); ++l) {
        record["train_kl_level" + std::to_string(l + 1)] = kl_level_sum[l] / seen;
      }
    }

    std::string test_text;
    if (config_.test_every > 0 && epoch % config_.test_every == 0) {
      const auto test_start = Clock::now();
      objectives::EvaluationOptions options;
      options.iterations = config_.iterations;
      options.samples = config_.samples;
      options.gradient_batch = config_.batch_size;
      auto eval = objectives::evaluate(*model_, *procedure_, *data_.test,
                                     options);
      const auto& last = eval.per_iteration.back();
      const double test_seconds = seconds_since(test_start);
      record["test_elbo"] = last.elbo;
      record["test_reconstruction"] = last.reconstruction;
      record["test_kl"] = last.kl;
      if (last.kl_levels.size() > 1) {
        for (size_t l = 0; l < last.kl_levels.size(); ++l) {
          record["test_kl_level" + std::to_string(l + 1)] = last.kl_levels[l];
        }
      }
      record["test_examples"] = eval.examples;
      record["test_seconds"] = test_seconds;
      char buf[160];
      std::snprintf(buf, sizeof buf, "  test ELBO %.2f (%lld ex, %.1fs)",
                    last.elbo, (long long)eval.examples, test_seconds);
      test_text = buf;
    }

    epochs_done_ = epoch;
    save_checkpoint(checkpoint_file(),
                    {config_, epoch, data_dim_}, *model_, *procedure_,
                    model_optimizer_, procedure_optimizer_);
    append_metrics(metrics_file(), record);
    std::printf(
        "epoch %lld/%lld  train ELBO %.2f (recon %.2f, KL %.2f)%s  lr %.3g  "
        "%.1fs, %.0f ex/s\n",
        (long long)epoch, (long long)config_.epochs, elbo_sum / seen,
        recon_sum / seen, kl_sum / seen, test_text.c_str(), lr_,
        train_seconds, seen / train_seconds);
    std::fflush(stdout);
  }

  /// Figure 6: |grad_mu L| per inference iteration, every N steps.
  void record_gradients(int64_t step, int64_t epoch, const torch::Tensor& x) {
    if (!records_gradients_at(step, config_.record_gradients_every)) return;
    append_gradient_record(
        (fs::path(config_.out) / "gradients.jsonl").string(), step, epoch,
        mean_abs_mu_gradients(*model_, *procedure_, x, config_.iterations,
                              config_.samples, config_.batch_size));
  }

  TrainConfig config_;
  data::ExampleSets data_;
  int64_t data_dim_;
  model::LatentGaussianModel model_;
  inference::InferenceProcedure procedure_;
  torch::optim::Adam model_optimizer_;
  torch::optim::Adam procedure_optimizer_;
  int64_t epochs_done_ = 0;
  double lr_ = 0;
};

void announce(const TrainConfig& c, const data::ExampleSets& data,
              int threads) {
  std::printf("iai train: %s inference on %s (%lld train / %lld test "
              "examples, %s), %d thread%s, run folder %s\n",
              c.inference.c_str(), c.dataset.c_str(),
              (long long)data.train->size(),
              (long long)data.test->size(), preparation(c).c_str(), threads,
              threads == 1 ? "" : "s", c.out.c_str());
  print_config(c);
  std::fflush(stdout);
}

}  // namespace

void print_config(const TrainConfig& config) {
  const auto json = to_json(config);
  for (const auto& item : json.items()) {
    std::printf("  %-15s = %s\n", item.key().c_str(),
                item.value().dump().c_str());
  }
}

TrainResult run_train(const TrainConfig& requested) {
  TrainConfig config = resolve(requested);
  if (config.out.empty()) config.out = default_run_dir(config);
  IAI_CHECK(!fs::exists(fs::path(config.out) / "checkpoint.pt") &&
                !fs::exists(fs::path(config.out) / "metrics.jsonl"),
            "--out '", config.out,
            "' already holds a run; continue it with --resume ", config.out,
            " or choose another --out");
  auto data = load_data(config);
  const int threads = set_threads(config.threads);
  seed_everything(config.seed);

  std::error_code ec;
  fs::create_directories(config.out, ec);
  IAI_CHECK(!ec, "cannot create run folder '", config.out, "': ", ec.message());
  {
    std::ofstream out(fs::path(config.out) / "config.json");
    IAI_CHECK(out.good(), "cannot write '", config.out, "/config.json'");
    out << to_json(config).dump(2) << '\n';
  }
  announce(config, data, threads);
  Trainer trainer(config, std::move(data));
  return trainer.run(/*first_epoch=*/1);
}

TrainResult resume_train(const std::string& run_dir,
                         std::optional<int64_t> epochs,
                         std::optional<int> threads) {
  const std::string path = checkpoint_path(run_dir);
  auto header = read_checkpoint_header(path);
  TrainConfig config = header.config;
  config.out = fs::path(path).parent_path().string();
  if (epochs) config.epochs = *epochs;
  if (threads) config.threads = *threads;
  config = resolve(config);
  if (header.epoch >= config.epochs) {
    std::printf("run %s already finished %lld of %lld epochs; pass --epochs "
                "N to train further\n",
                config.out.c_str(), (long long)header.epoch,
                (long long)config.epochs);
    return {config.out, header.epoch};
  }
  auto data = load_data(config);
  IAI_CHECK(data.train->dim() == header.data_dim, "data in '",
            config.data_dir, "' have ", data.train->dim(),
            " dimensions but the checkpoint's model was built for ",
            header.data_dim);
  const int used_threads = set_threads(config.threads);
  std::printf("resuming after epoch %lld\n", (long long)header.epoch);
  announce(config, data, used_threads);
  Trainer trainer(config, std::move(data));
  trainer.restore(path);
  trainer.set_epochs_done(header.epoch);
  truncate_metrics((fs::path(config.out) / "metrics.jsonl").string(),
                   header.epoch);
  truncate_metrics((fs::path(config.out) / "gradients.jsonl").string(),
                   header.epoch);
  return trainer.run(header.epoch + 1);
}

}  // namespace iai::train
