#pragma once
// Draws from the generative model's prior, for samples of the model.

#include "iai/model/generative_model.h"

#include <torch/types.h>

namespace iai::model {

/// n draws z ~ p(z), (n, Z_1 + ... + Z_L), on the model's device, ancestral
/// through the levels: z_L ~ N(0, I), then z_l ~ p(z_l | z_{l+1}) top-down
/// (Section 4.1). Draws from the default generator. No gradient.
torch::Tensor sample_prior(GenerativeModelImpl& model, int64_t n);

}  // namespace iai::model
