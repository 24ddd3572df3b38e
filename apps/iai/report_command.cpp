// `iai report`: one self-contained HTML page (report.html) for one or several
// runs: Tables 1 and 2 beside our numbers, training curves, and each run's
// figures (Figures 1/3, 4, 5, 6, 7 where present).

#include "cli.h"

#include "iai/core/output_folder.h"
#include "iai/report/html_report.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace iai::cli {

void add_report_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML report (images embedded) for run "
      "folders: the paper's Tables 1 and 2 beside our evaluations, training "
      "curves, configs and every figure a run has.");
  auto runs = std::make_shared<std::vector<std::string>>();
  auto options = std::make_shared<report::ReportOptions>();
  add_config_option(*cmd);
  cmd->add_option("runs", *runs, "Run folders (or sweep folders)")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--out", options->out,
                  "HTML file to write (its figures go to <stem>_figures/ "
                  "beside it)")
      ->capture_default_str();
  cmd->add_option("--title", options->title, "Page title")
      ->capture_default_str();
  cmd->callback([runs, options] {
    const auto folder = std::filesystem::path(options->out).parent_path();
    check_output_folder(folder.empty() ? "." : folder.string(), "--out");
    const auto summary = report::write_html_report(*runs, *options);
    std::printf("%s", summary.tables_markdown.c_str());
    std::printf(
        "iai report: %zu section(s), %d image(s) embedded\n"
        "report: %s\n",
        summary.sections.size(), summary.images, summary.path.c_str());
  });
}

}  // namespace iai::cli
