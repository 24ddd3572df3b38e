// The second, other-kernels run of the learning tests (tests/CMakeLists.txt)
// is worth something only if its kernel selection reaches the process: with
// IAI_EXPECT_KERNELS=<ATen capability>/<OpenBLAS core>[/<oneDNN matmul>]
// set, check that ATen dispatches to that capability, OpenBLAS runs that
// core's kernels and (in a build with oneDNN) the float32 products run on
// that oneDNN implementation (cpu/gemm.h's backend(): "onednn (gemm:jit)").

#include "iai/cpu/gemm.h"

#include <ATen/Version.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <string>

// OpenBLAS's own query, weak: absent when LibTorch runs on another BLAS.
extern "C" char* openblas_get_corename() __attribute__((weak));

namespace {

/// ATen's dispatch level, from show_config's "CPU capability usage: X" line
/// (lower-cased: default, avx2, avx512; ATen 1.13 picks avx2 even on an
/// AVX-512 CPU unless asked).
std::string aten_capability() {
  const std::string config = at::show_config();
  const std::string key = "CPU capability usage: ";
  const auto at = config.find(key);
  if (at == std::string::npos) return "unknown";
  std::string value = config.substr(at + key.size());
  value = value.substr(0, value.find('\n'));
  for (auto& ch : value) ch = static_cast<char>(std::tolower(ch));
  return value == "no avx" ? "default" : value;  // how 1.13 names default
}

TEST(KernelSelection, IsTheOneTheEnvironmentAsks) {
  const char* expect = std::getenv("IAI_EXPECT_KERNELS");
  if (expect == nullptr) GTEST_SKIP() << "IAI_EXPECT_KERNELS is not set";
  const std::string want(expect);
  const auto slash = want.find('/');
  ASSERT_NE(slash, std::string::npos) << want;
  EXPECT_EQ(aten_capability(), want.substr(0, slash));
  const auto second = want.find('/', slash + 1);
  const std::string core = want.substr(slash + 1, second - slash - 1);
  if (second != std::string::npos && iai::gemm::uses_onednn()) {
    EXPECT_EQ(iai::gemm::backend(), "onednn (" + want.substr(second + 1) + ")");
  }
  if (openblas_get_corename == nullptr) GTEST_SKIP() << "not OpenBLAS";
  EXPECT_EQ(std::string(openblas_get_corename()), core);
}

}  // namespace
