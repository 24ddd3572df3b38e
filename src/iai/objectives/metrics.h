#pragma once
// The metrics papers report besides nats: bits per dimension for images
// modelled by a density on [0,1] (dequantised pixels), and perplexity for
// bag-of-words documents. Plain functions of log-likelihoods already
// computed (importance-weighted log p(x), or the ELBO for a bound).

#include <torch/types.h>

#include <cstdint>

namespace iai::objectives {

/// The negative log-likelihood in nats of an image on the discrete 0..255
/// scale, given log p(x) in nats of the density of the image scaled to
/// [0,1] with D = `dims` dimensions: scaling by 256 per dimension turns a
/// density on [0,1]^D into one on [0,256]^D, whose integral over each unit
/// bin is the probability of that pixel value, so
///   nll_discrete = -log p(x) + D log 256.
/// Throws iai::Error when dims is not positive.
double discrete_nll(double log_px, int64_t dims);

/// Bits per dimension of an image with log p(x) = `log_px` nats under a
/// density on [0,1]^D (D = `dims`):
///   bits/dim = (-log p(x) + D log 256) / (D ln 2)
///            = -log p(x) / (D ln 2) + 8.
/// Linear in log p(x), so the bits/dim of a mean log p(x) is the mean of
/// the bits/dim. Throws iai::Error when dims is not positive.
double bits_per_dim(double log_px, int64_t dims);

/// bits_per_dim of each element of `log_px` (any shape, nats): same shape,
/// double. Throws iai::Error when dims is not positive.
torch::Tensor bits_per_dim(const torch::Tensor& log_px, int64_t dims);

/// Perplexity from totals over a corpus:
///   exp( sum_d -log p(x_d) / sum_d N_d ),
/// `total_nll` = sum_d -log p(x_d) in nats, `total_words` = sum_d N_d, the
/// number of words (sum of counts) of the documents. Throws iai::Error when
/// total_words is not positive.
double perplexity(double total_nll, double total_words);

/// Perplexity of documents with log p(x_d) = `log_px` ((N), nats) and
/// `words` ((N), N_d): exp( sum_d -log p(x_d) / sum_d N_d ). Throws
/// iai::Error when the shapes differ or the total word count is not
/// positive.
double perplexity(const torch::Tensor& log_px, const torch::Tensor& words);

/// The perplexity bound from the ELBO: exp( sum_d -ELBO_d / sum_d N_d ),
/// `elbo` ((N), nats) and `words` ((N), N_d). Since ELBO_d <= log p(x_d),
/// this is an upper bound on the perplexity. Throws as perplexity.
double perplexity_bound(const torch::Tensor& elbo, const torch::Tensor& words);

}  // namespace iai::objectives
