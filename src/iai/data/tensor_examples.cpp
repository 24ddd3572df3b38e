#include "iai/data/tensor_examples.h"

#include <memory>
#include <utility>

namespace iai::data {

namespace {

class TensorExamples : public ExampleSource {
 public:
  explicit TensorExamples(torch::Tensor x) : x_(std::move(x)) {}
  int64_t size() const override { return x_.size(0); }
  int64_t dim() const override { return x_.size(1); }
  torch::Tensor examples(const torch::Tensor& indices) const override {
    // Examples in storage order (an evaluation's batches) are a view.
    const int64_t n = indices.size(0);
    if (n > 0) {
      const int64_t first = indices[0].item<int64_t>();
      if (indices.equal(torch::arange(first, first + n, indices.options()))) {
        return x_.slice(/*dim=*/0, first, first + n);
      }
    }
    return x_.index_select(0, indices.to(x_.device()));
  }

 private:
  torch::Tensor x_;
};

}  // namespace

Examples tensor_examples(torch::Tensor x) {
  return std::make_shared<TensorExamples>(std::move(x));
}

}  // namespace iai::data
