#include "iai/train/epoch_loop.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/interrupt.h"
#include "iai/core/precision.h"
#include "iai/core/rng.h"
#include "iai/data/batches.h"
#include "iai/objectives/evaluation.h"
#include "iai/parallel/batch_shard.h"
#include "iai/parallel/process_group.h"
#include "iai/report/progress.h"
#include "iai/train/config/factory.h"
#include "iai/train/config/inference_registry.h"
#include "iai/train/epoch_report.h"
#include "iai/train/metrics_log.h"
#include "iai/train/optim/optimizers.h"
#include "iai/train/step/gradient_record.h"
#include "iai/train/step/train_batch.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace iai::train {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The training step the inference kind needs: unrolled through the
/// refinement steps (semi-amortised) or the paper's detached one.
bool trains_unrolled(const TrainConfig& c) {
  return inference_entry(c).training_step == TrainingStep::kUnrolled;
}

/// A freshly built module, moved to where the run computes (before its
/// optimiser sees its parameters).
template <typename ModuleHolder>
ModuleHolder on_device(ModuleHolder module, const torch::Device& device) {
  module->to(device);
  return module;
}

/// Every rank needs at least one example of each batch, the last partial
/// one included.
void check_fits_world(const TrainConfig& c, int64_t examples, int world) {
  check_batch_splits(c, world);
  const int64_t last = examples % c.batch_size;
  IAI_CHECK(last == 0 || last >= world || (c.batch_norm && last == 1),
            "the last batch of an epoch holds ", last, " of the ", examples,
            " training examples, fewer than the ", world,
            " processes; change --max-train or --batch-size");
}

}  // namespace

/// --batch-size is the global batch: each rank computes its share, so it
/// must split evenly (checked before any data are read).
void check_batch_splits(const TrainConfig& c, int world) {
  IAI_CHECK(c.batch_size % world == 0, "--batch-size ", c.batch_size,
            " is the whole batch of the ", world,
            " processes and must be "
            "divisible by their number; choose a multiple of ",
            world);
}

/// The run: one epoch loop over train_batch, with a test evaluation, a
/// checkpoint, a metrics line and a summary line after each epoch, and
/// checkpoints inside an epoch (every N steps, every M minutes, on SIGINT or
/// SIGTERM) that hold the position in the epoch.
class EpochLoop::Impl {
 public:
  Impl(TrainConfig config, data::ExampleSets data,
       parallel::ProcessGroup* group)
      : group_(group),
        config_(std::move(config)),
        data_(std::move(data)),
        data_dim_(data_.train->dim()),
        batches_(data::batch_count(data_.train->size(), config_.batch_size)),
        device_(resolve_device(config_.device)),
        precision_(config_.precision, device_),
        model_(on_device(build_model(config_, data_dim_), device_)),
        procedure_(
            on_device(build_procedure(config_, data_dim_, model_), device_)),
        optimizers_(model_->parameters(), procedure_->parameters(), config_.lr),
        // TorchScript's executor re-optimises a module over its first
        // calls, which no graph captured once may hold: eager steps.
        step_graph_(config_.decoder.empty() ? config_.cuda_graph : "off"),
        batch_settings_{
            config_.iterations, config_.samples, trains_unrolled(config_),
            config_.batch_size, device_,         group_,
            &step_graph_} {
    check_fits_world(config_, data_.train->size(), parallel::size_of(group_));
  }

