// core/device.h: --device's names, what they resolve to on a machine
// without a GPU (CI), the one error for a GPU that is not there, and the
// host -> device copy of a batch.

#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "iai/core/device.h"
#include "iai/core/precision.h"
#include "iai/core/runtime_scope.h"
#include "iai/core/threads.h"
#include "iai/nn/dense.h"
#include "run_support.h"
#include "test_device.h"
#include "test_support.h"

namespace iai {
namespace {

using testing::contains;
using testing::error_of;

TEST(DeviceNames, AcceptsCpuCudaCudaIndexAndAuto) {
  for (const char* name : {"cpu", "cuda", "cuda:0", "cuda:12", "auto"}) {
    EXPECT_NO_THROW(check_device_name(name)) << name;
  }
}

TEST(DeviceNames, RejectsEverythingElseNamingTheValue) {
  for (const char* name :
       {"gpu", "CPU", "cuda:", "cuda:x", "cuda:-1", "cuda0", "mps", ""}) {
    const auto e = error_of([&] { check_device_name(name); });
    EXPECT_TRUE(contains(e, "--device must be cpu, cuda, cuda:N or auto"));
    EXPECT_TRUE(contains(e, std::string("'") + name + "'"));
  }
}

TEST(DeviceResolution, CpuIsTheCpuAndAutoTheFirstGpuOnlyWhenThereIsOne) {
  EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
  const torch::Device expected = cuda_usable() ? torch::Device(torch::kCUDA, 0)
                                               : torch::Device(torch::kCPU);
  EXPECT_EQ(resolve_device("auto"), expected);
  EXPECT_EQ(describe_device(torch::kCPU), "cpu");
}

TEST(DeviceResolution, CudaWithoutAGpuIsOneClearError) {
  if (cuda_usable()) GTEST_SKIP() << "this machine has a GPU";
  for (const char* name : {"cuda", "cuda:1"}) {
    const auto e = error_of([&] { resolve_device(name); });
    EXPECT_TRUE(contains(e, std::string("--device ") + name + ": "));
    EXPECT_TRUE(contains(e, "use --device cpu"));
    // Which of the two reasons: a CPU-only LibTorch or no visible GPU.
    EXPECT_TRUE(e.find("without CUDA") != std::string::npos ||
                e.find("no GPU is visible") != std::string::npos)
        << e;
  }
}

TEST(DeviceCopy, AHostBatchReachesTheDeviceUnchanged) {
  const auto host = torch::rand({4, 5});
  const auto device = testing::test_device();
  const auto moved = to_device(host, device);
  EXPECT_EQ(moved.device(), device);
  EXPECT_TRUE(torch::equal(moved.cpu(), host));
  // Already there: the same tensor, no copy.
  EXPECT_TRUE(to_device(moved, device).is_same(moved));
}

TEST(DeviceCopy, AModuleIsWhereItsParametersAre) {
  torch::nn::Linear layer(3, 2);
  EXPECT_EQ(device_of(*layer), torch::Device(torch::kCPU));
  const auto device = testing::test_device();
  layer->to(device);
  EXPECT_EQ(device_of(*layer), device);
}

class DeviceCliTest : public testing::TinyRunTest {
 protected:
  DeviceCliTest() : TinyRunTest("device") {}
};

TEST_F(DeviceCliTest, CudaWithoutAGpuFailsBeforeAnyWork) {
  if (cuda_usable()) GTEST_SKIP() << "this machine has a GPU";
  const std::string out = root_ + "/run";
  auto args = train_args(out, 1);
  args.insert(args.end(), {"--device", "cuda"});
  const auto r = testing::run_cli(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "iai: error: --device cuda: "));
  // One line, and no run folder: nothing was started.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(DeviceCliTest, AMalformedDeviceFailsWhileParsing) {
  auto args = train_args(root_ + "/run", 1);
  args.insert(args.end(), {"--device", "gpu"});
  const auto r = testing::run_cli(args);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(contains(r.err, "--device must be cpu, cuda, cuda:N or auto"));
}

TEST_F(DeviceCliTest, ARunRecordsTheDeviceItResolvedTo) {
  const std::string out = root_ + "/run";
  auto args = train_args(out, 1);
  args.insert(args.end(), {"--device", testing::test_device_name()});
  ASSERT_EQ(testing::run_cli(args).code, 0);
  const auto config =
      nlohmann::json::parse(testing::bytes_of(out + "/config.json"));
  EXPECT_EQ(config.at("device"), testing::test_device().str());
}

// cpu_has_bf16 asks CPUID (GCC's builtins); Linux lists the same bits as
// flags in /proc/cpuinfo.
TEST(PrecisionTest, CpuHasBf16AgreesWithTheKernelsCpuFlags) {
  std::ifstream in("/proc/cpuinfo");
  if (!in.good()) GTEST_SKIP() << "no /proc/cpuinfo";
  bool listed = false, found = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    found = true;
    std::istringstream flags(line.substr(line.find(':') + 1));
    for (std::string f; flags >> f;)
      listed = listed || f == "avx512_bf16" || f == "amx_bf16";
    break;
  }
  if (!found) GTEST_SKIP() << "/proc/cpuinfo lists no flags";
  EXPECT_EQ(cpu_has_bf16(), listed);
}

