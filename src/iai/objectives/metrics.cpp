#include "iai/objectives/metrics.h"

#include <cmath>
#include <sstream>

#include "iai/core/error.h"

namespace iai::objectives {
namespace {

// log 256: the log-volume factor per dimension from [0,1] to the 0..255 scale.
const double kLog256 = std::log(256.0);

void check_dims(int64_t dims) {
  IAI_CHECK(dims > 0,
            "bits per dimension: the number of dimensions must be "
            "positive, got ",
            dims);
}

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

}  // namespace

double discrete_nll(double log_px, int64_t dims) {
  check_dims(dims);
  return -log_px + static_cast<double>(dims) * kLog256;
}

double bits_per_dim(double log_px, int64_t dims) {
  return discrete_nll(log_px, dims) /
         (static_cast<double>(dims) * std::log(2.0));
}

torch::Tensor bits_per_dim(const torch::Tensor& log_px, int64_t dims) {
  check_dims(dims);
  const auto d = static_cast<double>(dims);
  return (-log_px.to(torch::kDouble) + d * kLog256) / (d * std::log(2.0));
}

double perplexity(double total_nll, double total_words) {
  IAI_CHECK(total_words > 0,
            "perplexity: the documents must hold words; "
            "the total word count is ",
            total_words);
  return std::exp(total_nll / total_words);
}

double perplexity(const torch::Tensor& log_px, const torch::Tensor& words) {
  IAI_CHECK(log_px.sizes() == words.sizes(), "perplexity: log p(x) has shape ",
            shape_of(log_px), " but the word counts have shape ",
            shape_of(words), "; expected one of each per document");
  return perplexity(-log_px.to(torch::kDouble).sum().item<double>(),
                    words.to(torch::kDouble).sum().item<double>());
}

double perplexity_bound(const torch::Tensor& elbo, const torch::Tensor& words) {
  IAI_CHECK(elbo.sizes() == words.sizes(),
            "perplexity bound: the ELBO has "
            "shape ",
            shape_of(elbo), " but the word counts have shape ", shape_of(words),
            "; expected one of each per document");
  return perplexity(-elbo.to(torch::kDouble).sum().item<double>(),
                    words.to(torch::kDouble).sum().item<double>());
}

}  // namespace iai::objectives
