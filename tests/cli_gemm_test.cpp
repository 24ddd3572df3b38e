// IAI_GEMM (cpu/gemm.h) and IAI_KERNELS (cpu/own_kernels.h) as `iai train`
// takes them: a bad value is one clear error before any work (no run folder
// left), and the run's header names what its products run on.

#include "cli_process.h"
#include "iai/cpu/gemm.h"
#include "run_support.h"
#include "test_support.h"

#include <filesystem>

namespace {

using iai::testing::bytes_of;
using iai::testing::contains;

class GemmChoiceTest : public iai::testing::TinyRunTest {
 protected:
  GemmChoiceTest() : TinyRunTest("gemm") {}
};

TEST_F(GemmChoiceTest, ABadValueIsOneErrorBeforeAnyWork) {
  const std::string out = root_ + "/run", log = root_ + "/bad.log";
  iai::testing::CliProcess p(train_args(out, 1), {"IAI_GEMM=openblas"}, log);
  EXPECT_NE(p.code(), 0);
  EXPECT_TRUE(contains(
      bytes_of(log),
      "IAI_GEMM='openblas': use 'onednn' or 'blas', or leave it unset"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(GemmChoiceTest, ABadKernelChoiceIsOneErrorBeforeAnyWork) {
  const std::string out = root_ + "/run", log = root_ + "/bad.log";
  iai::testing::CliProcess p(train_args(out, 1), {"IAI_KERNELS=cuda"}, log);
  EXPECT_NE(p.code(), 0);
  EXPECT_TRUE(contains(bytes_of(log),
                       "IAI_KERNELS='cuda': use 'own' or 'libtorch', or leave "
                       "it unset"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(GemmChoiceTest, TheRunNamesWhatItsProductsRunOn) {
  const std::string blas_log = root_ + "/blas.log",
                    default_log = root_ + "/default.log";
  iai::testing::CliProcess blas(train_args(root_ + "/blas", 1),
                                {"IAI_GEMM=blas"}, blas_log);
  ASSERT_EQ(blas.code(), 0) << bytes_of(blas_log);
  EXPECT_TRUE(
      contains(bytes_of(blas_log), "products        = blas (IAI_GEMM=blas)"));
  iai::testing::CliProcess chosen(train_args(root_ + "/default", 1),
                                  {"IAI_GEMM="}, default_log);
  ASSERT_EQ(chosen.code(), 0) << bytes_of(default_log);
  // This process's choice with IAI_GEMM as in the child: unset or empty.
  const std::string expected = iai::gemm::uses_onednn()
                                   ? "products        = onednn ("
                                   : "products        = blas (";
  EXPECT_TRUE(contains(bytes_of(default_log), expected));
}

}  // namespace
