#pragma once
// Builds the generative model and the inference procedure a config names.

#include "iai/inference/inference_procedure.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/train/config.h"

namespace iai::train {

/// The decoder p(x | z) p(z) for D-dimensional data.
model::LatentGaussianModel build_model(const TrainConfig& config,
                                       int64_t data_dim);

/// The inference procedure the config names for D-dim data and `model`
/// (its levels; a ladder encoder also reads its priors).
inference::InferenceProcedure build_procedure(
    const TrainConfig& config, int64_t data_dim,
    const model::LatentGaussianModel& model);

}  // namespace iai::train

#include "iai/data/batches.h"
#include "iai/data/example_source.h"

namespace iai::train {

/// The data set the config names as example sources (images prepared by
/// preprocessing_of, word counts densified per batch), cut to --max-train /
/// --max-test.
data::ExampleSets load_data(const TrainConfig& config);

/// How the config's data become inputs: binarised for a Bernoulli
/// likelihood, dequantised for a Gaussian one.
data::Preprocessing preprocessing_of(const TrainConfig& config);

}  // namespace iai::train
