#include "iai/core/precision.h"

#include "iai/core/error.h"
#include "iai/core/torch_compat.h"

#include <ATen/Context.h>

#include <cctype>
#include <cstdlib>

namespace iai {

const char* const kPrecisionHelp =
    "Arithmetic of the matrix products: fp32 (the paper's), tf32 (NVIDIA "
    "GPUs: TensorFloat-32 products) or bf16 (autocast: products in "
    "bfloat16, everything else in float32; on a GPU, or a CPU with "
    "AVX512-BF16 or AMX-BF16)";

void check_precision_name(const std::string& name) {
  IAI_CHECK(name == "fp32" || name == "tf32" || name == "bf16",
            "--precision must be fp32, tf32 or bf16; got '", name, "'");
}

bool cpu_has_bf16() {
  // GCC asks CPUID itself (the same bits /proc/cpuinfo lists as avx512_bf16
  // and amx_bf16).
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") ||
           __builtin_cpu_supports("amx-bf16");
  }();
  return has;
}

std::string onednn_cap_below_bf16() {
  // oneDNN (LibTorch's, which runs autocast's bfloat16 products, and iai's)
  // reads its ISA cap from either name; one below AVX512_CORE_BF16 leaves it
  // no bfloat16 kernel, and creating a product fails with a bare oneDNN error.
  static const char* const kBelow[] = {"SSE41",       "AVX",
                                       "AVX2",        "AVX2_VNNI",
                                       "AVX512_MIC",  "AVX512_MIC_4OPS",
                                       "AVX512_CORE", "AVX512_CORE_VNNI"};
  for (const char* variable : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    std::string upper(value);
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    for (const char* isa : kBelow) {
      if (upper == isa) return std::string(variable) + "=" + value;
    }
    return "";
  }
  return "";
}

void check_precision(const std::string& name, const c10::Device& device) {
  check_precision_name(name);
  if (device.is_cuda() || name == "fp32") return;
  IAI_CHECK(name != "tf32",
            "--precision tf32 is an NVIDIA GPU's format "
            "(--device cuda); on the CPU use fp32, or bf16 where the CPU "
            "has AVX512-BF16 or AMX-BF16");
  const std::string cap = onednn_cap_below_bf16();
  IAI_CHECK(cap.empty(), "--precision bf16: ", cap,
            " holds oneDNN below "
            "AVX512_CORE_BF16, so it has no bfloat16 products; unset it, or "
            "use --precision fp32");
  IAI_CHECK(cpu_has_bf16(),
            "--precision bf16: this CPU has neither "
            "AVX512-BF16 nor AMX-BF16, so bfloat16 products would be slower "
            "than float32 here; use --precision fp32 (or a GPU)");
}

PrecisionScope::PrecisionScope(const std::string& name,
                               const c10::Device& device)
    : name_(name), device_type_(device.type()) {
  check_precision(name, device);
  if (name == "tf32") at::globalContext().setFloat32MatmulPrecision("high");
  if (name == "bf16") {
    // No cache of cast weights: Adam changes them in place between steps,
    // and a CUDA graph must cast them in every replay.
    at::autocast::set_autocast_cache_enabled(false);
    set_autocast(device_type_, true, at::kBFloat16);
  }
}

PrecisionScope::~PrecisionScope() {
  if (name_ == "tf32") at::globalContext().setFloat32MatmulPrecision("highest");
  if (name_ == "bf16") {
    // Off, with autocast's own default dtype for the device.
    set_autocast(
        device_type_, false,
        device_type_ == c10::DeviceType::CPU ? at::kBFloat16 : at::kHalf);
    at::autocast::set_autocast_cache_enabled(true);
  }
}

}  // namespace iai
