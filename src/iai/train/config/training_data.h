#pragma once
// A run's data as its config names them: the config's data flags turned
// into a data::DataSelection (the loading itself is data/load_examples.h).

#include "iai/data/batches.h"
#include "iai/data/example_source.h"
#include "iai/train/config/config.h"

namespace iai::train {

/// The data set the config names as example sources (images prepared by
/// preprocessing_of, word counts densified per batch), cut to --max-train /
/// --max-test.
data::ExampleSets load_data(const TrainConfig& config);

/// How the config's data become inputs: binarised for a Bernoulli
/// likelihood, dequantised for a Gaussian one.
data::Preprocessing preprocessing_of(const TrainConfig& config);

}  // namespace iai::train
