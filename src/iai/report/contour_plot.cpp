#include "iai/report/contour_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "iai/core/error.h"
#include "iai/report/gnuplot.h"

namespace iai::report {

namespace {

bool increasing(const std::vector<double>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i]) || (i > 0 && v[i] <= v[i - 1])) return false;
  }
  return true;
}

/// The q-quantile (0..1) of the finite values.
double quantile(std::vector<double> finite, double q) {
  const auto k = static_cast<std::size_t>(q * (finite.size() - 1));
  std::nth_element(finite.begin(), finite.begin() + k, finite.end());
  return finite[k];
}

/// The grid's finite values; throws iai::Error naming the figure for a grid
/// or overlay gnuplot cannot draw.
std::vector<double> checked_finite_values(
    const std::string& png_path, const ContourGrid& grid,
    const std::vector<ContourOverlay>& overlays,
    const ContourOptions& options) {
  const std::size_t nx = grid.x.size(), ny = grid.y.size();
  IAI_CHECK(nx >= 2 && ny >= 2, "cannot write contour plot '", png_path,
            "': the grid needs at least 2 x 2 points, got ", nx, " x ", ny);
  IAI_CHECK(grid.z.size() == nx * ny, "cannot write contour plot '", png_path,
            "': ", grid.z.size(), " values for a ", nx, " x ", ny, " grid");
  IAI_CHECK(increasing(grid.x) && increasing(grid.y),
            "cannot write contour plot '", png_path,
            "': grid coordinates must be finite and increasing");
  IAI_CHECK(options.levels >= 2 && options.width > 0 && options.height > 0,
            "cannot write contour plot '", png_path,
            "': levels must be >= 2 and the size positive");
  std::vector<double> finite;
  for (const double z : grid.z) {
    if (std::isfinite(z)) finite.push_back(z);
  }
  IAI_CHECK(!finite.empty(), "cannot write contour plot '", png_path,
            "': the grid has no finite value");
  for (const auto& o : overlays) {
    IAI_CHECK(o.x.size() == o.y.size(), "cannot write contour plot '", png_path,
              "': overlay '", o.label, "' has ", o.x.size(), " x values but ",
              o.y.size(), " y values");
  }
  return finite;
}

/// The colour range: the grid's maximum, and the floor below which every
/// value gets the lowest colour.
struct ColourRange {
  double floor, top;
};
ColourRange colour_range(std::vector<double> finite,
                         const ContourOptions& options) {
  const double top = *std::max_element(finite.begin(), finite.end());
  double floor = std::isfinite(options.z_floor) ? options.z_floor
                 : options.log_gap
                     ? *std::min_element(finite.begin(), finite.end())
                     : quantile(finite, 0.05);
  if (!(floor < top)) floor = top - 1.0;  // a flat grid still gets a scale

  return {floor, top};
}

/// Block 0: the grid, one scan line per y (gnuplot's grid format); values
/// as computed (non-finite ones as NaN, which gnuplot leaves blank).
void write_grid_block(std::ostream& data, const ContourGrid& grid) {
  const std::size_t nx = grid.x.size(), ny = grid.y.size();
  data << "# iai contour plot data. index 0: grid, columns x y z, one scan "
          "line per y;\n# index 1..: overlays, columns x y\n";
  for (std::size_t j = 0; j < ny; ++j) {
    for (std::size_t i = 0; i < nx; ++i) {
      const double z = grid.z[j * nx + i];
      data << grid.x[i] << ' ' << grid.y[j] << ' ';
      if (std::isfinite(z)) {
        data << z;
      } else {
        data << "NaN";
      }
      data << '\n';
    }
    data << '\n';
  }
}

/// Where each overlay's points and numbers went: their data block's index,
/// or -1 (no finite point; not numbered).
struct OverlayBlocks {
  std::vector<int> points, numbers;
};

/// Blocks 1..: each overlay's finite points, and the numbers of those that
/// do not pile up.
OverlayBlocks write_overlay_blocks(
    std::ostream& data, const ContourGrid& grid,
    const std::vector<ContourOverlay>& overlays) {
  // Numbers only where they do not pile up: a point is numbered when it
  // lies at least 4% of the view from every point numbered before it.
  const double spacing = 0.04 * std::max(grid.x.back() - grid.x.front(),
                                         grid.y.back() - grid.y.front());
  std::vector<int> block_of(overlays.size(), -1);
  std::vector<int> labels_of(overlays.size(), -1);
  int blocks = 1;
  for (std::size_t k = 0; k < overlays.size(); ++k) {
    const auto& o = overlays[k];
    std::size_t drawable = 0;
    for (std::size_t p = 0; p < o.x.size(); ++p) {
      if (std::isfinite(o.x[p]) && std::isfinite(o.y[p])) ++drawable;
    }
    if (drawable == 0) continue;
    std::string label = o.label;
    std::replace(label.begin(), label.end(), '\n', ' ');
    data << "\n\n# index " << blocks << ": " << label << "\n";
    for (std::size_t p = 0; p < o.x.size(); ++p) {
      if (std::isfinite(o.x[p]) && std::isfinite(o.y[p])) {
        data << o.x[p] << ' ' << o.y[p] << '\n';
      }
    }
    block_of[k] = blocks++;
    if (!o.number_points) continue;
    data << "\n\n# index " << blocks << ": numbers of " << label
         << " (x y number)\n";
    std::vector<std::pair<double, double>> numbered;
    for (std::size_t p = 0; p < o.x.size(); ++p) {
      if (!std::isfinite(o.x[p]) || !std::isfinite(o.y[p])) continue;
      bool crowded = false;
      for (const auto& [qx, qy] : numbered) {
        crowded = crowded || std::hypot(o.x[p] - qx, o.y[p] - qy) < spacing;
      }
      if (crowded) continue;
      numbered.emplace_back(o.x[p], o.y[p]);
      data << o.x[p] << ' ' << o.y[p] << ' ' << p << '\n';
    }
    labels_of[k] = blocks++;
  }

  return {block_of, labels_of};
}

