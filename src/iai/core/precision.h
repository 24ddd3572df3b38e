#pragma once
// --precision (issues 11 and 12): the arithmetic of a command's matrix
// products. fp32 is the paper's and the default. tf32 (NVIDIA GPUs) lets
// cuBLAS round float32 products' inputs to TensorFloat-32, the matrix
// units' float mode. bf16 runs autocast in bfloat16, on a GPU or on a CPU
// with bfloat16 matrix instructions (AVX512-BF16 or AMX-BF16, through
// oneDNN): the matrix products (nn/dense.h, the LSTM cell) take bfloat16
// inputs, and their results come back to float32, so that activations,
// likelihoods, KL terms, sums, parameters, gradients and Adam's moments are
// float32 as in fp32. Where a precision does not exist (tf32 on a CPU, bf16
// on a CPU without those instructions), one clear error before any work.

#include <c10/core/Device.h>

#include <string>

namespace iai {

/// --precision's help.
extern const char* const kPrecisionHelp;

/// Checks a --precision value: fp32, tf32 or bf16. Throws iai::Error naming
/// it otherwise.
void check_precision_name(const std::string& name);

/// True when this CPU has bfloat16 matrix instructions (AVX512-BF16 or
/// AMX-BF16, from /proc/cpuinfo's flags).
bool cpu_has_bf16();

/// "ONEDNN_MAX_CPU_ISA=AVX2" (or DNNL_MAX_CPU_ISA's) when the environment
/// caps oneDNN below the bfloat16 instructions; "" otherwise.
std::string onednn_cap_below_bf16();

/// Checks that `device` computes in precision `name`: fp32 anywhere, tf32
/// on a GPU, bf16 on a GPU or a CPU with bfloat16 instructions. Throws
/// iai::Error (one line: why, and what to use) otherwise.
void check_precision(const std::string& name, const c10::Device& device);

/// Sets the precision for the current thread's work on `device` while it
/// lives, and puts fp32 back after. Throws as check_precision does.
class PrecisionScope {
 public:
  PrecisionScope(const std::string& name, const c10::Device& device);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  std::string name_;
  c10::DeviceType device_type_;
};

}  // namespace iai
