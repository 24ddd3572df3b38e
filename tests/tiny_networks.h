#pragma once
// An iterative model small enough for a training step in milliseconds, its
// two networks and their optimisers on a device: what the tests that run
// steps on the test device and through a process group build.

#include <torch/types.h>

#include <memory>

#include "iai/train/config/config.h"
#include "iai/train/config/factory.h"
#include "iai/train/optim/optimizers.h"

namespace iai::testing {

/// 4 latents, 16 hidden units, T = 2, S = 3 (iterative inference).
inline train::TrainConfig tiny_config() {
  train::TrainConfig c;
  c.latent = 4;
  c.encoder_hidden = 16;
  c.decoder_hidden = 16;
  c.iterations = 2;
  c.samples = 3;
  return train::resolve(c);
}

struct TinyNetworks {
  model::GenerativeModel model;
  inference::InferenceProcedure procedure;
  std::unique_ptr<train::Optimizers> optimizers;
};

/// The networks of `config` for `dim` inputs, initialised from seed 3 (the
/// same parameters at every call), on `device`, with Adam at lr 1e-2.
inline TinyNetworks tiny_networks(const train::TrainConfig& config,
                                  int64_t dim, const torch::Device& device) {
  torch::manual_seed(3);
  TinyNetworks n{train::build_model(config, dim), nullptr, nullptr};
  n.procedure = train::build_procedure(config, dim, n.model);
  n.model->to(device);
  n.procedure->to(device);
  n.optimizers = std::make_unique<train::Optimizers>(
      n.model->parameters(), n.procedure->parameters(), 1e-2);
  return n;
}

}  // namespace iai::testing
