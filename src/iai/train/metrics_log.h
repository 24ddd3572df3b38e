#pragma once
// metrics.jsonl: one JSON object per epoch, appended as the run goes, so a
// crashed or interrupted run keeps every finished epoch's numbers. A resume
// rewrites it to match its checkpoint: no epoch twice, none missing, no line
// cut by a kill.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace iai::train {

/// Appends `record` as one line.
void append_metrics(const std::string& path, const nlohmann::json& record);

/// Drops lines whose "epoch" exceeds `last_epoch` (a resumed run repeats
/// epochs that finished after its checkpoint was written) and lines cut
/// short by a crash.
void truncate_metrics(const std::string& path, int64_t last_epoch);

/// The same for any JSON-lines log, by its counter `key` (gradients.jsonl:
/// "step").
void truncate_log(const std::string& path, const char* key, int64_t last);

/// What a resume does to metrics.jsonl: truncate_metrics(path, last_epoch),
/// then, when no line of `last_epoch` is left (the process was killed after
/// the checkpoint but before or while its line was appended), appends
/// `last_line`, the line the checkpoint kept (if not empty).
void repair_metrics(const std::string& path, int64_t last_epoch,
                    const std::string& last_line);

}  // namespace iai::train
