#pragma once
// What every computing command sets up before its work, in one place: the
// device resolved (a bad name or a missing GPU is an error here, before any
// work), the arithmetic precision in force for the scope's life (fp32 put
// back after), and the intra-op thread count.

#include "iai/core/precision.h"
#include "iai/core/runtime.h"

#include <c10/core/Device.h>

namespace iai {

class RuntimeScope {
 public:
  explicit RuntimeScope(const RuntimeOptions& options);
  RuntimeScope(const RuntimeScope&) = delete;
  RuntimeScope& operator=(const RuntimeScope&) = delete;

  /// The device --device resolved to.
  const c10::Device& device() const { return device_; }
  /// The thread count in force (--threads 0 resolved).
  int threads() const { return threads_; }

 private:
  c10::Device device_;
  PrecisionScope precision_;
  int threads_;
};

}  // namespace iai
