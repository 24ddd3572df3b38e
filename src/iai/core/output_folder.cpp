#include "iai/core/output_folder.h"

#include "iai/core/error.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace iai {

namespace fs = std::filesystem;

void check_output_folder(const std::string& dir, const std::string& flag) {
  std::error_code ec;
  fs::path existing = fs::absolute(dir, ec);
  if (ec) existing = dir;
  // The nearest part of the path that exists: a file there is in the way.
  while (!fs::exists(existing, ec) && existing.has_parent_path() &&
         existing != existing.parent_path()) {
    existing = existing.parent_path();
  }
  IAI_CHECK(fs::is_directory(existing, ec), flag, " '", dir, "': '",
            existing.string(), "' is a file, not a folder");
  const std::string probe =
      (existing / (".write-test-" + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  IAI_CHECK(fd >= 0, flag, " '", dir, "': cannot write in '", existing.string(),
            "': ", std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace iai
