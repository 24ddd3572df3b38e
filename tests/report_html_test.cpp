// The report's building blocks without training: base64 against RFC 4648's
// vectors, Markdown/HTML tables escape what they must, the paper's Tables 1
// and 2 place each evaluated run in its row and column with its estimator,
// Figure 6 from a gradients.jsonl, and contour plots' input checks.

#include <fstream>

#include <nlohmann/json.hpp>

#include "iai/report/contour_plot.h"
#include "iai/report/html_report.h"
#include "iai/report/line_plot.h"
#include "iai/report/paper_tables.h"
#include "test_support.h"

namespace {

using iai::testing::contains;
using iai::testing::error_of;

TEST(Report, Base64MatchesRfc4648) {
  using iai::report::base64;
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(Report, TablesEscapeTheirCells) {
  iai::report::Table t{"caption <1>", {"a|b", "c"}, {{"x<y", "p|q"}, {"only"}}};
  const auto md = iai::report::to_markdown(t);
  EXPECT_TRUE(contains(md, "| a\\|b | c |"));
  EXPECT_TRUE(contains(md, "| only |  |"));
  const auto html = iai::report::to_html(t);
  EXPECT_TRUE(contains(html, "<caption>caption &lt;1&gt;</caption>"));
  EXPECT_TRUE(contains(html, "<td>x&lt;y</td>"));
}

TEST(Report, PaperTablesPlaceEachRunByDatasetDepthAndInference) {
  auto eval = [](const std::string& inference, double log_px,
                 const std::string& posterior) {
    nlohmann::json e = {
        {"inference", inference},
        {"epochs", 3},
        {"examples", 1000},
        {"binarisation", "dynamic (fresh Bernoulli draw), seed 1"},
        {"elbo", -log_px - 5},
        {"elbo_samples", 10},
        {"iterations", 5},
        {"config", {{"dataset", "mnist"}, {"posterior", posterior}}}};
    if (log_px != 0) {
      e["log_px"] = -log_px;
      e["iw_samples"] = 5000;
    }
    return e;
  };
  std::vector<iai::report::EvaluatedRun> runs = {
      {"std", eval("standard", 90.5, "gaussian")},
      {"it", eval("iterative", 89.25, "gaussian")},
      {"it-elbo", eval("iterative", 0, "gaussian")},
      {"map", eval("iterative", 0, "point")}};
  const auto tables = iai::report::paper_tables(runs);
  ASSERT_EQ(tables.size(), 2u);
  const auto& mnist = tables[0].rows[0];
  EXPECT_EQ(mnist[1], "84.14 ± 0.02");
  EXPECT_EQ(mnist[2], "83.84 ± 0.05");
  EXPECT_TRUE(contains(mnist[3],
                       "90.50 (IW, K=5000; 3 epoch(s), 1000 test "
                       "examples, dynamic binarisation; std)"));
  EXPECT_TRUE(contains(mnist[4], "89.25 (IW, K=5000"));
  // A run without log p(x) says it is only an ELBO; a point-estimate run is
  // not in the likelihood table at all.
  EXPECT_TRUE(contains(mnist[4], "-ELBO 5.00 (ELBO only, an upper bound"));
  EXPECT_FALSE(contains(mnist[4], "map"));
  EXPECT_EQ(tables[0].rows[1][3], "no run");  // MNIST hierarchical
  EXPECT_EQ(tables[1].rows[0][2], "285.0 ± 0.1 (314 ± 1)");
  const auto all = iai::report::evaluated_runs_table(runs);
  ASSERT_EQ(all.rows.size(), 4u);
  EXPECT_TRUE(contains(all.rows[3][2], "point"));
  EXPECT_EQ(all.rows[2][8], "not estimated");
}

TEST(Report, GradientFigureNeedsRecords) {
  const auto dir = iai::testing::scratch_dir();
  std::ofstream(dir + "/empty.jsonl") << "\n";
  auto message = error_of([&] {
    iai::report::write_gradient_figure(dir + "/empty.jsonl", dir + "/g.png");
  });
  EXPECT_TRUE(contains(message, "holds no gradient record"));
  if (!iai::report::gnuplot_available())
    GTEST_SKIP() << "gnuplot not installed";
  std::ofstream(dir + "/g.jsonl")
      << R"({"step":1,"epoch":1,"iterations":2,"mean_abs_grad_mu":[3.0,0.5]})"
      << "\n"
      << R"({"step":51,"epoch":1,"iterations":2,"mean_abs_grad_mu":[2.0,0.25]})"
      << "\n";
  iai::report::write_gradient_figure(dir + "/g.jsonl", dir + "/g.png");
  std::ifstream gp(dir + "/g.gp");
  std::string script((std::istreambuf_iterator<char>(gp)), {});
  EXPECT_TRUE(contains(script, "set logscale y"));
  EXPECT_TRUE(contains(script, "\"t = 2\""));
  EXPECT_TRUE(std::filesystem::file_size(dir + "/g.png") > 0);
}

TEST(Report, ContourPlotChecksItsGrid) {
  const auto dir = iai::testing::scratch_dir();
  iai::report::ContourGrid g{{0, 1}, {0, 1}, {1, 2, 3}};
  auto m = error_of(
      [&] { iai::report::write_contour_plot(dir + "/c.png", g, {}, {}); });
  EXPECT_TRUE(contains(m, "3 values for a 2 x 2 grid"));
  g = {{0, 1}, {1, 0}, {1, 2, 3, 4}};
  m = error_of(
      [&] { iai::report::write_contour_plot(dir + "/c.png", g, {}, {}); });
  EXPECT_TRUE(contains(m, "increasing"));
  g = {{0, 1}, {0, 1}, {1, 2, 3, 4}};
  iai::report::ContourOverlay bad;
  bad.label = "lopsided";
  bad.x = {0.5};
  m = error_of(
      [&] { iai::report::write_contour_plot(dir + "/c.png", g, {bad}, {}); });
  EXPECT_TRUE(contains(m, "overlay 'lopsided' has 1 x values but 0 y values"));
}

// What a contour plot draws, read from the data and script it keeps beside
// the PNG: the grid scan lines with NaN for a non-finite value, each drawable
// overlay its own block (an overlay with no finite point is a legend entry
// only), point numbers where they do not crowd (within 4% of the view), the
// colour range from the grid (log-gap: its minimum and maximum) and the
// colour bar's ticks labelled with values.
TEST(Report, ContourPlotDrawsTheGridTheOverlaysAndTheirNumbers) {
  const auto dir = iai::testing::scratch_dir();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  iai::report::ContourGrid g{{0, 1, 2}, {0, 10}, {-5, -1, 0, nan, -2, -30}};
  iai::report::ContourOverlay path;
  path.label = "iterative\nmodel";
  path.x = {0, 0.25, 1, nan, 2};
  path.y = {0, 0.25, 5, 1, 10};
  path.number_points = true;
  iai::report::ContourOverlay empty;
  empty.label = "nowhere";
  empty.x = {nan};
  empty.y = {0};
  empty.path = false;
  iai::report::ContourOptions options;
  options.log_gap = true;
  iai::report::write_contour_plot(dir + "/c.png", g, {path, empty}, options);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string data = read(dir + "/c.dat");
  const std::string script = read(dir + "/c.gp");
  // Grid: one scan line per y, x fastest; the non-finite value as NaN.
  EXPECT_TRUE(contains(data,
                       "0 0 -5\n1 0 -1\n2 0 0\n\n0 10 NaN\n1 10 -2\n"
                       "2 10 -30\n\n"))
      << data;
  // The path without its non-finite point; its label on one line.
  EXPECT_TRUE(contains(data,
                       "# index 1: iterative model\n0 0\n0.25 0.25\n1 "
                       "5\n2 10\n"))
      << data;
  // Numbers: point 1 lies within 4% of 10 (0.4) of point 0 (0.35 away), so it has none;
  // point 3 is not finite.
  EXPECT_TRUE(contains(data, "(x y number)\n0 0 0\n1 5 2\n2 10 4\n")) << data;
  EXPECT_FALSE(contains(data, "nowhere")) << data;
  EXPECT_TRUE(contains(script, "NaN title \"nowhere\" with points")) << script;
  EXPECT_TRUE(
      contains(script, "data index 1 using 1:2 title \"iterative\nmodel\"") ||
      contains(script, "data index 1 using 1:2 title"))
      << script;
  EXPECT_TRUE(contains(script, "data index 2 using 1:2:(sprintf('%d', $3))"))
      << script;
  // Log gap: the floor is the minimum (-30), the top the maximum (0).
  EXPECT_TRUE(contains(script, "floor = -30\n")) << script;
  EXPECT_TRUE(contains(script, "top = 0\n")) << script;
  EXPECT_TRUE(contains(script, "s(z) = -log10(1 + top - z)")) << script;
  EXPECT_TRUE(contains(script, "set cbtics (\"0\" -0")) << script;
  EXPECT_TRUE(contains(script, "\"-30\" ")) << script;
}

}  // namespace
