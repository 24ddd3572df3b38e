#pragma once
// `iai report` as a library call: one self-contained HTML page for one or
// several run folders (images embedded as base64 data URIs; no external
// CSS, scripts or fonts), holding the paper's Tables 1 and 2 beside our
// evaluated numbers, training curves of every metric in metrics.jsonl, and
// for each run its configuration and whichever figures it has: Figure 5
// (reconstructions.png), Figure 6 (drawn from gradients.jsonl), Figures 1
// and 3 (surface/), Figure 4 (compare/), the amortisation gap (gap.json) and
// Figure 7 (a sweep folder's sweep_*.png).

#include "iai/report/table.h"

#include <string>
#include <vector>

namespace iai::report {

struct ReportOptions {
  /// The HTML file to write; the figures drawn for it (with their gnuplot
  /// scripts and data) go to the folder `<stem>_figures` beside it.
  std::string out = "report.html";
  std::string title = "iai report: iterative amortized inference";
};

/// What write_html_report wrote.
struct ReportSummary {
  std::string path;
  /// Embedded images.
  int images = 0;
  /// The section headings, in order.
  std::vector<std::string> sections;
  /// Tables 1 and 2 and the evaluated runs, as Markdown.
  std::string tables_markdown;
};

/// Writes the report for `run_dirs` (run folders from `iai train`, or sweep
/// folders holding sweep.csv). Throws iai::Error when the list is empty, a
/// folder does not exist or holds none of the files the report reads, a file
/// is corrupt, or the output cannot be written. Without gnuplot the curves
/// it would draw are replaced by a note (figures already drawn are still
/// embedded).
ReportSummary write_html_report(const std::vector<std::string>& run_dirs,
                                const ReportOptions& options);

/// Figure 6 from a run's gradients.jsonl: mean |grad_mu L| against the
/// training step, one line per inference iteration, log y axis. Throws
/// iai::Error when the file cannot be read or holds no record.
void write_gradient_figure(const std::string& gradients_jsonl,
                           const std::string& png_path);

/// `bytes` in base64 (RFC 4648, with padding).
std::string base64(const std::string& bytes);

}  // namespace iai::report
