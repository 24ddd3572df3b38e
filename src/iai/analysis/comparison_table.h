#pragma once
// The main job's closing table: evaluated runs side by side with the paper's
// Table 1 row, each number labelled with its estimator and the budget used.

#include <string>
#include <vector>

namespace iai::analysis {

/// run_dirs each hold eval.json (from `iai eval`) and metrics.jsonl. Returns
/// the table as text; throws iai::Error naming a missing/corrupt file.
std::string comparison_table(const std::vector<std::string>& run_dirs);

}  // namespace iai::analysis
