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
#include "iai/train/run_folder.h"
#include "iai/train/train_batch.h"
#include "iai/train/training_data.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
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
/// checkpoint, a metrics line and a summary line after each epoch, and
/// checkpoints inside an epoch (every N steps, every M minutes, on SIGINT or
/// SIGTERM) that hold the position in the epoch.
class Trainer {
 public:
  Trainer(TrainConfig config, data::ExampleSets data)
      : config_(std::move(config)),
        data_(std::move(data)),
        data_dim_(data_.train->dim()),
        batches_(data::batch_count(data_.train->size(), config_.batch_size)),
        model_(build_model(config_, data_dim_)),
        procedure_(build_procedure(config_, data_dim_, model_)),
        optimizers_(model_->parameters(), procedure_->parameters(),
                    config_.lr),
        batch_settings_{config_.iterations, config_.samples,
                        trains_unrolled(config_), config_.batch_size} {}

  /// Parameters, optimisers, RNG and the position in the run, as saved.
  void restore(const std::string& path, const CheckpointHeader& header) {
    load_checkpoint(path, *model_, *procedure_, &optimizers_.model,
                    &optimizers_.procedure, /*restore_rng=*/true);
    epochs_done_ = header.epoch;
    last_metrics_ = header.last_metrics;
    skipped_ = header.skipped_nonfinite;
    saved_ = true;
    if (header.step > 0) {
      // RunningMean::add reads one KL sum per level of this model.
      IAI_CHECK(int64_t(header.progress.sums.kl_levels.size()) ==
                    model_->levels(),
                "checkpoint '", path, "' holds the running sums of ",
                header.progress.sums.kl_levels.size(),
                " latent levels; the model has ", model_->levels());
      mid_epoch_ = header;
    }
  }

  TrainResult run() {
    install_interrupt_handler();
    last_save_ = Clock::now();
    for (int64_t epoch = epochs_done_ + 1; epoch <= config_.epochs; ++epoch) {
      run_epoch(epoch);
      // A signal during the test evaluation or the epoch's writes: the
      // epoch's checkpoint was just written.
      if (interrupt_requested() && epoch < config_.epochs) {
        throw interrupted(epoch, batches_, batches_);
      }
    }
    return {config_.out, config_.epochs};
  }

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

  /// One pass over the shuffled training set, a train_batch per batch; after
  /// a checkpoint taken inside this epoch, the rest of it.
  EpochTraining train_epoch(int64_t epoch) {
    const int64_t n = data_.train->size();
    EpochTraining train{objectives::RunningMean(model_->levels()), 0};
    int64_t first = 0;
    double seconds_before = 0;
    // The generator's state before the epoch draws its order: saved in a
    // mid-epoch checkpoint, so a resume draws the same order.
    torch::Tensor epoch_rng;
    torch::Tensor order;
    if (mid_epoch_) {
      const EpochProgress& p = mid_epoch_->progress;
      const torch::Tensor now = rng_state();
      epoch_rng = p.epoch_rng;
      set_rng_state(epoch_rng);
      order = data::epoch_order(n, /*shuffle=*/true);
      set_rng_state(now);
      train.mean.add(p.sums, p.examples);  // 0 + x: the sums exactly
      train.skipped_nonfinite = p.skipped_nonfinite;
      seconds_before = p.seconds;
      first = mid_epoch_->step;
      mid_epoch_.reset();
    } else {
      epoch_rng = rng_state();
      order = data::epoch_order(n, /*shuffle=*/true);
    }
    report::ProgressLine progress;
    const auto start = Clock::now();
    auto seconds = [&] { return seconds_before + seconds_since(start); };
    for (int64_t b = first; b < batches_; ++b) {
      auto x = data_.train->batch(order, b, config_.batch_size);
      // Batch normalisation has no statistics for a batch of one: a last
      // batch of a single example is left out of the epoch.
      if (config_.batch_norm && x.size(0) == 1) break;
      const int64_t step = (epoch - 1) * batches_ + b + 1;  // across epochs
      record_gradients(step, epoch, x);
      const BatchResult result =
          train_batch(*model_, *procedure_, optimizers_, x, batch_settings_);
      if (!result.updated) {
        progress.clear();
        if (skipped_ >= config_.skip_nonfinite) {
          throw diverged(*result.nonfinite, epoch, b + 1, batches_);
        }
        ++skipped_;
        ++train.skipped_nonfinite;
        std::fprintf(stderr, "warning: skipped a batch: %s (%lld of "
                     "--skip-nonfinite %lld)\n",
                     where(*result.nonfinite, epoch, b + 1, batches_).c_str(),
                     (long long)skipped_, (long long)config_.skip_nonfinite);
      } else {
        train.mean.add(result.sums, x.size(0));
      }
      progress.update(progress_text(epoch, config_, train.mean, n, seconds()),
                      b + 1 == batches_);
      if (interrupt_requested()) {
        progress.clear();
        save_mid_epoch(epoch, b + 1, epoch_rng, train, seconds());
        throw interrupted(epoch, b + 1, batches_);
      }
      // The epoch's own checkpoint follows its last step.
      if (b + 1 < batches_ && checkpoint_due(step)) {
        save_mid_epoch(epoch, b + 1, epoch_rng, train, seconds());
      }
    }
    progress.clear();
    train.seconds = seconds();
    return train;
  }

