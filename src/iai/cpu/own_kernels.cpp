#include "iai/cpu/own_kernels.h"

#include "iai/core/error.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace iai::cpu {

namespace {

bool from_environment() {
  const char* value = std::getenv("IAI_KERNELS");
  if (value == nullptr || *value == '\0' || std::strcmp(value, "own") == 0) {
    return true;
  }
  IAI_CHECK(std::strcmp(value, "libtorch") == 0, "IAI_KERNELS='", value,
            "': use 'own' or 'libtorch', or leave it unset");
  return false;
}

/// -1: not overridden (the environment's); 0 or 1: a test's.
std::atomic<int> overridden{-1};

}  // namespace

bool own_kernels() {
  const int o = overridden.load(std::memory_order_relaxed);
  if (o >= 0) return o == 1;
  static const bool own = from_environment();
  return own;
}

OwnKernelsOverride::OwnKernelsOverride(bool own)
    : previous_(overridden.exchange(own ? 1 : 0)) {}

OwnKernelsOverride::~OwnKernelsOverride() { overridden.store(previous_); }

}  // namespace iai::cpu
