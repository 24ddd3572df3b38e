#include "iai/report/gnuplot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <locale>

#include "iai/core/error.h"

namespace iai::report {

namespace fs = std::filesystem;

namespace {

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

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
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

namespace gnuplot {

std::string quote(const std::string& text) {
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

std::ostringstream number_stream() {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << std::setprecision(17);
  return out;
}

FigureFiles figure_files(const std::string& png_path) {
  fs::path stem(png_path);
  if (stem.extension() == ".png") stem.replace_extension();
  return {png_path, stem.string() + ".gp", stem.string() + ".dat",
          stem.string() + ".log"};
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  const auto a = fs::absolute(path, ec);
  return ec ? path : a.string();
}

std::string preamble(const FigureFiles& files, const std::string& writer,
                     int width, int height) {
  auto gp = number_stream();
  gp << "# Written by iai (" << writer << "). Edit and re-run\n"
     << "#   gnuplot " << shell_quote(absolute(files.gp)) << "\n"
     << "# to re-style the figure.\n"
     << "if (strstrt(\" \".GPVAL_TERMINALS.\" \", \" pngcairo \") > 0) {\n"
     << "  set terminal pngcairo size " << width << "," << height
     << " noenhanced font \"Sans,11\"\n"
     << "} else {\n"
     << "  set terminal png size " << width << "," << height << " noenhanced\n"
     << "}\n"
     << "set output " << quote(absolute(files.png)) << "\n";
  return gp.str();
}

void write_text(const std::string& path, const std::string& text,
                const std::string& png_path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  IAI_CHECK(out.is_open(), "cannot write plot '", png_path,
            "': cannot create '", path,
            "' (does the folder exist, and is it writable?)");
  out << text;
  out.close();
  IAI_CHECK(!out.fail(), "cannot write plot '", png_path, "': writing '", path,
            "' failed (is the disk full?)");
}

void run(const FigureFiles& files) {
  IAI_CHECK(gnuplot_available(),
            "gnuplot not found on PATH; install the Debian package "
            "gnuplot-nox (scripts/setup.sh does) (plot '",
            files.png, "' not drawn; its script is '", files.gp, "')");

  // A stale figure must not pass for a fresh one if gnuplot writes nothing.
  std::error_code ec;
  fs::remove(files.png, ec);
  std::string script_arg = files.gp;
  if (!script_arg.empty() && script_arg[0] == '-')
    script_arg = "./" + script_arg;
  const std::string command = "gnuplot " + shell_quote(script_arg) + " >" +
                              shell_quote(files.log) + " 2>&1";
  const int status = std::system(command.c_str());
  const bool ran = status != -1 && WIFEXITED(status);
  const int code = ran ? WEXITSTATUS(status) : -1;
  const bool drawn = fs::is_regular_file(files.png, ec) &&
                     fs::file_size(files.png, ec) > 0 && !ec;
  if (ran && code == 0 && drawn) {
    fs::remove(files.log, ec);
    return;
  }
  std::string log = read_text(files.log);
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) {
    log.pop_back();
  }
  constexpr std::size_t kMaxLog = 4000;
  if (log.size() > kMaxLog) log = "..." + log.substr(log.size() - kMaxLog);
  throw Error(message("gnuplot failed to draw '", files.png, "' from '",
                      files.gp, "' (",
                      !ran        ? std::string("could not run it")
                      : code != 0 ? "exit code " + std::to_string(code)
                                  : std::string("it wrote no PNG"),
                      ")", log.empty() ? std::string() : ":\n" + log,
                      "\n(full output in '", files.log, "')"));
}

}  // namespace gnuplot

}  // namespace iai::report