TEST_F(DeviceCliTest, APrecisionTheCpuLacksFailsBeforeAnyWork) {
  if (testing::test_device().is_cuda()) GTEST_SKIP() << "a GPU test device";
  // tf32 exists on NVIDIA GPUs only; bf16 on CPUs with its instructions.
  std::vector<std::pair<std::string, std::string>> refused = {
      {"tf32", "--precision tf32 is an NVIDIA GPU's format (--device cuda)"}};
  if (!cpu_has_bf16()) {
    refused.push_back({"bf16",
                       "--precision bf16: this CPU has neither "
                       "AVX512-BF16 nor AMX-BF16"});
  }
  for (const auto& [precision, says] : refused) {
    const std::string out = root_ + "/run-" + precision;
    auto args = train_args(out, 1);
    args.insert(args.end(), {"--device", "cpu", "--precision", precision});
    const auto r = testing::run_cli(args);
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "iai: error: " + says)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
  auto args = train_args(root_ + "/run", 1);
  args.insert(args.end(), {"--precision", "fp16"});
  const auto r = testing::run_cli(args);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(contains(r.err, "--precision")) << r.err;
  EXPECT_TRUE(contains(r.err, "fp16")) << r.err;
}

TEST(DevicePrecision, Bf16UnderAOneDnnCapBelowItIsOneClearError) {
  // Held below AVX512_CORE_BF16, oneDNN has no bfloat16 products on any CPU:
  // the flag says so before work starts, not a bare oneDNN error mid-step.
  const char* before = std::getenv("ONEDNN_MAX_CPU_ISA");
  const std::string saved = before ? before : "";
  ::setenv("ONEDNN_MAX_CPU_ISA", "avx2", 1);
  const std::string err =
      error_of([] { check_precision("bf16", torch::Device("cpu")); });
  ::setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX", 1);
  EXPECT_EQ(onednn_cap_below_bf16(), "");
  if (before) {
    ::setenv("ONEDNN_MAX_CPU_ISA", saved.c_str(), 1);
  } else {
    ::unsetenv("ONEDNN_MAX_CPU_ISA");
  }
  EXPECT_TRUE(contains(err,
                       "--precision bf16: ONEDNN_MAX_CPU_ISA=avx2 holds "
                       "oneDNN below AVX512_CORE_BF16"))
      << err;
  EXPECT_NO_THROW(check_precision("fp32", torch::Device("cpu")));
}

