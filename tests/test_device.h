#pragma once
// The device the device-taking tests run on: IAI_TEST_DEVICE (cpu, cuda,
// cuda:N, auto; scripts/gpu-check.sh sets cuda), the CPU when unset, as in
// CI.

#include <torch/types.h>

#include <cstdlib>
#include <string>

#include "iai/core/device.h"

namespace iai::testing {

inline std::string test_device_name() {
  const char* v = std::getenv("IAI_TEST_DEVICE");
  return v != nullptr && *v != '\0' ? v : "cpu";
}

inline torch::Device test_device() {
  return resolve_device(test_device_name());
}

}  // namespace iai::testing
