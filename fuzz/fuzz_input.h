#pragma once
// Every reader of iai takes a path, as users call it: a harness writes the
// fuzzer's input to a file in /dev/shm (memory; /tmp where there is none)
// and reads it back through the real reader. A reader's contract is to
// return or throw iai::Error: harnesses catch that and nothing else, so any
// other exception (std::bad_alloc, c10::Error, nlohmann's) is reported by
// libFuzzer as a crash, like a sanitizer's finding.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace iai::fuzz {

/// This process's scratch folder, removed at exit. Never destroyed: the
/// exit handler runs after the destructors of statics made before it.
inline const std::string& scratch_folder() {
  static const std::string* const dir = [] {
    const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    auto* d = new std::string(std::string(base) + "/iai-fuzz-" +
                              std::to_string(::getpid()));
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch_folder(), ignored);
    });
    return d;
  }();
  return *dir;
}

/// Writes `size` bytes to scratch_folder()/name and returns its path.
inline std::string input_file(const uint8_t* data, size_t size,
                              const std::string& name) {
  const std::string path = scratch_folder() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace iai::fuzz
