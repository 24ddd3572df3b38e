#include "iai/report/line_plot.h"

#include <algorithm>
#include <cmath>
#include <ostream>

#include "iai/core/error.h"
#include "iai/report/gnuplot.h"

namespace iai::report {

namespace {

/// Whether the point is drawn at all.
bool drawable(double x, double y, const PlotOptions& options) {
  return std::isfinite(x) && std::isfinite(y) && (!options.log_x || x > 0) &&
         (!options.log_y || y > 0);
}

/// gnuplot's plot command for the series that have a block in the data
/// file; each series gets its own dash pattern and marker.
void write_plot_command(std::ostream& gp, const std::vector<PlotSeries>& series,
                        const std::vector<int>& block_of,
                        const std::vector<std::size_t>& points_of) {
  gp << "plot \\\n";
  bool first = true;
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (!first) gp << ", \\\n";
    first = false;
    const auto title = gnuplot::quote(series[i].label);
    if (block_of[i] < 0) {
      // Keeps the legend entry of a series with nothing to draw.
      gp << "  NaN title " << title << " with linespoints";
      continue;
    }
    // About 25 markers per line, so long curves stay readable.
    const auto every = std::max<std::size_t>(1, points_of[i] / 25);
    gp << "  data index " << block_of[i] << " using 1:2 title " << title
       << " with linespoints linewidth 2 pointsize 1 pointinterval " << every
       << " dashtype " << i % 5 + 1 << " pointtype " << i % 13 + 1;
    if (!series[i].color.empty()) {
      gp << " linecolor rgb " << gnuplot::quote(series[i].color);
    }
  }
  gp << "\n";
}

}  // namespace

void write_line_plot(const std::string& png_path,
                     const std::vector<PlotSeries>& series,
                     const PlotOptions& options) {
  IAI_CHECK(!series.empty(), "cannot write plot '", png_path,
            "': no series to plot");
  IAI_CHECK(options.width > 0 && options.height > 0, "cannot write plot '",
            png_path, "': size must be positive, got ", options.width, "x",
            options.height);
  for (const auto& s : series) {
    IAI_CHECK(s.x.size() == s.y.size(), "cannot write plot '", png_path,
              "': series '", s.label, "' has ", s.x.size(), " x values but ",
              s.y.size(), " y values");
  }

  // The data: one block per series that has a point to draw, blocks
  // separated by two blank lines so the plot command can pick them by index.
  auto data = gnuplot::number_stream();
  data << "# iai line plot data: one block per series (gnuplot index 0, 1,"
          " ...), columns x y\n";
  std::vector<int> block_of(series.size(), -1);
  std::vector<std::size_t> points_of(series.size(), 0);
  int blocks = 0;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    for (std::size_t j = 0; j < s.x.size(); ++j) {
      if (drawable(s.x[j], s.y[j], options)) ++points_of[i];
    }
    if (points_of[i] == 0) continue;
    if (blocks > 0) data << "\n\n";
    // Labels may hold newlines; keep the comment on one line.
    std::string label = s.label;
    std::replace(label.begin(), label.end(), '\n', ' ');
    data << "# index " << blocks << ": " << label << "\n";
    for (std::size_t j = 0; j < s.x.size(); ++j) {
      if (drawable(s.x[j], s.y[j], options)) {
        data << s.x[j] << ' ' << s.y[j] << '\n';
      }
    }
    block_of[i] = blocks++;
  }
  double y_top = -HUGE_VAL;
  for (const auto& s : series) {
    for (std::size_t j = 0; j < s.x.size(); ++j) {
      if (drawable(s.x[j], s.y[j], options)) y_top = std::max(y_top, s.y[j]);
    }
  }
  IAI_CHECK(blocks > 0, "cannot write plot '", png_path,
            "': no series has a point with finite x and y",
            options.log_x ? " (and x > 0 for the log x axis)" : "",
            options.log_y ? " (and y > 0 for the log y axis)" : "");

  const bool zoom = options.zoom_top > 0;
  const auto files = gnuplot::figure_files(png_path);
  auto gp = gnuplot::number_stream();
  gp << gnuplot::preamble(files, "iai::report::write_line_plot", options.width,
                          zoom ? 2 * options.height : options.height);
  if (zoom) gp << "set multiplot layout 2,1\n";
  gp << "set title " << gnuplot::quote(options.title) << "\n"
     << "set xlabel " << gnuplot::quote(options.x_label) << "\n"
     << "set ylabel " << gnuplot::quote(options.y_label) << "\n"
     << "set key outside right top\n"
     << "set grid\n";
  if (options.log_x) gp << "set logscale x\n";
  if (options.log_y) gp << "set logscale y\n";
  gp << "data = " << gnuplot::quote(gnuplot::absolute(files.dat)) << "\n";
  write_plot_command(gp, series, block_of, points_of);
  if (zoom) {
    auto zoom_title = gnuplot::number_stream();
    zoom_title << "the top " << options.zoom_top << " of " << options.y_label;
    gp << "set title " << gnuplot::quote(zoom_title.str()) << "\n"
       << "set yrange [" << y_top - options.zoom_top << ":"
       << y_top + 0.05 * options.zoom_top << "]\n";
    write_plot_command(gp, series, block_of, points_of);
    gp << "unset multiplot\n";
  }
  gp << "unset output\n";

  gnuplot::write_text(files.dat, data.str(), png_path);
  gnuplot::write_text(files.gp, gp.str(), png_path);
  gnuplot::run(files);
}

PlotSeries sorted_by_x(const PlotSeries& s) {
  std::vector<size_t> idx(s.x.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(),
            [&](size_t a, size_t b) { return s.x[a] < s.x[b]; });
  PlotSeries sorted{s.label, {}, {}, s.color};
  for (auto i : idx) {
    sorted.x.push_back(s.x[i]);
    sorted.y.push_back(s.y[i]);
  }
  return sorted;
}

}  // namespace iai::report
