#pragma once
// PNG filled contour plots of a function on a 2-D grid with paths and markers
// on top: the ELBO surface over a 2-D latent space with the MAP estimate and
// inference trajectories (Figures 1 and 3). Drawn by gnuplot with the same
// conventions as line_plot.h: the script and data are kept beside the PNG.

#include <limits>
#include <string>
#include <vector>

namespace iai::report {

/// Values of a function on a rectangular grid: z[j * x.size() + i] is the
/// value at (x[i], y[j]). x and y are strictly increasing and evenly spaced
/// (gnuplot draws the grid as an image).
struct ContourGrid {
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> z;
};

/// Points drawn on top of the surface.
struct ContourOverlay {
  /// Legend entry (plain text).
  std::string label;
  std::vector<double> x;
  /// Same length as x.
  std::vector<double> y;
  /// A path (line through the points, in order) or markers only.
  bool path = true;
  /// Number the points 0, 1, 2, ... (inference iterations); a point close
  /// to one already numbered (within 4% of the view) is left unnumbered.
  bool number_points = false;
  /// gnuplot colour ("#rrggbb") and point type (7 = filled circle, 3 = star,
  /// 5 = filled square, 9 = filled triangle), point size.
  std::string color = "#e41a1c";
  int point_type = 7;
  double point_size = 1.2;
};

/// Titles, colour range and size of a contour plot.
struct ContourOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  /// Colour-bar label (the function's name and unit).
  std::string z_label;
  /// Number of filled levels (colours) and contour lines.
  int levels = 20;
  /// Values below this floor get the lowest colour, so a steep drop far from
  /// the optimum does not wash out the region of interest. NaN = the 5th
  /// percentile of the finite grid values (their minimum with log_gap).
  double z_floor = std::numeric_limits<double>::quiet_NaN();
  /// Colours and contours evenly spaced in log10(1 + max - z), the gap to
  /// the maximum, instead of in z: both the basin around an optimum and the
  /// steep walls far from it stay visible. The floor then defaults to the
  /// grid's minimum.
  bool log_gap = false;
  /// Size of the PNG in pixels.
  int width = 900;
  int height = 800;
};

/// Writes a filled contour plot of `grid` with `overlays` on top (legend
/// below the plot, equal units on both axes) to `png_path` through gnuplot,
/// keeping `<stem>.gp` and `<stem>.dat` beside it (block 0 is the grid in
/// gnuplot's grid format, then each overlay and, if numbered, its numbers).
/// Throws iai::Error with one clear message when the grid is smaller than
/// 2 x 2, its sizes do not match, its axes are not increasing, it has no
/// finite value, an overlay's x and y differ in length, or gnuplot fails
/// (as write_line_plot).
void write_contour_plot(const std::string& png_path, const ContourGrid& grid,
                        const std::vector<ContourOverlay>& overlays,
                        const ContourOptions& options);

}  // namespace iai::report