/// s(z), the scale colours and contours are even in, and the colour bar's
/// ticks (log-gap: labelled with the values themselves).
void write_colour_scale(std::ostream& gp, const ColourRange& range,
                        bool log_gap) {
  const double floor = range.floor, top = range.top;
  if (log_gap) {
    // Colours and contours even in log10(1 + gap to the maximum); the
    // colour bar is labelled with the values themselves.
    gp << "s(z) = -log10(1 + top - z)\n"
       << "set cbtics (";
    bool first = true;
    const double span = std::log10(1 + top - floor);
    // Tick positions at least 6% of the bar apart.
    double last = std::numeric_limits<double>::infinity();
    for (double gap : {0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0,
                       300.0, 1e3, 3e3, 1e4, 3e4, 1e5}) {
      if (gap > top - floor) break;
      const double at = -std::log10(1 + gap);
      if (last - at < 0.06 * span) continue;
      last = at;
      char label[64];
      std::snprintf(label, sizeof label, "%.4g", top - gap);
      gp << (first ? "" : ", ") << gnuplot::quote(label) << " "
         << -std::log10(1 + gap);
      first = false;
    }
    gp << ")\n";
  } else {
    gp << "s(z) = z\n";
  }
}

/// The contours, the filled levels and the overlays' plot command.
void write_plot_command(std::ostream& gp, const ContourGrid& grid,
                        const std::vector<ContourOverlay>& overlays,
                        const OverlayBlocks& blocks) {
  const std::vector<int>& block_of = blocks.points;
  const std::vector<int>& labels_of = blocks.numbers;
  gp << "# Contour lines, traced by gnuplot from the grid into a datablock.\n"
     << "set contour base\n"
     << "unset surface\n"
     << "set view map\n"
     << "set cntrparam levels incremental s(floor) + (s(top) - s(floor)) / "
        "levels, (s(top) - s(floor)) / levels, s(top)\n"
     << "set table $contours\n"
     << "splot data index 0 using 1:2:(s($3)) with lines notitle\n"
     << "unset table\n"
     << "unset contour\n"
     << "# Filled levels: a viridis-like palette in `levels` steps.\n"
     << "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', "
        "3 '#5ec962', 4 '#fde725')\n"
     << "set palette maxcolors levels\n"
     << "set cbrange [s(floor):s(top)]\n"
     << "set xrange [" << grid.x.front() << ":" << grid.x.back() << "]\n"
     << "set yrange [" << grid.y.front() << ":" << grid.y.back() << "]\n"
     << "set size ratio -1\n"
     << "set tics out\n"
     << "set key below box opaque samplen 2 spacing 1.2 width 2\n"
     << "set bmargin 7\n"
     << "set xlabel offset 0,0.3\n"
     << "clip(z) = z < floor ? floor : z\n"
     << "plot data index 0 using 1:2:(s(clip($3))) with image notitle, \\\n"
     << "  $contours using 1:2 with lines linecolor rgb '#202020' "
        "linewidth 0.6 notitle";
  for (std::size_t k = 0; k < overlays.size(); ++k) {
    const auto& o = overlays[k];
    const auto title = gnuplot::quote(o.label);
    const auto color = gnuplot::quote(o.color);
    gp << ", \\\n  ";
    if (block_of[k] < 0) {
      gp << "NaN title " << title << " with points";
      continue;
    }
    gp << "data index " << block_of[k] << " using 1:2 title " << title;
    if (o.path) {
      gp << " with linespoints linewidth 2";
    } else {
      gp << " with points linewidth 2";
    }
    gp << " pointtype " << o.point_type << " pointsize " << o.point_size
       << " linecolor rgb " << color;
    if (labels_of[k] >= 0) {
      gp << ", \\\n  data index " << labels_of[k]
         << " using 1:2:(sprintf('%d', $3)) with labels offset 0.9,0.7 "
            "font ',10' textcolor rgb "
         << color << " notitle";
    }
  }
}

}  // namespace

void write_contour_plot(const std::string& png_path, const ContourGrid& grid,
                        const std::vector<ContourOverlay>& overlays,
                        const ContourOptions& options) {
  const ColourRange range = colour_range(
      checked_finite_values(png_path, grid, overlays, options), options);
  auto data = gnuplot::number_stream();
  write_grid_block(data, grid);
  const OverlayBlocks blocks = write_overlay_blocks(data, grid, overlays);

  const auto files = gnuplot::figure_files(png_path);
  auto gp = gnuplot::number_stream();
  gp << gnuplot::preamble(files, "iai::report::write_contour_plot",
                          options.width, options.height)
     << "set title " << gnuplot::quote(options.title) << "\n"
     << "set xlabel " << gnuplot::quote(options.x_label) << "\n"
     << "set ylabel " << gnuplot::quote(options.y_label) << "\n"
     << "set cblabel " << gnuplot::quote(options.z_label) << "\n"
     << "data = " << gnuplot::quote(gnuplot::absolute(files.dat)) << "\n"
     << "floor = " << range.floor << "\n"
     << "top = " << range.top << "\n"
     << "levels = " << options.levels << "\n";
  write_colour_scale(gp, range, options.log_gap);
  write_plot_command(gp, grid, overlays, blocks);
  gp << "\nunset output\n";

  gnuplot::write_text(files.dat, data.str(), png_path);
  gnuplot::write_text(files.gp, gp.str(), png_path);
  gnuplot::run(files);
}

}  // namespace iai::report
