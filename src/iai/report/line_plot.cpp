#include "iai/report/line_plot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <locale>
#include <sstream>

#include "iai/core/error.h"

namespace iai::report {

namespace {

namespace fs = std::filesystem;

/// A gnuplot double-quoted string holding `text` verbatim.
std::string gnuplot_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';  // other control characters would break the script line
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// A POSIX shell single-quoted word holding `text` verbatim.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// An ostringstream that writes numbers the same way in every locale, with
/// enough digits to round-trip a double.
std::ostringstream number_stream() {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << std::setprecision(17);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text,
                const std::string& png_path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  IAI_CHECK(out.is_open(), "cannot write plot '", png_path, "': cannot create '",
            path, "' (does the folder exist, and is it writable?)");
  out << text;
  out.close();
  IAI_CHECK(!out.fail(), "cannot write plot '", png_path, "': writing '", path,
            "' failed (is the disk full?)");
}

/// Whether the point is drawn at all.
bool drawable(double x, double y, bool log_x) {
  return std::isfinite(x) && std::isfinite(y) && (!log_x || x > 0);
}

}  // namespace

bool gnuplot_available() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/gnuplot";
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

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
  auto data = number_stream();
  data << "# iai line plot data: one block per series (gnuplot index 0, 1,"
          " ...), columns x y\n";
  std::vector<int> block_of(series.size(), -1);
  std::vector<std::size_t> points_of(series.size(), 0);
  int blocks = 0;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    for (std::size_t j = 0; j < s.x.size(); ++j) {
      if (drawable(s.x[j], s.y[j], options.log_x)) ++points_of[i];
    }
    if (points_of[i] == 0) continue;
    if (blocks > 0) data << "\n\n";
    // Labels may hold newlines; keep the comment on one line.
    std::string label = s.label;
    std::replace(label.begin(), label.end(), '\n', ' ');
    data << "# index " << blocks << ": " << label << "\n";
    for (std::size_t j = 0; j < s.x.size(); ++j) {
      if (drawable(s.x[j], s.y[j], options.log_x)) {
        data << s.x[j] << ' ' << s.y[j] << '\n';
      }
    }
    block_of[i] = blocks++;
  }
  IAI_CHECK(blocks > 0, "cannot write plot '", png_path,
            "': no series has a point with finite x and y",
            options.log_x ? " (and x > 0 for the log x axis)" : "");

  fs::path stem(png_path);
  if (stem.extension() == ".png") stem.replace_extension();
  const std::string gp_path = stem.string() + ".gp";
  const std::string dat_path = stem.string() + ".dat";
  const std::string log_path = stem.string() + ".log";
  // Absolute paths in the script, so it can be re-run from any folder.
  std::error_code ec;
  auto absolute = [&ec](const std::string& p) {
    const auto a = fs::absolute(p, ec);
    return ec ? p : a.string();
  };

  auto gp = number_stream();
  gp << "# Written by iai (iai::report::write_line_plot). Edit and re-run\n"
     << "#   gnuplot " << shell_quote(absolute(gp_path)) << "\n"
     << "# to re-style the figure.\n"
     << "if (strstrt(\" \".GPVAL_TERMINALS.\" \", \" pngcairo \") > 0) {\n"
     << "  set terminal pngcairo size " << options.width << ","
     << options.height << " noenhanced font \"Sans,11\"\n"
     << "} else {\n"
     << "  set terminal png size " << options.width << "," << options.height
     << " noenhanced\n"
     << "}\n"
     << "set output " << gnuplot_string(absolute(png_path)) << "\n"
     << "set title " << gnuplot_string(options.title) << "\n"
     << "set xlabel " << gnuplot_string(options.x_label) << "\n"
     << "set ylabel " << gnuplot_string(options.y_label) << "\n"
     << "set key outside right top\n"
     << "set grid\n";
  if (options.log_x) gp << "set logscale x\n";
  gp << "data = " << gnuplot_string(absolute(dat_path)) << "\n"
     << "plot \\\n";
  bool first = true;
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (!first) gp << ", \\\n";
    first = false;
    const auto title = gnuplot_string(series[i].label);
    if (block_of[i] < 0) {
      // Keeps the legend entry of a series with nothing to draw.
      gp << "  NaN title " << title << " with linespoints";
      continue;
    }
    // About 25 markers per line, so long curves stay readable.
    const auto every = std::max<std::size_t>(1, points_of[i] / 25);
    gp << "  data index " << block_of[i] << " using 1:2 title " << title
       << " with linespoints linewidth 2 pointsize 1 pointinterval "
       << every;
  }
  gp << "\nunset output\n";

  write_text(dat_path, data.str(), png_path);
  write_text(gp_path, gp.str(), png_path);

  IAI_CHECK(gnuplot_available(),
            "gnuplot not found on PATH; install the Debian package "
            "gnuplot-nox (scripts/setup.sh does) (plot '",
            png_path, "' not drawn; its script is '", gp_path, "')");

  // A stale figure must not pass for a fresh one if gnuplot writes nothing.
  fs::remove(png_path, ec);
  std::string script_arg = gp_path;
  if (!script_arg.empty() && script_arg[0] == '-') script_arg = "./" + script_arg;
  const std::string command = "gnuplot " + shell_quote(script_arg) +
                              " >" + shell_quote(log_path) + " 2>&1";
  const int status = std::system(command.c_str());
  const bool ran = status != -1 && WIFEXITED(status);
  const int code = ran ? WEXITSTATUS(status) : -1;
  const bool drawn = fs::is_regular_file(png_path, ec) &&
                     fs::file_size(png_path, ec) > 0 && !ec;
  if (ran && code == 0 && drawn) {
    fs::remove(log_path, ec);
    return;
  }
  std::string log = read_text(log_path);
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) {
    log.pop_back();
  }
  constexpr std::size_t kMaxLog = 4000;
  if (log.size() > kMaxLog) log = "..." + log.substr(log.size() - kMaxLog);
  throw Error(message(
      "gnuplot failed to draw '", png_path, "' from '", gp_path, "' (",
      !ran ? std::string("could not run it")
           : code != 0 ? "exit code " + std::to_string(code)
                       : std::string("it wrote no PNG"),
      ")", log.empty() ? std::string() : ":\n" + log,
      "\n(full output in '", log_path, "')"));
}

}  // namespace iai::report
