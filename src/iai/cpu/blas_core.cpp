#include "iai/cpu/blas_core.h"

#include <dlfcn.h>

#include <array>
#include <cstdio>
#include <mutex>

namespace iai::blas {

namespace {

using CoreName = char* (*)();

/// openblas_get_corename from the process (LibTorch links the BLAS that
/// libblas.so.3 names), or from libopenblas if it is loaded under its own
/// name. Looked up at run time: iai links no BLAS itself.
CoreName corename_function() {
  if (auto* f = dlsym(RTLD_DEFAULT, "openblas_get_corename")) {
    return reinterpret_cast<CoreName>(f);
  }
  for (const char* lib : {"libblas.so.3", "libopenblas.so.0"}) {
    if (void* handle = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {
      if (auto* f = dlsym(handle, "openblas_get_corename")) {
        return reinterpret_cast<CoreName>(f);
      }
    }
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> openblas_core() {
  const CoreName f = corename_function();
  if (f == nullptr) return std::nullopt;
  const char* name = f();
  if (name == nullptr) return std::nullopt;
  return std::string(name);
}

std::optional<std::string> best_core_for_this_cpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return std::string("SkylakeX");
  if (__builtin_cpu_supports("avx2")) return std::string("Haswell");
  return std::nullopt;
}

bool is_generic_core(const std::string& core) {
  // OpenBLAS's x86-64 targets without AVX (its names, any case).
  static const std::array<const char*, 9> generic = {
      "prescott", "core2",  "penryn", "dunnington", "nehalem",
      "atom",     "katmai", "banias", "generic"};
  std::string lower;
  for (char c : core)
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const char* g : generic) {
    if (lower == g) return true;
  }
  return false;
}

std::optional<std::string> crippled_warning() {
  const auto core = openblas_core();
  const auto best = best_core_for_this_cpu();
  if (!core || !best || !is_generic_core(*core)) return std::nullopt;
  return "warning: OpenBLAS runs its generic '" + *core +
         "' kernels on this CPU, which has " +
         (*best == "SkylakeX" ? "AVX-512" : "AVX2") +
         ": iai's own products (oneDNN) are not affected, but LibTorch's "
         "other products, IAI_GEMM=blas and PyTorch on this machine run "
         "several times slower; set OPENBLAS_CORETYPE=" +
         *best + " before starting them";
}

void warn_once_if_crippled() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const auto w = crippled_warning())
      std::fprintf(stderr, "%s\n", w->c_str());
  });
}

}  // namespace iai::blas
