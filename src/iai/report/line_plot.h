#pragma once
// PNG line plots (inference curves: ELBO against iterations or seconds),
// drawn by gnuplot so the library needs no plotting code of its own. The
// script and data behind each figure are kept beside it, so a user can
// re-style a figure without re-running the experiment.

#include <string>
#include <vector>

#include "iai/report/gnuplot.h"  // gnuplot_available()

namespace iai::report {

/// One curve of a line plot.
struct PlotSeries {
  /// Legend entry (plain text; gnuplot's markup is not interpreted).
  std::string label;
  std::vector<double> x;
  /// Same length as x; points whose x or y is not finite are skipped.
  std::vector<double> y;
  /// Line colour "#rrggbb" (empty = gnuplot's next colour).
  std::string color;
};

/// Titles, axes and size of a line plot.
struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  /// Logarithmic x axis; points with x <= 0 are then skipped.
  bool log_x = false;
  /// Logarithmic y axis (e.g. gradient magnitudes, Figure 6); points with
  /// y <= 0 are then skipped.
  bool log_y = false;
  /// Size of the PNG in pixels (of each panel when zoomed).
  int width = 900;
  int height = 600;
  /// When positive, a second panel below the first shows only the top
  /// `zoom_top` units of y below the highest point of any curve (Figure 4's
  /// last nats, where the comparison is decided).
  double zoom_top = 0;
};

/// Writes a PNG line plot (one line with points per series, legend from the
/// labels; each series its own dash pattern and marker, so that a curve
/// drawn over another stays visible) to `png_path` by running gnuplot on a
/// script and a data file written next to it (`<stem>.gp` and `<stem>.dat`,
/// where stem is png_path without ".png"; both are kept so users can re-style
/// the figure). Throws iai::Error with one clear message when `series` is
/// empty, a series has x and y of different lengths, no series has a point to
/// draw, gnuplot is not installed, the folder is not writable, or gnuplot fails
/// (the message then holds gnuplot's stderr, captured in `<stem>.log`, which is
/// removed on success).
void write_line_plot(const std::string& png_path,
                     const std::vector<PlotSeries>& series,
                     const PlotOptions& options);

/// The series with its points in increasing x (a curve assembled in another
/// order, e.g. a sweep's settings, draws as a line only when sorted).
PlotSeries sorted_by_x(const PlotSeries& series);

}  // namespace iai::report
