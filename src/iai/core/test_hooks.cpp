#include "iai/core/test_hooks.h"

#include <chrono>
#include <cstdlib>
#include <thread>

namespace iai {

void pause_in_write_for_tests() {
  static const long ms = [] {
    const char* v = std::getenv("IAI_TEST_SLOW_WRITE_MS");
    return v != nullptr ? std::atol(v) : 0L;
  }();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace iai
