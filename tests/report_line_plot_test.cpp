// Tests of the gnuplot-backed PNG line plots: a real figure checked byte by
// byte (PNG signature, IHDR size), the script and data kept beside it, and
// each way a plot can fail, with a stand-in gnuplot where the real one could
// not be made to fail.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "iai/core/error.h"
#include "iai/report/line_plot.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::report::gnuplot_available;
using iai::report::PlotOptions;
using iai::report::PlotSeries;
using iai::report::write_line_plot;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::scratch_dir;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

uint32_t big_endian_u32(const std::string& bytes, size_t offset) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes.at(offset + i));
  }
  return value;
}

std::vector<PlotSeries> two_curves() {
  PlotSeries a{"iterative encoder", {}, {}};
  PlotSeries b{"SVI \"baseline\"", {}, {}};
  for (int i = 1; i <= 50; ++i) {
    a.x.push_back(i);
    a.y.push_back(-100.0 + 20.0 * std::log(i));
    b.x.push_back(i);
    b.y.push_back(-110.0 + 15.0 * std::log(i));
  }
  return {a, b};
}

/// Sets PATH for the life of the guard, then puts the old value back.
class PathGuard {
 public:
  explicit PathGuard(const std::string& path) {
    const char* old = std::getenv("PATH");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("PATH", path.c_str(), 1);
  }
  ~PathGuard() {
    if (had_) {
      setenv("PATH", old_.c_str(), 1);
    } else {
      unsetenv("PATH");
    }
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST(LinePlot, WritesPngOfRequestedSizeAndKeepsScript) {
  if (!gnuplot_available()) {
    GTEST_SKIP() << "gnuplot is not installed (scripts/setup.sh installs "
                    "gnuplot-nox)";
  }
  const auto dir = scratch_dir();
  const auto png = dir + "/elbo.png";
  PlotOptions options;
  options.title = "ELBO vs iteration";
  options.x_label = "iteration";
  options.y_label = "ELBO (nats)";
  options.width = 640;
  options.height = 480;
  write_line_plot(png, two_curves(), options);

  const auto bytes = read_file(png);
  ASSERT_GE(bytes.size(), 24u) << png;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian_u32(bytes, 16), 640u);
  EXPECT_EQ(big_endian_u32(bytes, 20), 480u);

  ASSERT_TRUE(fs::exists(dir + "/elbo.gp"));
  const auto script = read_file(dir + "/elbo.gp");
  EXPECT_TRUE(contains(script, "iterative encoder"));
  EXPECT_TRUE(contains(script, "SVI \\\"baseline\\\""));
  EXPECT_TRUE(fs::exists(dir + "/elbo.dat"));
  EXPECT_FALSE(fs::exists(dir + "/elbo.log")) << "log kept after success";
}

TEST(LinePlot, ZoomPanelShowsTheTopOfTheHighestCurveAndEveryCurveIsDistinct) {
  if (!gnuplot_available()) {
    GTEST_SKIP() << "gnuplot is not installed (scripts/setup.sh installs "
                    "gnuplot-nox)";
  }
  const auto dir = scratch_dir();
  const auto png = dir + "/zoom.png";
  PlotOptions options;
  options.width = 400;
  options.height = 300;
  options.zoom_top = 6;
  write_line_plot(png, two_curves(), options);

  // Two panels, each of the requested size.
  const auto bytes = read_file(png);
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(big_endian_u32(bytes, 16), 400u);
  EXPECT_EQ(big_endian_u32(bytes, 20), 600u);
  const auto script = read_file(dir + "/zoom.gp");
  EXPECT_TRUE(contains(script, "set multiplot layout 2,1"));
  // The highest point of any curve is -100 + 20 ln 50 = -21.7595 (the
  // first curve's last): the panel runs from 6 below it to 0.3 above.
  const double top = -100.0 + 20.0 * std::log(50.0);
  auto range = iai::report::gnuplot::number_stream();  // the script's digits
  range << "set yrange [" << top - 6 << ":" << top + 0.3 << "]";
  EXPECT_TRUE(contains(script, range.str())) << script;
  // Each curve its own dash pattern and marker, twice (both panels).
  EXPECT_TRUE(contains(script, "dashtype 1 pointtype 1"));
  EXPECT_TRUE(contains(script, "dashtype 2 pointtype 2"));
}

TEST(LinePlot, SkipsNonFinitePointsAndHandlesOddLabels) {
  if (!gnuplot_available()) {
    GTEST_SKIP() << "gnuplot is not installed (scripts/setup.sh installs "
                    "gnuplot-nox)";
  }
  const auto dir = scratch_dir();
  const auto png = dir + "/it's a \"plot\".png";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<PlotSeries> series = {
      {"a\\b \"c\" 'd' x_1^2 {e} @f", {0.5, 1, 2, 4, 8}, {1, nan, 3, inf, 5}},
      {"all NaN", {1, 2}, {nan, nan}},
  };
  PlotOptions options;
  options.title = "seconds: \"wall\"\nclock";
  options.log_x = true;
  write_line_plot(png, series, options);

  EXPECT_EQ(read_file(png).substr(1, 3), "PNG");
  const auto data = read_file(dir + "/it's a \"plot\".dat");
  EXPECT_FALSE(contains(data, "nan"));
  EXPECT_FALSE(contains(data, "inf"));
  EXPECT_TRUE(contains(data, "0.5 1\n"));
  EXPECT_TRUE(contains(data, "2 3\n"));
  EXPECT_TRUE(contains(data, "8 5\n"));
  EXPECT_TRUE(contains(read_file(dir + "/it's a \"plot\".gp"), "all NaN"));
}

TEST(LinePlot, MismatchedLengthsNameTheSeries) {
  std::vector<PlotSeries> series = {{"good", {1, 2}, {3, 4}},
                                    {"short one", {1, 2, 3}, {3, 4}}};
  const auto png = scratch_dir() + "/p.png";
  const auto message =
      error_of([&] { write_line_plot(png, series, PlotOptions{}); });
  EXPECT_TRUE(contains(message, "short one"));
  EXPECT_TRUE(contains(message, "3 x values but 2 y values"));
}

TEST(LinePlot, EmptySeriesListIsAnError) {
  const auto png = scratch_dir() + "/p.png";
  const auto message =
      error_of([&] { write_line_plot(png, {}, PlotOptions{}); });
  EXPECT_TRUE(contains(message, "no series"));
  EXPECT_TRUE(contains(message, png));
}

TEST(LinePlot, NoDrawablePointIsAnError) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto png = scratch_dir() + "/p.png";
  const auto message = error_of([&] {
    write_line_plot(png, {{"diverged", {1, 2}, {nan, nan}}}, PlotOptions{});
  });
  EXPECT_TRUE(contains(message, "no series has a point"));
}

