#pragma once
// --precision (issue 12, item 4): the arithmetic a command's matrix products
// and activations use on a GPU. fp32 is the paper's and the default; tf32
// lets cuBLAS round float32 matrix products' inputs to TensorFloat-32 (the
// matrix units' float mode); bf16 runs autocast: matrix products and the
// ops autocast lists in bfloat16, reductions, exp/log and the ELBO's sums
// in float32, parameters, gradients and Adam's moments in float32. On the
// CPU only fp32 exists: tf32 and bf16 there are one clear error.

#include <c10/core/Device.h>

#include <string>

namespace iai {

/// --precision's help.
extern const char* const kPrecisionHelp;

/// Checks a --precision value: fp32, tf32 or bf16. Throws iai::Error naming
/// it otherwise.
void check_precision_name(const std::string& name);

/// Checks that `device` computes in precision `name`: fp32 anywhere, tf32
/// and bf16 on a GPU. Throws iai::Error (one line: what to use) otherwise.
void check_precision(const std::string& name, const c10::Device& device);

/// Sets the precision for the current thread's work on `device` while it
/// lives, and puts fp32 back after. Throws iai::Error (before any work)
/// for tf32 or bf16 on the CPU.
class PrecisionScope {
 public:
  PrecisionScope(const std::string& name, const c10::Device& device);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  std::string name_;
};

}  // namespace iai
