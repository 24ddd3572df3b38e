#pragma once
// Helpers for the tests that run the CLI and read what a run wrote: the CLI
// in-process with its stderr captured, a file's lines or bytes, and a run's
// trained parameters from its checkpoint.

#include <gtest/gtest.h>
#include <torch/types.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/config/factory.h"
#include "test_support.h"

namespace iai::testing {

/// The CLI's exit code and what it wrote to stderr.
struct CliResult {
  int code;
  std::string err;
};
inline CliResult run_cli(std::vector<std::string> args) {
  ::testing::internal::CaptureStderr();
  const int code = iai::cli::run(args);
  return {code, ::testing::internal::GetCapturedStderr()};
}

inline std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// A file's whole content, byte for byte.
inline std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The model's then the procedure's parameters, from a run's checkpoint.
inline std::vector<torch::Tensor> parameters_of(const std::string& run) {
  auto path = iai::train::checkpoint_path(run);
  auto header = iai::train::read_checkpoint_header(path);
  auto model = iai::train::build_model(header.config, header.data_dim);
  auto proc =
      iai::train::build_procedure(header.config, header.data_dim, model);
  iai::train::load_checkpoint(path, *model, *proc, nullptr, nullptr, false);
  auto params = model->parameters();
  for (auto& p : proc->parameters()) params.push_back(p);
  return params;
}

/// A tiny MNIST-layout folder per test and a small, fast training command
/// line on it: batches of 8, 12 steps per epoch.
class TinyRunTest : public ::testing::Test {
 protected:
  explicit TinyRunTest(std::string leaf) : leaf_(std::move(leaf)) {}
  void SetUp() override {
    root_ = scratch_dir(leaf_);
    data_ = root_ + "/mnist";
    std::filesystem::create_directories(data_);
    write_tiny_mnist(data_, 96, 40);
  }
  std::vector<std::string> train_args(const std::string& out, int epochs) {
    return {"train",
            "--data-dir",
            data_,
            "--latent",
            "4",
            "--encoder-hidden",
            "16",
            "--decoder-hidden",
            "16",
            "--batch-size",
            "8",
            "--epochs",
            std::to_string(epochs),
            "--threads",
            "1",
            "--seed",
            "5",
            "--lr",
            "1e-3",
            "--record-gradients-every",
            "5",
            "--out",
            out};
  }
  std::string leaf_, root_, data_;
};

}  // namespace iai::testing
