// `iai table`: evaluated runs side by side with the paper's Table 1 row.

#include "cli.h"

#include "iai/analysis/comparison_table.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

namespace iai::cli {

void add_table_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "table",
      "Print evaluated runs (folders holding eval.json and metrics.jsonl) "
      "side by side with the paper's Table 1.");
  auto runs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("runs", *runs, "Run folders")->required()->expected(1, -1);
  cmd->callback(
      [runs] { std::printf("%s", analysis::comparison_table(*runs).c_str()); });
}

}  // namespace iai::cli
