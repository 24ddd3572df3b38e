#pragma once
// Examples the caller already holds as a tensor (the Python package's
// inputs): drawn as they are, with no binarisation or dequantisation, so the
// same tensor gives the same batches every time.

#include "iai/data/example_source.h"

#include <torch/types.h>

namespace iai::data {

/// x is (N,D) float: model inputs as given (binary images for a Bernoulli
/// model, values in [0, 1] for a sigmoid Gaussian, word counts for a
/// multinomial). Kept by reference, not copied: a batch of consecutive
/// examples is a view of it, others are gathered. Checks nothing: see
/// analysis/run_tensors.h.
Examples tensor_examples(torch::Tensor x);

}  // namespace iai::data
