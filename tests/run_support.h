#pragma once
// Helpers for the tests that run the CLI and read what a run wrote: the CLI
// in-process with its stderr captured, a file's lines or bytes, and a run's
// trained parameters from its checkpoint.

#include <gtest/gtest.h>
#include <torch/types.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli.h"
#include "iai/train/checkpoint.h"
#include "iai/train/factory.h"

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
  auto proc = iai::train::build_procedure(header.config, header.data_dim, model);
  iai::train::load_checkpoint(path, *model, *proc, nullptr, nullptr, false);
  auto params = model->parameters();
  for (auto& p : proc->parameters()) params.push_back(p);
  return params;
}

}  // namespace iai::testing