  bool checkpoint_due(int64_t step) const {
    if (config_.checkpoint_every > 0 && step % config_.checkpoint_every == 0) {
      return true;
    }
    return config_.checkpoint_minutes > 0 &&
           seconds_since(last_save_) >= 60 * config_.checkpoint_minutes;
  }

  void save_mid_epoch(int64_t epoch, int64_t steps_done,
                      const torch::Tensor& epoch_rng,
                      const EpochTraining& train, double seconds) {
    CheckpointHeader h = header(epoch - 1);
    h.step = steps_done;
    h.progress = {epoch_rng, train.mean.sums(), train.mean.examples(), seconds,
                  train.skipped_nonfinite};
    save(h);
    saved_at_ = message("epoch ", epoch, ", step ", steps_done);
  }

  /// A checkpoint's header after `epochs_done` epochs (at that epoch's end
  /// unless the caller adds a step).
  CheckpointHeader header(int64_t epochs_done) const {
    CheckpointHeader h;
    h.config = config_;
    h.epoch = epochs_done;
    h.data_dim = data_dim_;
    h.last_metrics = last_metrics_;
    h.skipped_nonfinite = skipped_;
    return h;
  }

  void save(const CheckpointHeader& h) {
    save_checkpoint(run_file("checkpoint.pt"), h, *model_, *procedure_,
                    optimizers_.model, optimizers_.procedure);
    saved_ = true;
    last_save_ = Clock::now();
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
  /// summary line (one writer when training is spread over processes). The
  /// checkpoint comes first and holds the line: a kill between the two
  /// leaves a line that a resume restores (repair_metrics).
  void finish_epoch(int64_t epoch, const EpochTraining& train,
                    const EpochTest* test) {
    const auto record = epoch_record(epoch, config_, lr_, train, test);
    epochs_done_ = epoch;
    last_metrics_ = record.dump();
    save(header(epoch));
    saved_at_ = message("the end of epoch ", epoch);
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

  std::string last_checkpoint() const {
    return saved_at_.empty() ? std::string("the checkpoint it resumed from")
                             : "the checkpoint of " + saved_at_;
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
        saved_ ? "The last good checkpoint (" + last_checkpoint() +
                     ") is intact in " + run_file("checkpoint.pt")
               : std::string("No checkpoint had been written yet"),
        ". Try a lower --lr."));
  }

  /// One line: where it stopped, what was saved, how to go on.
  Error interrupted(int64_t epoch, int64_t step, int64_t steps) const {
    const int signal = interrupt_signal();
    return Error(message(
        "interrupted by ", signal == SIGTERM ? "SIGTERM" : "SIGINT",
        " at epoch ", epoch, ", step ", step, " of ", steps, "; ",
        last_checkpoint(), " is in ", run_file("checkpoint.pt"),
        "; continue with: iai train --resume ", config_.out));
  }

