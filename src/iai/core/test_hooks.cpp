#include "iai/core/test_hooks.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace iai {

void pause_in_write_for_tests() {
  static const long ms = [] {
    const char* v = std::getenv("IAI_TEST_SLOW_WRITE_MS");
    return v != nullptr ? std::atol(v) : 0L;
  }();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

bool host_noise_for_tests() {
  // Read at every call (cheap beside a sampling step), so a test can set it
  // for one comparison inside a process.
  const char* v = std::getenv("IAI_TEST_HOST_NOISE");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace iai
