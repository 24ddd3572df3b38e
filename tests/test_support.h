#pragma once
// Shared helpers for the test suite: scratch folders, error capture, tiny
// data sets in MNIST's real file format.

#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

#include "iai/core/error.h"
#include "iai/data/idx.h"
#include "iai/model/latent_gaussian_model.h"

namespace iai::testing {

/// Whether "NAME=value" (or NAME) is a variable that makes iai join a job of
/// several processes (parallel/launch.h): torchrun's, Slurm's, and the
/// MASTER_PORT that --nproc-per-node reads.
inline bool is_launch_variable(const std::string& entry) {
  const std::string name = entry.substr(0, entry.find('='));
  for (const char* v :
       {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
    if (name == v) return true;
  }
  return name.rfind("SLURM_", 0) == 0;
}

/// Unsets every launch variable in this process: the suite run inside a
/// Slurm job (or under torchrun) must not make each training test join that
/// job. Done once, as the test binary starts (kLaunchEnvironmentCleared).
inline bool clear_launch_environment() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    if (is_launch_variable(*e)) {
      const std::string entry = *e;
      names.push_back(entry.substr(0, entry.find('=')));
    }
  }
  for (const auto& name : names) ::unsetenv(name.c_str());
  return true;
}
inline const bool kLaunchEnvironmentCleared = clear_launch_environment();

/// A fresh, empty folder for the running test, under $IAI_TEST_TMP when set
/// (the second, other-kernels run of a test must not share the first's
/// folder while both run), else the build's tests/tmp.
inline std::string scratch_dir(const std::string& leaf = "scratch") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* root = std::getenv("IAI_TEST_TMP");
  const auto dir =
      std::filesystem::path(root != nullptr ? root : IAI_TEST_TMP) /
      (std::string(info->test_suite_name()) + "." + info->name()) / leaf;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

/// The message of the iai::Error that f throws ("" and a failure if none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const iai::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no iai::Error was thrown";
  return "";
}

inline ::testing::AssertionResult contains(const std::string& text,
                                           const std::string& part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not contain \"" << part << "\"";
}

/// Writes a tiny MNIST-layout folder (28x28 digits-like blobs, labels 0..9):
/// n_train / n_test examples, training images gzip-compressed.
inline void write_tiny_mnist(const std::string& dir, int64_t n_train,
                             int64_t n_test) {
  torch::manual_seed(123);
  auto make = [](int64_t n) {
    // Smooth random strokes: low-resolution noise upsampled, so the data have
    // structure a model can learn.
    auto low = torch::rand({n, 1, 7, 7});
    auto up =
        torch::upsample_bilinear2d(low, {28, 28}, /*align_corners=*/false);
    return (up.squeeze(1) * 255).clamp(0, 255).to(torch::kByte);
  };
  auto labels = [](int64_t n) {
    return torch::arange(n, torch::kLong).remainder(10).to(torch::kByte);
  };
  data::write_idx(dir + "/train-images-idx3-ubyte.gz", make(n_train), true);
  data::write_idx(dir + "/train-labels-idx1-ubyte", labels(n_train), false);
  data::write_idx(dir + "/t10k-images-idx3-ubyte", make(n_test), false);
  data::write_idx(dir + "/t10k-labels-idx1-ubyte", labels(n_test), false);
}

/// Seeds LibTorch's generator before each test (STYLE.md, item 6).
class Seeded : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

/// A linear decoder with Gaussian output in double precision, mu_x = W z + b
/// with sigma_x^2 a global parameter: the model eq. 9-12 are written for.
inline model::LatentGaussianModel linear_gaussian(int64_t d, int64_t z) {
  model::LatentGaussianModel m(
      model::LatentGaussianModelOptions(d, z).layers(0).likelihood(
          model::Likelihood::kGaussian));
  m->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  m->head->linear->bias.uniform_(-0.5, 0.5);
  m->output_logvar.uniform_(-1.0, 0.5);
  return m;
}

}  // namespace iai::testing
