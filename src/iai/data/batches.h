#pragma once
// How the paper draws mini-batches of images: seeded shuffling per epoch
// and dynamic binarisation, a fresh Bernoulli draw every time a batch is
// drawn (docs/reference.md#data; train and test alike). Data for a Gaussian
// likelihood are dequantised instead: fresh uniform noise on the 0..255
// scale every time a batch is drawn. example_source.h draws the batches.

#include <torch/types.h>

namespace iai::data {

/// images is (N,D) uint8; returns (N,D) float in {0, 1}: pixel/255 is each
/// pixel's probability of being 1. Draws from the default generator.
torch::Tensor binarize(const torch::Tensor& images);

/// Number of batches of `batch_size` covering n examples (last one partial).
int64_t batch_count(int64_t n, int64_t batch_size);

/// The example order of one epoch: a seeded permutation, or 0..n-1.
torch::Tensor epoch_order(int64_t n, bool shuffle);

/// Dequantises images (N,D) uint8 for a Gaussian likelihood: each pixel x
/// becomes clamp(x + u, 0, 255) / 255 with u ~ U(-0.5, 0.5) drawn afresh
/// (from the default generator) on every call. Returns (N,D) float in [0,1].
torch::Tensor dequantize_pixels(const torch::Tensor& images);

/// How image bytes become model inputs, drawn afresh each time: binary data
/// (Bernoulli likelihood) are binarised, continuous data (Gaussian) are
/// uniformly dequantised (docs/reference.md#data).
enum class Preprocessing { kBinarize, kDequantize };

/// images (N,D) uint8 -> (N,D) float, by `preprocessing`.
torch::Tensor prepare(const torch::Tensor& images, Preprocessing preprocessing);

}  // namespace iai::data