  /// Every rank starts from rank 0's parameters (at the start and after a
  /// resume; the optimisers' state is the same everywhere: zero, or read
  /// from the same checkpoint).
  void share_parameters() {
    if (group_ == nullptr) return;
    std::vector<torch::Tensor> values;
    torch::NoGradGuard no_grad;
    for (const auto& p : model_->parameters()) values.push_back(p);
    group_->broadcast(values, "the generative model's broadcast");
    values.clear();
    for (const auto& p : procedure_->parameters()) values.push_back(p);
    group_->broadcast(values, "the inference model's broadcast");
  }

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
      IAI_CHECK(
          int64_t(header.progress.sums.kl_levels.size()) == model_->levels(),
          "checkpoint '", path, "' holds the running sums of ",
          header.progress.sums.kl_levels.size(),
          " latent levels; the model has ", model_->levels());
      mid_epoch_ = header;
    }
  }

  TrainResult run() {
    install_interrupt_handler();
    share_parameters();
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
    // x lr_decay per completed epoch (docs/reference.md, training
    // procedure, step 6).
    lr_ =
        config_.lr * std::pow(config_.lr_decay, static_cast<double>(epoch - 1));
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
  /// Where an epoch starts: its example order, the generator's state that
  /// drew it, the first step to take and the seconds already spent.
  struct EpochStart {
    torch::Tensor epoch_rng;
    torch::Tensor order;
    int64_t first = 0;
    double seconds_before = 0;
  };

  /// A fresh epoch's shuffled order, or, after a checkpoint taken inside
  /// this epoch, the same order and the sums so far (into `train`).
  EpochStart begin_epoch(int64_t n, EpochTraining& train) {
    EpochStart start;
    // The generator's state before the epoch draws its order: saved in a
    // mid-epoch checkpoint, so a resume draws the same order.
    if (!mid_epoch_) {
      start.epoch_rng = rng_state();
      start.order = data::epoch_order(n, /*shuffle=*/true);
      return start;
    }
    const EpochProgress& p = mid_epoch_->progress;
    const torch::Tensor now = rng_state();
    start.epoch_rng = p.epoch_rng;
    set_rng_state(start.epoch_rng);
    start.order = data::epoch_order(n, /*shuffle=*/true);
    set_rng_state(now);
    train.mean.add(p.sums, p.examples);  // 0 + x: the sums exactly
    train.skipped_nonfinite = p.skipped_nonfinite;
    start.seconds_before = p.seconds;
    start.first = mid_epoch_->step;
    mid_epoch_.reset();
    return start;
  }

  /// A step's outcome into the epoch's means, or a skipped batch counted
  /// (--skip-nonfinite) or the run stopped (diverged) when it was not
  /// finite.
  void count_step(const BatchResult& result, EpochTraining& train,
                  int64_t epoch, int64_t b, report::ProgressLine& progress) {
    if (result.updated) {
      train.mean.add(result.sums, result.examples);
      return;
    }
    progress.clear();
    if (skipped_ >= config_.skip_nonfinite) {
      throw diverged(*result.nonfinite, epoch, b + 1, batches_);
    }
    ++skipped_;
    ++train.skipped_nonfinite;
    std::fprintf(stderr,
                 "warning: skipped a batch: %s (%lld of "
                 "--skip-nonfinite %lld)\n",
                 where(*result.nonfinite, epoch, b + 1, batches_).c_str(),
                 (long long)skipped_, (long long)config_.skip_nonfinite);
  }

  EpochTraining train_epoch(int64_t epoch) {
    const int64_t n = data_.train->size();
    EpochTraining train{objectives::RunningMean(model_->levels()), 0};
    const EpochStart where_from = begin_epoch(n, train);
    const torch::Tensor& epoch_rng = where_from.epoch_rng;
    const torch::Tensor& order = where_from.order;
    const int64_t first = where_from.first;
    const double seconds_before = where_from.seconds_before;
    report::ProgressLine progress;
    const int world = parallel::size_of(group_);
    parallel::ProcessGroup* group = group_;
    const int64_t bytes_before = group ? group->bytes_communicated() : 0;
    const double waited_before = group ? group->seconds_communicating() : 0;
    const auto start = Clock::now();
    auto seconds = [&] { return seconds_before + seconds_since(start); };
    for (int64_t b = first; b < batches_; ++b) {
      const int64_t begin = b * config_.batch_size;
      const int64_t global = std::min(config_.batch_size, n - begin);
      // Batch normalisation has no statistics for a batch of one: a last
      // batch of a single example is left out of the epoch.
      if (config_.batch_norm && global == 1) break;
      // This rank's rows of the batch; their noise is drawn as the whole
      // batch's (parallel/batch_shard.h), so no number depends on the world
      // size.
      const auto part = data_.train->batch_part(
          order, b, config_.batch_size, parallel::rank_of(group_), world);
      std::optional<ScopedBatchShard> sharded;
      if (world > 1) sharded.emplace(part.shard);
      const torch::Tensor& x = part.x;
      const int64_t step = (epoch - 1) * batches_ + b + 1;  // across epochs
      const bool record =
          records_gradients_at(step, config_.record_gradients_every);
      // Unrolled training takes no per-iteration gradients to record from:
      // its record is taken apart, before the step changes the parameters.
      if (record && batch_settings_.unrolled) {
        record_gradients(step, epoch, x, global);
      }
      StepRequests requests;
      requests.stop = interrupt_requested();
      requests.checkpoint = root() && minutes_due();
      requests.record_gradients = record;
      const BatchResult result = train_batch(*model_, *procedure_, optimizers_,
                                             x, batch_settings_, requests);
      sharded.reset();
      if (record && !result.mu_gradient_sums.empty()) {
        append_step_record(step, epoch, result, global);
      }
      if (!graph_announced_ && step_graph_.captured()) {
        graph_announced_ = true;
        if (root()) {
          progress.clear();
          std::printf("iai train: training step %s in a CUDA graph\n",
                      step_graph_.describe().c_str());
          std::fflush(stdout);
        }
      }
      count_step(result, train, epoch, b, progress);
      if (root()) {
        std::string text =
            progress_text(epoch, config_, train.mean, n, seconds());
        if (world > 1) text += message("  ", world, " processes");
        progress.update(text, b + 1 == batches_);
      }
      // One process decides after its step; several act on the requests
      // that travelled with it, at the same step everywhere.
      const bool stop =
          world > 1 ? result.requests.stop : interrupt_requested();
      const bool minutes =
          world > 1 ? result.requests.checkpoint : minutes_due();
      if (stop) {
        progress.clear();
        save_mid_epoch(epoch, b + 1, epoch_rng, train, seconds());
        throw interrupted(epoch, b + 1, batches_);
      }
      // The epoch's own checkpoint follows its last step.
      if (b + 1 < batches_ && (steps_due(step) || minutes)) {
        save_mid_epoch(epoch, b + 1, epoch_rng, train, seconds());
      }
    }
    progress.clear();
    train.seconds = seconds();
    if (group != nullptr) {
      communication_ = {group->bytes_communicated() - bytes_before,
                        group->seconds_communicating() - waited_before,
                        batches_ - first, seconds_since(start)};
    }
    return train;
  }

  /// --checkpoint-every: the same step on every rank.
  bool steps_due(int64_t step) const {
    return config_.checkpoint_every > 0 && step % config_.checkpoint_every == 0;
  }
  /// --checkpoint-minutes: rank 0's clock decides, for every rank (the
  /// request travels with the step's gradients).
  bool minutes_due() const {
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

  /// Rank 0 alone writes (every rank holds the same state).
  void save(const CheckpointHeader& h) {
    if (root()) {
      save_checkpoint(run_file("checkpoint.pt"), h, *model_, *procedure_,
                      optimizers_.model, optimizers_.procedure);
    }
    saved_ = true;
    last_save_ = Clock::now();
  }

  EpochTest evaluate_test_set() {
    const auto start = Clock::now();
    objectives::EvaluationOptions options;
    options.iterations = config_.iterations;
    options.samples = config_.samples;
    options.gradient_batch = config_.batch_size;
    options.group = group_;  // each rank its share of the test set
    // As the training step: a TorchScript decoder runs eagerly.
    options.cuda_graph = config_.decoder.empty() && config_.cuda_graph != "off";
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
    if (!root()) return;
    append_metrics(run_file("metrics.jsonl"), record);
    std::printf("%s\n",
                epoch_summary(epoch, config_, lr_, train, test).c_str());
    if (communication_.steps > 0) {
      const Communication& c = communication_;
      std::printf(
          "  rank 0 of %d: %.0f bytes summed per step, %.2f s of "
          "%.2f s in collective operations (transfer and waiting "
          "for the other ranks)\n",
          parallel::size_of(group_), double(c.bytes) / c.steps, c.seconds,
          c.wall_seconds);
    }
    std::fflush(stdout);
  }

  /// Figure 6: |grad_mu L| per inference iteration, every N steps.
  /// x: this rank's rows of a batch of `global` rows; the means are the
  /// whole batch's (each rank's weighted by its rows, summed over ranks).
  /// Figure 6's record from the step's own gradients (every rank's rows,
  /// summed in the step's all-reduce): their means over the batch and mu's
  /// columns.
  void append_step_record(int64_t step, int64_t epoch,
                          const BatchResult& result, int64_t global) const {
    if (!root()) return;
    std::vector<double> means = result.mu_gradient_sums;
    for (double& m : means) {
      m /= static_cast<double>(global) * static_cast<double>(result.mu_columns);
    }
    append_gradient_record(run_file("gradients.jsonl"), step, epoch, means);
  }

  /// Figure 6's record taken apart, with passes of its own.
  void record_gradients(int64_t step, int64_t epoch, const torch::Tensor& x,
                        int64_t global) {
    std::vector<double> means = mean_abs_mu_gradients(
        *model_, *procedure_, to_device(x, device_), config_.iterations,
        config_.samples, config_.batch_size);
    if (group_ != nullptr) {
      torch::Tensor sums = torch::tensor(means, torch::kDouble) * x.size(0);
      group_->sum({sums}, "the gradient record's all-reduce");
      sums /= static_cast<double>(global);
      means.assign(sums.data_ptr<double>(),
                   sums.data_ptr<double>() + sums.numel());
    }
    if (!root()) return;
    append_gradient_record(run_file("gradients.jsonl"), step, epoch, means);
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
    return Error(
        message("training diverged: ", where(bad, epoch, step, steps),
                "; no update was applied. ",
                saved_ ? "The last good checkpoint (" + last_checkpoint() +
                             ") is intact in " + run_file("checkpoint.pt")
                       : std::string("No checkpoint had been written yet"),
                ". Try a lower --lr."));
  }

  /// One line: where it stopped, what was saved, how to go on.
  Error interrupted(int64_t epoch, int64_t step, int64_t steps) const {
    const int signal = interrupt_signal();
    return Error(
        message("interrupted by ", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                " at epoch ", epoch, ", step ", step, " of ", steps, "; ",
                last_checkpoint(), " is in ", run_file("checkpoint.pt"),
                "; continue with: iai train --resume ", config_.out));
  }

  /// The last epoch's collective operations (several processes).
  struct Communication {
    int64_t bytes = 0;
    double seconds = 0;
    int64_t steps = 0;
    double wall_seconds = 0;
  } communication_;
  /// Whether this process writes the run's files and progress.
  bool root() const { return parallel::rank_of(group_) == 0; }

  parallel::ProcessGroup* group_;
  TrainConfig config_;
  data::ExampleSets data_;
  int64_t data_dim_;
  int64_t batches_;
  torch::Device device_;
  PrecisionScope precision_;  // for the whole run (before any module)
  model::GenerativeModel model_;
  inference::InferenceProcedure procedure_;
  Optimizers optimizers_;
  StepGraph step_graph_;
  bool graph_announced_ = false;
  const BatchSettings batch_settings_;
  int64_t epochs_done_ = 0;
  int64_t skipped_ = 0;  // non-finite batches skipped in the run (resumes too)
  double lr_ = 0;
  /// A checkpoint taken inside the epoch after epochs_done_, to continue.
  std::optional<CheckpointHeader> mid_epoch_;
  /// metrics.jsonl's line of the last finished epoch, kept in checkpoints.
  std::string last_metrics_;
  bool saved_ = false;    // a checkpoint exists (written or resumed from)
  std::string saved_at_;  // where this process last wrote one
  Clock::time_point last_save_ = Clock::now();
};

EpochLoop::EpochLoop(TrainConfig config, data::ExampleSets data,
                     parallel::ProcessGroup* group)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(data), group)) {
}

EpochLoop::~EpochLoop() = default;

void EpochLoop::restore(const std::string& path,
                        const CheckpointHeader& header) {
  impl_->restore(path, header);
}

TrainResult EpochLoop::run() {
  return impl_->run();
}

}  // namespace iai::train
