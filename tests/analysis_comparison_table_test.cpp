// The main job's closing table (analysis/comparison_table.h) and the
// Markdown/HTML tables of the report (report/table.h), from hand-written run
// folders: each number in the table is one that a bug in reading
// eval.json or metrics.jsonl would change.
#include "iai/analysis/comparison_table.h"
#include "iai/report/table.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "test_support.h"

namespace {

using iai::testing::contains;

void write_run(const std::string& dir, const nlohmann::json& eval,
               const std::vector<nlohmann::json>& metrics) {
  std::ofstream(dir + "/eval.json") << eval.dump();
  std::ofstream out(dir + "/metrics.jsonl");
  for (const auto& m : metrics) out << m.dump() << '\n';
}

nlohmann::json eval_of(const std::string& inference, double elbo, double log_px,
                       int64_t t) {
  return {{"inference", inference},
          {"elbo", elbo},
          {"log_px", log_px},
          {"iterations", t},
          {"elbo_samples", 1},
          {"iw_samples", 5000},
          {"examples", 10000},
          {"config", {{"model", "single"}, {"max_train", 0}}}};
}

TEST(ComparisonTableTest, StatesEachRunsNumbersBudgetAndTimes) {
  const auto root = iai::testing::scratch_dir();
  const auto a = root + "/standard", b = root + "/iterative";
  std::filesystem::create_directories(a);
  std::filesystem::create_directories(b);
  // Two epochs each: train seconds 10 + 12 (+ test 1 + 1) and 30 + 34.
  write_run(a, eval_of("standard", -101.25, -97.5, 1),
            {{{"epoch", 1},
              {"seconds", 10.0},
              {"test_seconds", 1.0},
              {"train_examples", 25600}},
             {{"epoch", 2},
              {"seconds", 12.0},
              {"test_seconds", 1.0},
              {"train_examples", 25600}}});
  write_run(b, eval_of("iterative", -95.75, -93.0, 5),
            {{{"epoch", 1}, {"seconds", 30.0}, {"train_examples", 25600}},
             {{"epoch", 2}, {"seconds", 34.0}, {"train_examples", 25600}},
             nlohmann::json()});  // a line that is no record ("null")
  std::ofstream(b + "/metrics.jsonl", std::ios::app) << "{\"epoch\": 3, \"sec";
  const std::string table = iai::analysis::comparison_table({a, b});
  for (const char* expected :
       {"MNIST single-level, test split: 10000 examples",
        "budget: 2 epoch(s) on 25600 training examples each", "101.25", "95.75",
        "97.50", "93.00", "24 s", "64 s", "12.0 s", "32.0 s", "T=1 S=1",
        "T=5 S=1", "IW K=5000", "84.14"}) {
    EXPECT_TRUE(contains(table, expected)) << expected << " in\n" << table;
  }
  // The runs keep their order: standard's column before iterative's.
  EXPECT_LT(table.find("101.25"), table.find("95.75"));
  // A run without eval.json is named, with what to do.
  std::filesystem::create_directories(root + "/none");
  const auto message = iai::testing::error_of([&] {
    iai::analysis::comparison_table({a, root + "/none"});
  });
  EXPECT_TRUE(contains(message, root + "/none/eval.json")) << message;
  EXPECT_TRUE(contains(message, "iai eval")) << message;
}

TEST(ReportTableTest, MarkdownAndHtmlEscapeAndPad) {
  iai::report::Table t{"Table 1", {"model", "nats"}, {{"a|b", "1.5"}, {"c"}}};
  const auto md = iai::report::to_markdown(t);
  EXPECT_EQ(md,
            "**Table 1**\n\n| model | nats |\n|---|---|\n| a\\|b | 1.5 |\n"
            "| c |  |\n");
  const auto html = iai::report::to_html({"x < y", {"\"q\""}, {{"a & b"}}});
  EXPECT_TRUE(contains(html, "x &lt; y")) << html;
  EXPECT_TRUE(contains(html, "&quot;q&quot;")) << html;
  EXPECT_TRUE(contains(html, "a &amp; b")) << html;
  EXPECT_FALSE(contains(html, "a & b")) << html;
}

}  // namespace
