#pragma once
// metrics.jsonl: one JSON object per epoch, appended as the run goes, so a
// crashed or interrupted run keeps every finished epoch's numbers.

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace iai::train {

/// Appends `record` as one line.
void append_metrics(const std::string& path, const nlohmann::json& record);

/// Drops lines whose "epoch" exceeds `last_epoch` (a resumed run repeats
/// epochs that finished after its checkpoint was written).
void truncate_metrics(const std::string& path, int64_t last_epoch);

}  // namespace iai::train
