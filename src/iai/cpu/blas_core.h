#pragma once
// Which kernels OpenBLAS picked on this CPU. Debian's OpenBLAS 0.3.21 does
// not know some new CPUs and falls back to its generic (SSE3 "Prescott")
// kernels there, several times slower than the CPU's own. iai's float32
// products run on oneDNN and do not care, but LibTorch's other products,
// IAI_GEMM=blas and a PyTorch baseline on the same machine do: iai says so
// once, with the variable that fixes it.

#include <optional>
#include <string>

namespace iai::blas {

/// OpenBLAS's name for the kernels it runs ("SkylakeX", "Haswell",
/// "Zen", "Prescott", ...), or nothing when the BLAS in this process is not
/// OpenBLAS.
std::optional<std::string> openblas_core();

/// The OPENBLAS_CORETYPE that gives this CPU its own kernels ("SkylakeX"
/// with AVX-512, "Haswell" with AVX2), or nothing on a CPU with neither.
std::optional<std::string> best_core_for_this_cpu();

/// Whether `core` is one of OpenBLAS's generic, pre-AVX kernels.
bool is_generic_core(const std::string& core);

/// One line saying that OpenBLAS runs generic kernels on a CPU with AVX2 or
/// AVX-512 and what to set, or nothing when it runs the CPU's own (or is
/// not OpenBLAS).
std::optional<std::string> crippled_warning();

/// Prints crippled_warning() to stderr, at most once a process.
void warn_once_if_crippled();

}  // namespace iai::blas