  TrainConfig config_;
  data::ExampleSets data_;
  int64_t data_dim_;
  int64_t batches_;
  model::LatentGaussianModel model_;
  inference::InferenceProcedure procedure_;
  Optimizers optimizers_;
  const BatchSettings batch_settings_;
  int64_t epochs_done_ = 0;
  int64_t skipped_ = 0;  // non-finite batches skipped in the run (resumes too)
  double lr_ = 0;
  /// A checkpoint taken inside the epoch after epochs_done_, to continue.
  std::optional<CheckpointHeader> mid_epoch_;
  /// metrics.jsonl's line of the last finished epoch, kept in checkpoints.
  std::string last_metrics_;
  bool saved_ = false;       // a checkpoint exists (written or resumed from)
  std::string saved_at_;     // where this process last wrote one
  Clock::time_point last_save_ = Clock::now();
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
                !fs::exists(fs::path(config.out) / "checkpoint.prev.pt") &&
                !fs::exists(fs::path(config.out) / "metrics.jsonl"),
            "--out '", config.out,
            "' already holds a run; continue it with --resume ", config.out,
            " or choose another --out");
  // Before the data load: a bad --out is an error at once.
  const bool created = prepare_run_folder(config.out);
  data::ExampleSets data;
  try {
    data = load_data(config);
  } catch (...) {
    std::error_code ignored;
    if (created) fs::remove(config.out, ignored);  // only while still empty
    throw;
  }
  const int threads = set_threads(config.threads);
  seed_everything(config.seed);

  {
    std::ofstream out(fs::path(config.out) / "config.json");
    IAI_CHECK(out.good(), "cannot write '", config.out, "/config.json'");
    out << to_json(config).dump(2) << '\n';
    out.flush();
    IAI_CHECK(out.good(), "cannot write '", config.out,
              "/config.json' (disk full?)");
  }
  announce(config, data, threads);
  Trainer trainer(config, std::move(data));
  return trainer.run();
}

TrainResult resume_train(const std::string& run_dir,
                         std::optional<int64_t> epochs,
                         std::optional<int> threads) {
  ResumeChanges changes;
  changes.epochs = epochs;
  changes.threads = threads;
  return resume_train(run_dir, changes);
}

TrainResult resume_train(const std::string& run_dir,
                         const ResumeChanges& changes) {
  std::string fallback;
  const std::string path = resumable_checkpoint(run_dir, &fallback);
  auto header = read_checkpoint_header(path);
  TrainConfig config = header.config;
  config.out = fs::path(path).parent_path().string();
  if (changes.epochs) config.epochs = *changes.epochs;
  if (changes.threads) config.threads = *changes.threads;
  if (changes.checkpoint_every) config.checkpoint_every = *changes.checkpoint_every;
  if (changes.checkpoint_minutes) {
    config.checkpoint_minutes = *changes.checkpoint_minutes;
  }
  config = resolve(config);
  check_run_folder_writable(config.out);
  if (!fallback.empty()) {
    // Moved aside, so the next checkpoint does not push the good previous
    // one out as checkpoint.prev.pt; kept for inspection.
    const auto newest = fs::path(config.out) / "checkpoint.pt";
    std::error_code ec;
    bool moved = false;
    if (fs::exists(newest)) {
      fs::rename(newest, fs::path(config.out) / "checkpoint.unreadable.pt", ec);
      moved = !ec;
    }
    std::fprintf(stderr, "iai: warning: %s%s\n", fallback.c_str(),
                 moved ? " (the unreadable one is kept as "
                         "checkpoint.unreadable.pt)"
                       : "");
  }
  // metrics.jsonl as of the checkpoint: no line the resumed run will write
  // again, none it will not (the checkpoint holds its epoch's line, which a
  // kill may have cut off, even after the last epoch), no line cut short.
  const std::string metrics = (fs::path(config.out) / "metrics.jsonl").string();
  repair_metrics(metrics, header.epoch, header.last_metrics);
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
  if (header.step > 0) {
    std::printf("resuming at epoch %lld, after step %lld\n",
                (long long)header.epoch + 1, (long long)header.step);
  } else {
    std::printf("resuming after epoch %lld\n", (long long)header.epoch);
  }
  const int64_t batches =
      data::batch_count(data.train->size(), config.batch_size);
  announce(config, data, used_threads);
  Trainer trainer(config, std::move(data));
  trainer.restore(path, header);
  // Gradient records the resumed run will write again.
  truncate_log((fs::path(config.out) / "gradients.jsonl").string(), "step",
               header.epoch * batches + header.step);
  return trainer.run();
}

}  // namespace iai::train