TEST(LinePlot, MissingFolderNamesThePath) {
  const std::string png = "/nonexistent-dir/plot.png";
  const auto message =
      error_of([&] { write_line_plot(png, two_curves(), PlotOptions{}); });
  EXPECT_TRUE(contains(message, png));
  EXPECT_TRUE(contains(message, "/nonexistent-dir/plot.dat"));
}

TEST(LinePlot, MissingGnuplotSaysWhatToInstall) {
  const auto dir = scratch_dir();
  const auto empty_bin = scratch_dir("bin");
  PathGuard path(empty_bin);
  EXPECT_FALSE(gnuplot_available());
  const auto message = error_of(
      [&] { write_line_plot(dir + "/p.png", two_curves(), PlotOptions{}); });
  EXPECT_TRUE(contains(message, "gnuplot not found on PATH"));
  EXPECT_TRUE(contains(message, "gnuplot-nox"));
}

TEST(LinePlot, GnuplotFailureCarriesItsStderr) {
  // A stand-in gnuplot that fails the way a bad script makes the real one.
  const auto dir = scratch_dir();
  const auto bin = scratch_dir("bin");
  {
    std::ofstream fake(bin + "/gnuplot");
    fake << "#!/bin/sh\necho 'line 7: undefined variable: oops' >&2\nexit 1\n";
  }
  fs::permissions(bin + "/gnuplot", fs::perms::owner_all);
  PathGuard path(bin + ":/usr/bin:/bin");
  const auto message = error_of(
      [&] { write_line_plot(dir + "/p.png", two_curves(), PlotOptions{}); });
  EXPECT_TRUE(contains(message, "undefined variable: oops"));
  EXPECT_TRUE(contains(message, "exit code 1"));
  EXPECT_TRUE(contains(message, dir + "/p.png"));
  EXPECT_TRUE(fs::exists(dir + "/p.log"));
}

}  // namespace
