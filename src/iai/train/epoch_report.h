#pragma once
// What a training run reports about each epoch: the progress line while it
// runs, its line of metrics.jsonl and the summary line printed after it.
// Pure formatting: no file is written here.

#include "iai/objectives/running_mean.h"
#include "iai/train/config/config.h"

#include <nlohmann/json.hpp>

#include <string>

namespace iai::train {

/// How the data are prepared ("dynamically binarised", ...), for labels.
std::string preparation(const TrainConfig& config);

/// The training half of an epoch, as measured.
struct EpochTraining {
  objectives::RunningMean mean;
  double seconds = 0;
  /// Batches skipped for a non-finite value (--skip-nonfinite).
  int64_t skipped_nonfinite = 0;
};

/// The test-set ELBO after an epoch (objectives::evaluate at the training
/// T and S), as measured.
struct EpochTest {
  objectives::TermValues last;  // means at lambda_T
  int64_t examples = 0;
  double seconds = 0;
};

/// The progress line of a running epoch: ELBO and KL so far, speed, ETA.
std::string progress_text(int64_t epoch, const TrainConfig& config,
                          const objectives::RunningMean& mean, int64_t examples,
                          double seconds);

/// metrics.jsonl's line for an epoch; test may be null (no test this epoch).
nlohmann::json epoch_record(int64_t epoch, const TrainConfig& config, double lr,
                            const EpochTraining& train, const EpochTest* test);

/// The line printed after an epoch.
std::string epoch_summary(int64_t epoch, const TrainConfig& config, double lr,
                          const EpochTraining& train, const EpochTest* test);

}  // namespace iai::train
