#include "iai/core/precision.h"

#include "iai/core/error.h"
#include "iai/core/torch_compat.h"

#include <ATen/Context.h>

namespace iai {

const char* const kPrecisionHelp =
    "Arithmetic on a GPU: fp32 (the paper's), tf32 (float32 matrix products "
    "on the matrix units' TensorFloat-32) or bf16 (autocast: products in "
    "bfloat16, sums and parameters in float32); the CPU computes in fp32";

void check_precision_name(const std::string& name) {
  IAI_CHECK(name == "fp32" || name == "tf32" || name == "bf16",
            "--precision must be fp32, tf32 or bf16; got '", name, "'");
}

void check_precision(const std::string& name, const c10::Device& device) {
  check_precision_name(name);
  IAI_CHECK(name == "fp32" || device.is_cuda(), "--precision ", name,
            " is a GPU's (--device cuda); on the CPU iai computes in fp32 "
            "(--precision fp32)");
}

PrecisionScope::PrecisionScope(const std::string& name,
                               const c10::Device& device)
    : name_(name) {
  check_precision(name, device);
  if (name == "tf32") at::globalContext().setFloat32MatmulPrecision("high");
  if (name == "bf16") {
    // No cache of cast weights: Adam changes them in place between steps,
    // and a CUDA graph must cast them in every replay.
    at::autocast::set_autocast_cache_enabled(false);
    set_cuda_autocast(true, at::kBFloat16);
  }
}

PrecisionScope::~PrecisionScope() {
  if (name_ == "tf32") at::globalContext().setFloat32MatmulPrecision("highest");
  if (name_ == "bf16") {
    set_cuda_autocast(false, at::kHalf);  // autocast's own default dtype
    at::autocast::set_autocast_cache_enabled(true);
  }
}

}  // namespace iai
