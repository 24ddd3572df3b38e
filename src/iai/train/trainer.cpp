#include "iai/train/trainer.h"

#include "iai/core/error.h"
#include "iai/core/interrupt.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/objectives/evaluation.h"
#include "iai/report/progress.h"
#include "iai/train/checkpoint.h"
#include "iai/train/epoch_report.h"
#include "iai/train/factory.h"
#include "iai/train/gradient_record.h"
#include "iai/train/inference_registry.h"
#include "iai/train/metrics_log.h"
#include "iai/train/optimizers.h"
#include "iai/train/train_batch.h"
#include "iai/train/training_data.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

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

/// The training step the inference kind needs: unrolled through the
/// refinement steps (semi-amortised) or the paper's detached one.
bool trains_unrolled(const TrainConfig& c) {
  return inference_entry(c).training_step == TrainingStep::kUnrolled;
}

/// The run: one epoch loop over train_batch, with a test evaluation, a
/// checkpoint, a metrics line and a summary line after each epoch.
class Trainer {
 public:
  Trainer(TrainConfig config, data::ExampleSets data)
      : config_(std::move(config)),
        data_(std::move(data)),
        data_dim_(data_.train->dim()),
        model_(build_model(config_, data_dim_)),
        procedure_(build_procedure(config_, data_dim_, model_)),
        optimizers_(model_->parameters(), procedure_->parameters(),
                    config_.lr),
        batch_settings_{config_.iterations, config_.samples,
                        trains_unrolled(config_), config_.batch_size} {}

  void restore(const std::string& path) {
    load_checkpoint(path, *model_, *procedure_, &optimizers_.model,
                    &optimizers_.procedure, /*restore_rng=*/true);
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
  std::string run_file(const char* name) const {
    return (fs::path(config_.out) / name).string();
  }

  void run_epoch(int64_t epoch) {
    // x lr_decay per completed epoch (REFERENCE.md, step 6).
    lr_ = config_.lr * std::pow(config_.lr_decay, static_cast<double>(epoch - 1));
    optimizers_.set_lr(lr_);
    model_->train();
    procedure_->train();
    const EpochTraining train = train_epoch(epoch);
    std::optional<EpochTest> test;
    if (config_.test_every > 0 && epoch % config_.test_every == 0) {
      test = evaluate_test_set();
    }
    finish_epoch(epoch, train, test ? &*test : nullptr);
  }

  /// One pass over the shuffled training set, a train_batch per batch.
  EpochTraining train_epoch(int64_t epoch) {
    const int64_t n = data_.train->size();
    const int64_t batches = data::batch_count(n, config_.batch_size);
    auto order = data::epoch_order(n, /*shuffle=*/true);
    EpochTraining train{objectives::RunningMean(model_->levels()), 0};
    report::ProgressLine progress;
    const auto start = Clock::now();
    for (int64_t b = 0; b < batches; ++b) {
      auto x = data_.train->batch(order, b, config_.batch_size);
      // Batch normalisation has no statistics for a batch of one: a last
      // batch of a single example is left out of the epoch.
      if (config_.batch_norm && x.size(0) == 1) break;
      record_gradients((epoch - 1) * batches + b + 1, epoch, x);
      const BatchResult result =
          train_batch(*model_, *procedure_, optimizers_, x, batch_settings_);
      if (!result.updated) {
        progress.clear();
        if (skipped_ >= config_.skip_nonfinite) {
          throw diverged(*result.nonfinite, epoch, b + 1, batches);
        }
        ++skipped_;
        ++train.skipped_nonfinite;
        std::fprintf(stderr, "warning: skipped a batch: %s (%lld of "
                     "--skip-nonfinite %lld)\n",
                     where(*result.nonfinite, epoch, b + 1, batches).c_str(),
                     (long long)skipped_, (long long)config_.skip_nonfinite);
      } else {
        train.mean.add(result.sums, x.size(0));
      }
      progress.update(progress_text(epoch, config_, train.mean, n,
                                    seconds_since(start)),
                      b + 1 == batches);
      if (interrupt_requested()) {
        progress.clear();
        throw interrupted(epoch, b + 1, batches);
      }
    }
    progress.clear();
    train.seconds = seconds_since(start);
    return train;
  }

  EpochTest evaluate_test_set() {
    const auto start = Clock::now();
    objectives::EvaluationOptions options;
    options.iterations = config_.iterations;
    options.samples = config_.samples;
    options.gradient_batch = config_.batch_size;
    auto eval =
        objectives::evaluate(*model_, *procedure_, *data_.test, options);
    return {eval.per_iteration.back(), eval.examples, seconds_since(start)};
  }

  /// Everything an epoch writes: the checkpoint, its metrics line and its
  /// summary line (one writer when training is spread over processes).
  void finish_epoch(int64_t epoch, const EpochTraining& train,
                    const EpochTest* test) {
    const auto record = epoch_record(epoch, config_, lr_, train, test);
    epochs_done_ = epoch;
    save_checkpoint(run_file("checkpoint.pt"), {config_, epoch, data_dim_},
                    *model_, *procedure_, optimizers_.model,
                    optimizers_.procedure);
    append_metrics(run_file("metrics.jsonl"), record);
    std::printf("%s\n",
                epoch_summary(epoch, config_, lr_, train, test).c_str());
    std::fflush(stdout);
  }

  /// Figure 6: |grad_mu L| per inference iteration, every N steps.
  void record_gradients(int64_t step, int64_t epoch, const torch::Tensor& x) {
    if (!records_gradients_at(step, config_.record_gradients_every)) return;
    append_gradient_record(
        run_file("gradients.jsonl"), step, epoch,
        mean_abs_mu_gradients(*model_, *procedure_, x, config_.iterations,
                              config_.samples, config_.batch_size));
  }

  std::string where(const NonFinite& bad, int64_t epoch, int64_t step,
                    int64_t steps) const {
    return message("non-finite ", bad.what, " at epoch ", epoch, ", step ",
                   step, " of ", steps, ", ", bad.location(config_.iterations));
  }

  Error diverged(const NonFinite& bad, int64_t epoch, int64_t step,
                 int64_t steps) const {
    return Error(message(
        "training diverged: ", where(bad, epoch, step, steps),
        "; no update was applied. ",
        epochs_done_ > 0
            ? "The last good checkpoint (epoch " +
                  std::to_string(epochs_done_) + ") is intact in " +
                  run_file("checkpoint.pt")
            : std::string("No checkpoint had been written yet"),
        ". Try a lower --lr."));
  }

  Error interrupted(int64_t epoch, int64_t step, int64_t steps) const {
    return Error(message(
        "interrupted at epoch ", epoch, ", step ", step, " of ", steps, "; ",
        epochs_done_ > 0
            ? "the checkpoint of epoch " + std::to_string(epochs_done_) +
                  " is intact in " + run_file("checkpoint.pt") +
                  "; continue with: iai train --resume " + config_.out
            : std::string("no epoch had finished, nothing was saved")));
  }

  TrainConfig config_;
  data::ExampleSets data_;
  int64_t data_dim_;
  model::LatentGaussianModel model_;
  inference::InferenceProcedure procedure_;
  Optimizers optimizers_;
  const BatchSettings batch_settings_;
  int64_t epochs_done_ = 0;
  int64_t skipped_ = 0;  // non-finite batches skipped in this process
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
