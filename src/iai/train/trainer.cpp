#include "iai/train/trainer.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/precision.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/cpu/blas_core.h"
#include "iai/cpu/gemm.h"
#include "iai/data/batches.h"
#include "iai/model/scripted_decoder.h"
#include "iai/parallel/process_group.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/checkpoint/run_folder.h"
#include "iai/train/config/options.h"
#include "iai/train/config/training_data.h"
#include "iai/train/epoch_loop.h"
#include "iai/train/epoch_report.h"
#include "iai/train/metrics_log.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace iai::train {

namespace fs = std::filesystem;

namespace {

std::string default_run_dir(const TrainConfig& c) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + c.inference + "-" + stamp;
}

/// config.device becomes what `requested` resolves to on this machine (in a
/// job, this process's GPU: parallel::job_device); a device this build
/// cannot sum on in a job, or a precision it lacks, is an error here, before
/// any work.
void settle_device(TrainConfig& config, const std::string& requested) {
  const torch::Device device = parallel::job_device(requested);
  config.device = device.str();
  check_precision(config.precision, device);
}

/// The saved config with the resume's changes (only resumable options), on
/// this machine's device, resolved.
TrainConfig resumed_config(const CheckpointHeader& header,
                           const std::string& path,
                           const ResumeChanges& changes) {
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
  return resolve(config);
}

/// The run goes on from checkpoint.prev.pt: the unreadable checkpoint.pt is
/// moved aside, so the next checkpoint does not push the good previous one
/// out as checkpoint.prev.pt, and kept for inspection; says so on stderr.
void set_aside_unreadable(const std::string& run_dir,
                          const std::string& fallback) {
  const auto newest = fs::path(run_dir) / "checkpoint.pt";
  std::error_code ec;
  bool moved = false;
  if (fs::exists(newest)) {
    fs::rename(newest, fs::path(run_dir) / "checkpoint.unreadable.pt", ec);
    moved = !ec;
  }
  std::fprintf(stderr, "iai: warning: %s%s\n", fallback.c_str(),
               moved ? " (the unreadable one is kept as "
                       "checkpoint.unreadable.pt)"
                     : "");
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
  // A bad IAI_GEMM or IAI_KERNELS is an error before any work.
  gemm::uses_onednn();
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
  EpochLoop trainer(config, std::move(data), group);
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
  TrainConfig config = resumed_config(header, path, changes);
  check_batch_splits(config, parallel::size_of(group));
  const bool root = parallel::rank_of(group) == 0;
  if (root) check_run_folder_writable(config.out);
  if (!fallback.empty() && root) set_aside_unreadable(config.out, fallback);
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
  EpochLoop trainer(config, std::move(data), group);
  trainer.restore(path, header);
  // Gradient records the resumed run will write again.
  if (root) {
    truncate_log((fs::path(config.out) / "gradients.jsonl").string(), "step",
                 header.epoch * batches + header.step);
  }
  return trainer.run();
}

}  // namespace iai::train
