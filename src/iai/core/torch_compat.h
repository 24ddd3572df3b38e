#pragma once
// The one place where iai meets a LibTorch version's particulars: it builds
// against Debian's LibTorch 1.13 (CPU) and any LibTorch 2.x (a pip torch's,
// CUDA). What differs between them and the code uses is guarded here;
// everything else iai calls (modules, Adam and its state, InputArchive with
// a map location, generators' state, torch::cuda) has the same C++ API in
// both. Compiler flags that must match the LibTorch (its C++ ABI) are set
// for the whole build in cmake/dependencies.cmake.

#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>
#include <torch/version.h>

#include <cstdint>
#include <string>

/// True when building against LibTorch major.minor or newer.
#define IAI_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||      \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace iai {

/// A GPU's index as c10 stores it: int8_t in 1.13, wider in later 2.x.
inline c10::DeviceIndex device_index(int64_t index) {
  return static_cast<c10::DeviceIndex>(index);
}

/// "1.13.0": the LibTorch this iai was built against.
inline std::string libtorch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

/// Autocast on `device` (CUDA or CPU) in `dtype` (on) or not (off):
/// LibTorch 2.4 made the calls per device type and deprecated 1.x's
/// separate CUDA and CPU ones.
inline void set_autocast(c10::DeviceType device, bool enabled,
                         at::ScalarType dtype) {
#if IAI_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

/// Whether autocast is on for `device` (CUDA or CPU).
inline bool autocast_enabled(c10::DeviceType device) {
#if IAI_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled()
                                        : at::autocast::is_enabled();
#endif
}

}  // namespace iai
