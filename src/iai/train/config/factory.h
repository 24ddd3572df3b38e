#pragma once
// Builds the generative model and the inference procedure a config names.

#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"
#include "iai/train/config/config.h"

namespace iai::train {

/// The decoder p(x | z) p(z) for D-dimensional data.
model::GenerativeModel build_model(const TrainConfig& config, int64_t data_dim);

/// The inference procedure the config names for D-dim data and `model`
/// (its levels; a ladder encoder also reads its priors).
inference::InferenceProcedure build_procedure(
    const TrainConfig& config, int64_t data_dim,
    const model::GenerativeModel& model);

}  // namespace iai::train
