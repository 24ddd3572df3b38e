// Which kernels OpenBLAS runs, and the one warning when they are its
// generic ones on a CPU that has better (cpu/blas_core.h).

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <string>

#include "iai/cpu/blas_core.h"

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

TEST(BlasCore, GenericCoresAreThePreAvxOnes) {
  EXPECT_TRUE(iai::blas::is_generic_core("Prescott"));
  EXPECT_TRUE(iai::blas::is_generic_core("CORE2"));
  EXPECT_TRUE(iai::blas::is_generic_core("Nehalem"));
  EXPECT_FALSE(iai::blas::is_generic_core("SkylakeX"));
  EXPECT_FALSE(iai::blas::is_generic_core("Haswell"));
  EXPECT_FALSE(iai::blas::is_generic_core("Zen"));
  EXPECT_FALSE(iai::blas::is_generic_core("Sandybridge"));
}

// Where the process runs OpenBLAS with OPENBLAS_CORETYPE set (the
// other-kernels pass sets Sandybridge), the core read back is that one: the
// lookup reaches the OpenBLAS LibTorch calls, not a guess.
TEST(BlasCore, ReadsTheCoreOpenBlasRuns) {
  const auto core = iai::blas::openblas_core();
  if (!core) GTEST_SKIP() << "the BLAS in this process is not OpenBLAS";
  EXPECT_FALSE(core->empty());
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE")) {
    EXPECT_EQ(lower(*core), lower(forced));
  }
}

// A child process started with OPENBLAS_CORETYPE=Prescott gets OpenBLAS's
// generic kernels; on a CPU with AVX2 or AVX-512 the warning names them and
// the variable that gives the CPU its own.
TEST(BlasCore, WarnsOnceWhenOpenBlasRunsGenericKernelsOnAModernCpu) {
  if (!iai::blas::openblas_core()) GTEST_SKIP() << "not OpenBLAS";
  const auto best = iai::blas::best_core_for_this_cpu();
  if (!best) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  GTEST_FLAG_SET(death_test_style,
                 "threadsafe");  // a fresh process: a fresh OpenBLAS
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = before ? before : "";
  ::setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  EXPECT_EXIT(
      {
        iai::blas::warn_once_if_crippled();
        iai::blas::warn_once_if_crippled();
        std::exit(iai::blas::crippled_warning() ? 0 : 3);
      },
      ::testing::ExitedWithCode(0),
      "^warning: OpenBLAS runs its generic 'Prescott' kernels on this CPU, "
      "which has [^\n]*OPENBLAS_CORETYPE=" +
          *best + " before starting them\n$");
  if (before) {
    ::setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  } else {
    ::unsetenv("OPENBLAS_CORETYPE");
  }
}

}  // namespace
