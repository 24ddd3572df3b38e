#include "iai/train/epoch_report.h"

#include "iai/report/progress.h"

#include <cstdio>

namespace iai::train {

std::string preparation(const TrainConfig& c) {
  if (c.likelihood == "gaussian") return "uniformly dequantised";
  if (c.likelihood == "multinomial") return "word counts";
  return "dynamically binarised";
}

std::string progress_text(int64_t epoch, const TrainConfig& config,
                          const objectives::RunningMean& mean, int64_t examples,
                          double seconds) {
  const int64_t seen = mean.examples();
  char line[200];
  std::snprintf(
      line, sizeof line,
      "epoch %lld/%lld  %lld/%lld  ELBO %.2f  KL %.2f  %.0f ex/s  eta %s",
      (long long)epoch, (long long)config.epochs, (long long)seen,
      (long long)examples, mean.elbo(), mean.kl(), seen / seconds,
      report::format_duration(seconds / seen * (examples - seen)).c_str());
  return line;
}

namespace {

/// Hierarchical models: each level's share of the KL, as
/// "<prefix>_kl_level<l>".
void add_kl_levels(nlohmann::json& record, const std::string& prefix,
                   const std::vector<double>& kl_levels) {
  if (kl_levels.size() <= 1) return;
  for (size_t l = 0; l < kl_levels.size(); ++l) {
    record[prefix + "_kl_level" + std::to_string(l + 1)] = kl_levels[l];
  }
}

std::string test_text(const EpochTest* test) {
  if (!test) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf, "  test ELBO %.2f (%lld ex, %.1fs)",
                test->last.elbo, (long long)test->examples, test->seconds);
  return buf;
}

}  // namespace

nlohmann::json epoch_record(int64_t epoch, const TrainConfig& config, double lr,
                            const EpochTraining& train, const EpochTest* test) {
  const auto means = train.mean.means();
  const int64_t seen = train.mean.examples();
  nlohmann::json record = {
      {"epoch", epoch},
      {"train_elbo", means.elbo},
      {"train_reconstruction", means.reconstruction},
      {"train_kl", means.kl},
      {"train_examples", seen},
      {"seconds", train.seconds},
      {"examples_per_second", seen / train.seconds},
      {"lr", lr},
      {"estimator", "ELBO at lambda_T, S=" + std::to_string(config.samples) +
                        " samples, " + preparation(config)}};
  add_kl_levels(record, "train", means.kl_levels);
  if (config.skip_nonfinite > 0) {
    record["skipped_nonfinite"] = train.skipped_nonfinite;
  }
  if (test) {
    record["test_elbo"] = test->last.elbo;
    // Labelled, not changed: it is estimated with the training S, while the
    // paper's reported L uses one sample per example (iai eval --samples 1).
    record["test_estimator"] =
        "ELBO at lambda_T, S=" + std::to_string(config.samples) +
        " samples (the training S; the paper's reported L uses S=1)";
    record["test_reconstruction"] = test->last.reconstruction;
    record["test_kl"] = test->last.kl;
    add_kl_levels(record, "test", test->last.kl_levels);
    record["test_examples"] = test->examples;
    record["test_seconds"] = test->seconds;
  }
  return record;
}

std::string epoch_summary(int64_t epoch, const TrainConfig& config, double lr,
                          const EpochTraining& train, const EpochTest* test) {
  const auto means = train.mean.means();
  char line[400];
  std::snprintf(
      line, sizeof line,
      "epoch %lld/%lld  train ELBO %.2f (recon %.2f, KL %.2f)%s  lr %.3g  "
      "%.1fs, %.0f ex/s",
      (long long)epoch, (long long)config.epochs, means.elbo,
      means.reconstruction, means.kl, test_text(test).c_str(), lr,
      train.seconds, train.mean.examples() / train.seconds);
  return line;
}

}  // namespace iai::train
