#pragma once
// Branch-free float maths for the hand-vectorised loops (dist/bernoulli_rows,
// nn/elu_rows): no calls, so GCC vectorises the loops that inline them (libm
// calls would keep them scalar). Always inlined: each instruction-set
// variant of a loop gets its own vector code.

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace iai::vmath {

/// exp(a) for a <= 0: Cephes expf's range reduction and polynomial, written
/// without calls or branches so that the row loop vectorises. Below -87 it
/// returns exp(-87) < 2e-38, which vanishes wherever it is used (added to
/// 1 or 2, or times a residual's sigmoid).
__attribute__((always_inline)) inline float exp_nonpositive(float a) {
  a = a < -87.0f ? -87.0f : a;  // a NaN stays NaN: the comparison is false
  // The vectorised loops evaluate it off their branch too (ELU's x > 0):
  // clamped, every a keeps 2^n below in range.
  a = a > 0.0f ? 0.0f : a;
  // Round to nearest with the 1.5 * 2^23 trick (no SSE4.1 round needed).
  const float n = (a * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = a - n * 0.693359375f;  // ln 2 in two parts (Cody-Waite)
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // n is in [-126, 0] for every a but a NaN, whose result is NaN through p
  // anyway: its n is taken as 0 so that the conversion below is defined.
  const float n_defined = n == n ? n : 0.0f;
  const uint32_t bits =
      static_cast<uint32_t>(static_cast<int32_t>(n_defined) + 127)
      << 23;  // 2^n
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/// expm1(a) for a <= 0, within 2 float ulps: the Taylor series up to a^8/8!
/// where exp(a) - 1 would cancel (a > -0.5: truncation under 1e-8
/// relative), exp(a) - 1 below (|result| > 0.39, rounding 1.5e-7 relative).
__attribute__((always_inline)) inline float expm1_nonpositive(float a) {
  float t = 1.0f + a * (1.0f / 8);
  t = 1.0f + a * (1.0f / 7) * t;
  t = 1.0f + a * (1.0f / 6) * t;
  t = 1.0f + a * (1.0f / 5) * t;
  t = 1.0f + a * (1.0f / 4) * t;
  t = 1.0f + a * (1.0f / 3) * t;
  t = 1.0f + a * (1.0f / 2) * t;
  const float series = a * t;
  return a > -0.5f ? series : exp_nonpositive(a) - 1.0f;
}

/// sigmoid(s) and 1 - sigmoid(s), each from exp(-|s|) without cancellation
/// (a highway gate and its complement: nn/highway_rows, inference/
/// gated_update). A NaN s gives NaN gates.
__attribute__((always_inline)) inline void sigmoid_pair(float s, float& g,
                                                        float& one_minus_g) {
  const float t = exp_nonpositive(s > 0.0f ? -s : s);
  const float r = 1.0f / (1.0f + t);
  g = s > 0.0f ? r : t * r;
  one_minus_g = s > 0.0f ? t * r : r;
}

/// Whether this CPU runs the AVX-512 (F) and AVX2+FMA variants of the
/// hand-vectorised loops (false off x86-64): one check for all of them.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IAI_X86_VARIANTS 1
inline bool cpu_runs_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
inline bool cpu_runs_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

/// Whether this CPU runs a loop variant compiled for `isa`: "avx512",
/// "avx2" (with FMA) or "baseline".
inline bool cpu_runs(const char* isa) {
  if (std::strcmp(isa, "baseline") == 0) return true;
#ifdef IAI_X86_VARIANTS
  if (std::strcmp(isa, "avx512") == 0) return cpu_runs_avx512();
  if (std::strcmp(isa, "avx2") == 0) return cpu_runs_avx2_fma();
#endif
  return false;
}

/// Of a loop's variants (each with an `isa` name), listed fastest first,
/// those this CPU runs: a loop's table of kernels, the first its best.
template <typename Kernels>
std::vector<Kernels> runnable(std::initializer_list<Kernels> variants) {
  std::vector<Kernels> out;
  for (const Kernels& k : variants) {
    if (cpu_runs(k.isa)) out.push_back(k);
  }
  return out;
}

}  // namespace iai::vmath
