#pragma once
// Whether iai's own CPU kernels take a tensor: oneDNN's products, the row
// kernels (ELU, highway, gated update, the Bernoulli term), the one-pass
// Adam, the deferred and bounded weight gradients. They take float32 CPU
// tensors; everything else (a GPU above all) runs LibTorch's operators.
//
// IAI_KERNELS=libtorch in the environment sends CPU tensors down that other
// path too, as if they were on a GPU: the GPU path's operators, counted and
// checked on a machine without one (iai_device_bench --profile;
// docs/gpu.md). IAI_KERNELS=own, or unset, is the default.

#include <torch/types.h>

namespace iai::cpu {

/// IAI_KERNELS read once: true for unset, empty or "own", false for
/// "libtorch"; anything else is an iai::Error.
bool own_kernels();

/// Tests: the path of every later call, until the guard ends.
class OwnKernelsOverride {
 public:
  explicit OwnKernelsOverride(bool own);
  ~OwnKernelsOverride();
  OwnKernelsOverride(const OwnKernelsOverride&) = delete;
  OwnKernelsOverride& operator=(const OwnKernelsOverride&) = delete;

 private:
  int previous_;
};

/// Whether a tensor on `device` goes to iai's own CPU kernels.
inline bool own_kernels_on(const torch::Device& device) {
  return device.is_cpu() && own_kernels();
}

}  // namespace iai::cpu
