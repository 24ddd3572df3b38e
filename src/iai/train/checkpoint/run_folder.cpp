#include "iai/train/checkpoint/run_folder.h"

#include "iai/core/error.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace iai::train {

namespace fs = std::filesystem;

namespace {

/// The first ancestor of `path` that is not a folder, if one exists as a
/// file ("" if none): `--out results.txt/run1` names results.txt.
std::string file_in_the_way(const fs::path& path) {
  std::error_code ec;
  for (fs::path p = path; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec) && !fs::is_directory(p, ec)) return p.string();
    if (p == p.parent_path()) break;
  }
  return "";
}

}  // namespace

bool prepare_run_folder(const std::string& out) {
  const std::string file = file_in_the_way(out);
  IAI_CHECK(file.empty(), "--out '", out, "': '", file,
            "' is a file, not a folder; choose another --out");
  std::error_code ec;
  const bool created = fs::create_directories(out, ec);
  IAI_CHECK(!ec, "cannot create run folder '", out,
            "' (--out): ", ec.message());
  check_run_folder_writable(out);
  return created;
}

void check_run_folder_writable(const std::string& dir) {
  // access(W_OK) answers "yes" to root on a folder it may not write (a
  // read-only mount answers only to a real write): so a real write.
  const std::string probe =
      (fs::path(dir) / (".write-test-" + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  IAI_CHECK(fd >= 0, "cannot write to run folder '", dir,
            "': ", std::strerror(errno),
            "; choose another --out or fix its permissions");
  const bool written = ::write(fd, "x", 1) == 1;
  const int error = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  IAI_CHECK(written, "cannot write to run folder '", dir,
            "': ", std::strerror(error));
}

}  // namespace iai::train
