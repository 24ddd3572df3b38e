#pragma once
// One seeded generator for the whole run: data order, dynamic binarisation and
// the reparameterised samples all draw from LibTorch's default CPU generator,
// so one --seed fixes a run and its state in a checkpoint resumes it exactly.

#include <torch/types.h>

#include <cstdint>

namespace iai {

/// Seeds the default generator (and LibTorch's other global generators).
void seed_everything(uint64_t seed);

/// The default CPU generator's full state, as a uint8 tensor to save.
torch::Tensor rng_state();

/// Restores a state returned by rng_state().
void set_rng_state(const torch::Tensor& state);

/// A GPU's default generator (the reparameterised samples of a run on that
/// GPU draw from it): its state as a CPU uint8 tensor, and its restoration.
torch::Tensor device_rng_state(const torch::Device& device);
void set_device_rng_state(const torch::Device& device,
                          const torch::Tensor& state);

}  // namespace iai