/// The relative error of a float32 matrix product under the current
/// precision, against float64, and the product's type.
std::pair<torch::ScalarType, double> product_error(
    const torch::Device& device) {
  torch::manual_seed(5);
  const auto a = torch::randn({256, 512}).to(device);
  const auto b = torch::randn({512, 256}).to(device);
  const auto exact = torch::matmul(a.to(torch::kDouble), b.to(torch::kDouble));
  const auto c = torch::matmul(a, b);
  return {
      c.scalar_type(),
      ((c.to(torch::kDouble) - exact).norm() / exact.norm()).item<double>()};
}

/// bf16 and tf32 where the test device has them: a matrix product's inputs
/// are rounded by about their formats' precision (bf16: autocast gives a
/// bfloat16 result, which nn::to_float brings back), and fp32 comes back
/// when the scope ends. Where the device lacks one, the scope refuses it.
TEST(DevicePrecision, ReducedPrecisionRoundsProductsAndRestoresFp32) {
  const auto device = testing::test_device();
  EXPECT_TRUE(contains(error_of([] { check_precision_name("fp64"); }),
                       "--precision must be fp32, tf32 or bf16; got 'fp64'"));
  const auto fp32 = product_error(device);
  EXPECT_EQ(fp32.first, torch::kFloat);
  EXPECT_LT(fp32.second, 1e-5);
  if (device.is_cuda() || cpu_has_bf16()) {
    PrecisionScope bf16("bf16", device);
    const auto r = product_error(device);
    EXPECT_EQ(r.first, torch::kBFloat16);
    EXPECT_GT(r.second, 1e-4);
    EXPECT_LT(r.second, 2e-2);
    nn::Dense layer(512, 8);
    layer->to(device);
    EXPECT_EQ(layer->forward(torch::randn({4, 512}).to(device)).scalar_type(),
              torch::kFloat);
  } else {
    EXPECT_TRUE(contains(error_of([&] { PrecisionScope s("bf16", device); }),
                         "this CPU has neither AVX512-BF16 nor AMX-BF16"));
  }
  if (device.is_cuda()) {
    PrecisionScope tf32("tf32", device);
    const auto r = product_error(device);
    EXPECT_EQ(r.first, torch::kFloat);
    EXPECT_GT(r.second, 1e-5);
    EXPECT_LT(r.second, 5e-3);
  } else {
    EXPECT_TRUE(contains(error_of([&] { PrecisionScope s("tf32", device); }),
                         "--precision tf32 is an NVIDIA GPU's format"));
  }
  const auto after = product_error(device);
  EXPECT_EQ(after.first, torch::kFloat);
  EXPECT_LT(after.second, 1e-5);
}

/// RuntimeScope, what every analysis command opens first: the device
/// resolved, the thread count set (0: one per usable CPU), the precision in
/// force while it lives and fp32 after; a bad device or precision is an
/// error before anything is set.
TEST(RuntimeScopeTest, SetsDeviceThreadsAndPrecisionForItsLife) {
  const int before = at::get_num_threads();
  {
    RuntimeOptions options;
    options.device = "cpu";
    options.threads = 1;
    const RuntimeScope scope(options);
    EXPECT_TRUE(scope.device().is_cpu());
    EXPECT_EQ(scope.threads(), 1);
    EXPECT_EQ(at::get_num_threads(), 1);
    options.threads = 0;
    const RuntimeScope all(options);
    EXPECT_EQ(all.threads(), usable_cpus());
  }
  const auto device = testing::test_device();
  if (device.is_cuda() || cpu_has_bf16()) {
    RuntimeOptions options;
    options.device = device.str();
    options.precision = "bf16";
    {
      const RuntimeScope scope(options);
      EXPECT_EQ(product_error(device).first, torch::kBFloat16);
    }
    EXPECT_EQ(product_error(device).first, torch::kFloat);
  }
  RuntimeOptions bad;
  bad.device = "gpu";
  EXPECT_TRUE(contains(error_of([&] { RuntimeScope s(bad); }), "gpu"));
  bad.device = "cpu";
  bad.precision = "fp64";
  EXPECT_TRUE(contains(error_of([&] { RuntimeScope s(bad); }), "fp64"));
  at::set_num_threads(before);
}

}  // namespace
}  // namespace iai
