#pragma once
// The paper's Tables 1 and 2 (Section 5.3) with our evaluated runs beside
// them. Each of our numbers says how it was estimated (importance-weighted
// log p(x) with K samples, or only the ELBO), on how many test examples,
// with which binarisation and after how many epochs, so that no bound is
// read as a likelihood and no short run as the paper's budget.

#include "iai/report/table.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace iai::report {

/// One evaluated run: a label (its folder's name) and its eval.json (as
/// `iai eval` writes it: inference, epochs, examples, binarisation, elbo,
/// elbo_samples, iterations, log_px, iw_samples, config).
struct EvaluatedRun {
  std::string label;
  nlohmann::json eval;
};

/// Table 1 (MNIST and CIFAR-10, single-level and hierarchical: -log p(x) in
/// nats or bits/dim) and Table 2 (RCV1 perplexity): columns experiment,
/// paper standard, paper iterative, ours standard, ours iterative. A run
/// fills the row of its data set and model depth and the column of its
/// inference model; point-estimate runs (no likelihood to compare) and
/// other inference models appear only in evaluated_runs_table. Cells with
/// no run say so.
std::vector<Table> paper_tables(const std::vector<EvaluatedRun>& runs);

/// One row per run: inference, T, S, epochs, test examples, -ELBO,
/// -log p(x) with its estimator, binarisation.
Table evaluated_runs_table(const std::vector<EvaluatedRun>& runs);

}  // namespace iai::report
