#pragma once
// The device a command computes on, written once: --device's names, their
// meaning on this build and machine, and the one host -> device copy of a
// batch. Every command that computes resolves its --device here before any
// work, so `--device cuda` without a GPU fails at once with one message.

#include <c10/core/Device.h>
#include <torch/types.h>

#include <string>

namespace torch::nn {
class Module;
}

namespace iai {

/// --device's help: the names resolve_device() accepts.
extern const char* const kDeviceHelp;

/// Checks a --device value's form: cpu, cuda, cuda:N or auto. Throws
/// iai::Error naming the value otherwise (says nothing about this machine).
void check_device_name(const std::string& name);

/// What a --device value means here: auto = cuda:0 when this LibTorch was
/// built with CUDA and a GPU is visible, else the CPU. cuda or cuda:N
/// without one (a CPU-only LibTorch, no visible GPU, N too large): one
/// iai::Error saying which and what to do.
torch::Device resolve_device(const std::string& name);

/// True when this LibTorch has CUDA and at least one GPU is visible.
bool cuda_usable();

/// "cpu" or "cuda:0 (1 of 2 GPUs)": the device as announced at start.
std::string describe_device(const torch::Device& device);

/// A host tensor (a batch drawn on the CPU) on `device`: the same tensor
/// when it is there already; for a GPU, copied from pinned memory without
/// blocking the host (the copy is ordered before the kernels that read it
/// on the device's stream).
torch::Tensor to_device(const torch::Tensor& host, const torch::Device& device);

/// Where a module computes: the device of its first parameter or buffer
/// (the CPU for a module without any).
torch::Device device_of(const torch::nn::Module& module);

}  // namespace iai
