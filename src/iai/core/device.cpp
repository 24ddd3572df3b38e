#include "iai/core/device.h"

#include "iai/core/error.h"
#include "iai/core/torch_compat.h"

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>

#include <cctype>

namespace iai {

const char* const kDeviceHelp =
    "Where to compute: cpu, cuda (the first GPU), cuda:N, or auto (the first "
    "GPU when this build has CUDA and the machine a GPU, else the CPU). In a "
    "job of several processes each takes the GPU of its LOCAL_RANK";

namespace {

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 4) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

void check_device_name(const std::string& name) {
  const bool indexed =
      name.rfind("cuda:", 0) == 0 && all_digits(name.substr(5));
  IAI_CHECK(name == "cpu" || name == "cuda" || name == "auto" || indexed,
            "--device must be cpu, cuda, cuda:N or auto; got '", name, "'");
}

bool cuda_usable() {
  return at::hasCUDA() && torch::cuda::device_count() > 0;
}

torch::Device resolve_device(const std::string& name) {
  check_device_name(name);
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") {
    return cuda_usable() ? torch::Device(torch::kCUDA, 0) : torch::kCPU;
  }
  IAI_CHECK(at::hasCUDA(), "--device ", name,
            ": this iai was built against a LibTorch without CUDA (",
            libtorch_version(),
            ", CPU only); use --device cpu, or rebuild against a CUDA LibTorch "
            "(docs/gpu.md)");
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  IAI_CHECK(count > 0, "--device ", name,
            ": no GPU is visible to this process (LibTorch has CUDA, but "
            "the driver reports none; check nvidia-smi and "
            "CUDA_VISIBLE_DEVICES); use --device cpu");
  const int64_t index = name == "cuda" ? 0 : std::stoll(name.substr(5));
  IAI_CHECK(index < count, "--device ", name, ": this machine has ", count,
            " GPU", count == 1 ? "" : "s", " (cuda:0 to cuda:", count - 1, ")");
  return torch::Device(torch::kCUDA, device_index(index));
}

std::string describe_device(const torch::Device& device) {
  if (!device.is_cuda()) return "cpu";
  const int64_t index = device.has_index() ? device.index() : 0;
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  return message("cuda:", index, " (", index + 1, " of ", count, " GPU",
                 count == 1 ? "" : "s", ")");
}

torch::Tensor to_device(const torch::Tensor& host,
                        const torch::Device& device) {
  if (host.device() == device) return host;
  if (device.is_cuda() && host.device().is_cpu()) {
    // Pinned, so the copy is a DMA that need not finish before the host
    // draws the next batch.
    return host.pin_memory().to(device, /*non_blocking=*/true);
  }
  return host.to(device);
}

torch::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  for (const auto& b : module.buffers()) return b.device();
  return torch::kCPU;
}

}  // namespace iai
