#include "iai/train/trainer.h"

#include "iai/model/scripted_decoder.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/interrupt.h"
#include "iai/core/precision.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/cpu/blas_core.h"
#include "iai/cpu/gemm.h"
#include "iai/data/batches.h"
#include "iai/model/scripted_decoder.h"
#include "iai/objectives/evaluation.h"
#include "iai/parallel/batch_shard.h"
#include "iai/parallel/process_group.h"
#include "iai/report/progress.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/checkpoint/run_folder.h"
#include "iai/train/config/factory.h"
#include "iai/train/config/inference_registry.h"
#include "iai/train/config/options.h"
#include "iai/train/config/training_data.h"
#include "iai/train/epoch_report.h"
#include "iai/train/metrics_log.h"
#include "iai/train/optim/optimizers.h"
#include "iai/train/step/gradient_record.h"
#include "iai/train/step/train_batch.h"

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

/// A freshly built module, moved to where the run computes (before its
/// optimiser sees its parameters).
template <typename ModuleHolder>
ModuleHolder on_device(ModuleHolder module, const torch::Device& device) {
  module->to(device);
  return module;
}

/// --batch-size is the global batch: each rank computes its share, so it
/// must split evenly (checked before any data are read).
void check_batch_splits(const TrainConfig& c, int world) {
  IAI_CHECK(c.batch_size % world == 0, "--batch-size ", c.batch_size,
            " is the whole batch of the ", world,
            " processes and must be "
            "divisible by their number; choose a multiple of ",
            world);
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

/// The run: one epoch loop over train_batch, with a test evaluation, a
/// checkpoint, a metrics line and a summary line after each epoch, and
/// checkpoints inside an epoch (every N steps, every M minutes, on SIGINT or
/// SIGTERM) that hold the position in the epoch.
class Trainer {
 public:
  /// `group`: the job's processes, or nullptr for a single process.
  Trainer(TrainConfig config, data::ExampleSets data,
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
      record_gradients(step, epoch, x, global);
      StepRequests requests;
      requests.stop = interrupt_requested();
      requests.checkpoint = root() && minutes_due();
      const BatchResult result = train_batch(*model_, *procedure_, optimizers_,
                                             x, batch_settings_, requests);
      sharded.reset();
      if (!graph_announced_ && step_graph_.captured()) {
        graph_announced_ = true;
        if (root()) {
          progress.clear();
          std::printf("iai train: training step %s in a CUDA graph\n",
                      step_graph_.describe().c_str());
          std::fflush(stdout);
        }
      }
      if (!result.updated) {
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
      } else {
        train.mean.add(result.sums, result.examples);
      }
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
  void record_gradients(int64_t step, int64_t epoch, const torch::Tensor& x,
                        int64_t global) {
    if (!records_gradients_at(step, config_.record_gradients_every)) return;
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

/// config.device becomes what `requested` resolves to on this machine; a
/// device several processes cannot share, or a precision it lacks, is an
/// error here, before any work.
void settle_device(TrainConfig& config, const std::string& requested) {
  const torch::Device device = resolve_device(requested);
  config.device = device.str();
  parallel::require_host_device(device.is_cpu());
  check_precision(config.precision, device);
}

void announce(const TrainConfig& c, const data::ExampleSets& data, int threads,
              parallel::ProcessGroup* group) {
  if (parallel::rank_of(group) != 0) return;
  const int processes_n = parallel::size_of(group);
  const std::string processes =
      processes_n > 1 ? message(processes_n, " processes x ") : std::string();
  std::printf(
      "iai train: %s inference on %s (%lld train / %lld test "
      "examples, %s), on %s, %s%d thread%s, run folder %s\n",
      c.inference.c_str(), c.dataset.c_str(), (long long)data.train->size(),
      (long long)data.test->size(), preparation(c).c_str(),
      describe_device(resolve_device(c.device)).c_str(), processes.c_str(),
      threads, threads == 1 ? "" : "s", c.out.c_str());
  print_config(c);
  if (resolve_device(c.device).is_cpu()) {
    // What the float32 products run on (cpu/gemm.h; IAI_GEMM=blas).
    std::printf("  %-15s = %s\n", "products", gemm::backend().c_str());
    if (const auto core = blas::openblas_core()) {
      std::printf("  %-15s = OpenBLAS (%s kernels)\n", "blas", core->c_str());
    }
    blas::warn_once_if_crippled();
  }
  std::fflush(stdout);
}

}  // namespace

TrainResult run_train(const TrainConfig& config) {
  return run_train(config, parallel::world());
}

void print_config(const TrainConfig& config) {
  const auto json = to_json(config);
  for (const auto& item : json.items()) {
    std::printf("  %-15s = %s\n", item.key().c_str(),
                item.value().dump().c_str());
  }
}

TrainResult run_train(const TrainConfig& requested,
                      parallel::ProcessGroup* group) {
  TrainConfig config = resolve(requested);
  // Before any work; config.json records the device the run resolved to.
  settle_device(config, config.device);
  check_batch_splits(config, parallel::size_of(group));
  if (!config.decoder.empty()) {
    config.decoder_script = model::read_decoder_file(config.decoder);
  }
  gemm::uses_onednn();  // a bad IAI_GEMM is an error before any work
  if (config.out.empty()) config.out = default_run_dir(config);
  // One run folder for every rank: rank 0's clock names it.
  if (group != nullptr) config.out = group->agree("run folder", config.out);
  IAI_CHECK(!fs::exists(fs::path(config.out) / "checkpoint.pt") &&
                !fs::exists(fs::path(config.out) / "checkpoint.prev.pt") &&
                !fs::exists(fs::path(config.out) / "metrics.jsonl"),
            "--out '", config.out,
            "' already holds a run; continue it with --resume ", config.out,
            " or choose another --out");
  // Before the data load: a bad --out is an error at once (rank 0 alone
  // writes the run folder).
  const bool created =
      parallel::rank_of(group) == 0 && prepare_run_folder(config.out);
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

  if (parallel::rank_of(group) == 0) {
    std::ofstream out(fs::path(config.out) / "config.json");
    IAI_CHECK(out.good(), "cannot write '", config.out, "/config.json'");
    out << to_json(config).dump(2) << '\n';
    out.flush();
    IAI_CHECK(out.good(), "cannot write '", config.out,
              "/config.json' (disk full?)");
  }
  announce(config, data, threads, group);
  Trainer trainer(config, std::move(data), group);
  return trainer.run();
}

TrainResult resume_train(const std::string& run_dir,
                         std::optional<int64_t> epochs,
                         std::optional<int> threads) {
  ResumeChanges changes;
  if (epochs) {
    changes.values.epochs = *epochs;
    changes.given.insert("epochs");
  }
  if (threads) {
    changes.values.threads = *threads;
    changes.given.insert("threads");
  }
  return resume_train(run_dir, changes, parallel::world());
}

TrainResult resume_train(const std::string& run_dir,
                         const ResumeChanges& changes,
                         parallel::ProcessGroup* group) {
  std::string fallback;
  const std::string path = resumable_checkpoint(run_dir, &fallback);
  auto header = read_checkpoint_header(path);
  TrainConfig config = header.config;
  config.out = fs::path(path).parent_path().string();
  for (const auto& name : changes.given) {
    const OptionSpec& option = train_option(name);
    IAI_CHECK(option.resumable, option.flag(),
              " cannot change when a run is resumed: it keeps its saved "
              "config (only ",
              resumable_flags(), " may change)");
    copy_option(option, changes.values, config);
  }
  // The device is the resuming machine's, not the one the run began on.
  settle_device(config, changes.given.count("device") ? changes.values.device
                                                      : std::string("auto"));
  config = resolve(config);
  check_batch_splits(config, parallel::size_of(group));
  const bool root = parallel::rank_of(group) == 0;
  if (root) check_run_folder_writable(config.out);
  if (!fallback.empty() && root) {
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
  if (root) repair_metrics(metrics, header.epoch, header.last_metrics);
  if (header.epoch >= config.epochs) {
    if (root)
      std::printf(
          "run %s already finished %lld of %lld epochs; pass --epochs "
          "N to train further\n",
          config.out.c_str(), (long long)header.epoch,
          (long long)config.epochs);
    return {config.out, header.epoch};
  }
  auto data = load_data(config);
  IAI_CHECK(data.train->dim() == header.data_dim, "data in '", config.data_dir,
            "' have ", data.train->dim(),
            " dimensions but the checkpoint's model was built for ",
            header.data_dim);
  const int used_threads = set_threads(config.threads);
  if (root && header.step > 0) {
    std::printf("resuming at epoch %lld, after step %lld\n",
                (long long)header.epoch + 1, (long long)header.step);
  } else if (root) {
    std::printf("resuming after epoch %lld\n", (long long)header.epoch);
  }
  const int64_t batches =
      data::batch_count(data.train->size(), config.batch_size);
  announce(config, data, used_threads, group);
  Trainer trainer(config, std::move(data), group);
  trainer.restore(path, header);
  // Gradient records the resumed run will write again.
  if (root) {
    truncate_log((fs::path(config.out) / "gradients.jsonl").string(), "step",
                 header.epoch * batches + header.step);
  }
  return trainer.run();
}

}  // namespace iai::train
