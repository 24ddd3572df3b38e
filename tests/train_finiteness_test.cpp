// FiniteChecks (train/step/finiteness.h): every kind of non-finite float is
// found, finite extremes are not, on the fast host path (contiguous float)
// and on the general one (other dtypes, strided views).

#include "iai/train/step/finiteness.h"

#include "iai/cpu/own_kernels.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

namespace {

using iai::train::FiniteChecks;

std::optional<iai::train::NonFinite> first_failure_of(const torch::Tensor& t) {
  FiniteChecks checks;
  checks.check(1, "first", torch::ones({3}));
  checks.check(2, "second", t);
  return checks.first_failure();
}

TEST(FiniteChecksTest, FindsEveryNonFiniteFloatAndOnlyThose) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (torch::Dtype dtype : {torch::kFloat, torch::kDouble}) {
    for (float bad : {nan, inf, -inf}) {
      // At the start, in the middle and at the end of a tensor larger than
      // one vector register.
      for (int64_t at : {0, 517, 1022}) {
        auto t = torch::randn({1023}).to(dtype);
        t[at] = bad;
        auto failure = first_failure_of(t);
        ASSERT_TRUE(failure.has_value()) << bad << " at " << at;
        EXPECT_EQ(failure->iteration, 2);
        EXPECT_EQ(failure->what, "second");
        // A strided view over the same values: the general path.
        auto strided = torch::stack({t, t}, 1).select(1, 0);
        ASSERT_FALSE(strided.is_contiguous());
        EXPECT_TRUE(first_failure_of(strided).has_value());
      }
    }
    // Finite extremes: the largest float, the smallest subnormal, zeros.
    auto extremes =
        torch::tensor({std::numeric_limits<float>::max(),
                       -std::numeric_limits<float>::max(),
                       std::numeric_limits<float>::denorm_min(), 0.0f, -0.0f})
            .to(dtype);
    EXPECT_FALSE(first_failure_of(extremes).has_value());
  }
}

TEST(FiniteChecksTest, FindsANonFiniteFloatInAnyBlockOnTwoThreads) {
  // A step's gradients are checked in blocks of 32768 floats split over
  // LibTorch's threads: the first, a last partial one, their borders.
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  for (int64_t at : {int64_t{0}, int64_t{32767}, int64_t{32768}, int64_t{70000},
                     int64_t{99999}}) {
    auto t = torch::randn({100000});
    EXPECT_FALSE(first_failure_of(t).has_value());
    t[at] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(first_failure_of(t).has_value()) << "at " << at;
  }
  at::set_num_threads(threads);
}

// On a GPU (here the CPU under IAI_KERNELS=libtorch) check_all scores a
// list of tensors in two multi-tensor operators: the failure found is that
// of the first non-finite tensor, whichever its place, type or layout.
TEST(FiniteChecksTest, CheckAllOnTheDeviceFindsTheFirstNonFiniteTensor) {
  iai::cpu::OwnKernelsOverride libtorch(false);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (float bad : {nan, inf, -inf}) {
    for (int at : {0, 1, 2}) {
      std::vector<torch::Tensor> ts = {torch::randn({5, 7}),
                                       torch::randn({300}),
                                       torch::randn({4, 3}).t()};
      if (ts[at].dim() == 1) {
        ts[at][at] = bad;
      } else {
        ts[at][at][1] = bad;
      }
      FiniteChecks checks;
      checks.check_all(1, "ok", {torch::ones({2}), torch::zeros({3, 2})});
      // A double tensor among floats is scored on its own, its site kept
      // in its place.
      checks.check_all(2, "list", {ts[0], torch::Tensor(),
                                   torch::ones({2}, torch::kDouble), ts[1],
                                   ts[2]});
      checks.check(3, "after", torch::full({2}, nan));
      const auto failure = checks.first_failure();
      ASSERT_TRUE(failure.has_value()) << bad << " in tensor " << at;
      EXPECT_EQ(failure->iteration, 2);
      EXPECT_EQ(failure->what, "list");
      // Each site's flag is its own tensor's: sites 2-5 are ts[0], the
      // double, ts[1] and ts[2].
      const auto flags = checks.flags();
      ASSERT_EQ(flags.numel(), 7);
      const int bad_site = at == 0 ? 2 : 3 + at;
      for (int site = 0; site < 7; ++site) {
        const double expected = site == bad_site || site == 6 ? 0.0 : 1.0;
        EXPECT_EQ(flags[site].item<double>(), expected)
            << "site " << site << ", " << bad << " in tensor " << at;
      }
    }
  }
  FiniteChecks finite;
  finite.check_all(1, "finite",
                   {torch::full({3}, std::numeric_limits<float>::max()),
                    torch::zeros({2}), torch::randn({4, 3}).t()});
  EXPECT_FALSE(finite.first_failure().has_value());
}

}  // namespace
