#pragma once
// What every gnuplot-drawn figure shares (line plots, contour plots): quoting
// text for a script, writing numbers the same way in every locale, writing
// the script and data beside the PNG, and running gnuplot with its stderr
// turned into one clear iai::Error.

#include <sstream>
#include <string>

namespace iai::report {

/// Whether gnuplot can be run (for callers that want to skip plots with a
/// warning).
bool gnuplot_available();

namespace gnuplot {

/// A gnuplot double-quoted string holding `text` verbatim (no markup).
std::string quote(const std::string& text);

/// An ostringstream that writes numbers the same way in every locale, with
/// enough digits to round-trip a double.
std::ostringstream number_stream();

/// The paths of a figure's companions: `<stem>.gp`, `<stem>.dat`,
/// `<stem>.log`, stem being png_path without ".png".
struct FigureFiles {
  std::string png, gp, dat, log;
};
FigureFiles figure_files(const std::string& png_path);

/// `path` made absolute (unchanged when that fails), so a script can be
/// re-run from any folder.
std::string absolute(const std::string& path);

/// The script's first lines: a comment saying how to re-run it, the PNG
/// terminal (pngcairo when present) of the given size, and the output file.
std::string preamble(const FigureFiles& files, const std::string& writer,
                     int width, int height);

/// Writes `text` to `path`; throws iai::Error naming the figure on failure.
void write_text(const std::string& path, const std::string& text,
                const std::string& png_path);

/// Runs gnuplot on files.gp. Throws iai::Error when gnuplot is not installed
/// (saying which package to install), when it fails (with its stderr, kept in
/// files.log) or writes no PNG; files.log is removed on success. Any old PNG
/// is removed first, so a stale figure never passes for a fresh one.
void run(const FigureFiles& files);

}  // namespace gnuplot

}  // namespace iai::report
