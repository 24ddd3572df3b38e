#pragma once
// One split of a data set as the model sees it, whatever is stored: image
// bytes binarised or dequantised afresh each time they are drawn, or sparse
// word counts densified per batch. Training, evaluation and the analyses draw
// batches through this, so they work on every data set alike.

#include "iai/data/bag_of_words.h"
#include "iai/data/batches.h"
#include "iai/data/mnist.h"
#include "iai/parallel/batch_shard.h"

#include <torch/types.h>

#include <memory>

namespace iai::data {

class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  /// N, the number of examples.
  virtual int64_t size() const = 0;
  /// D, the width of one example.
  virtual int64_t dim() const = 0;
  /// The examples at `indices` (b) as model inputs, (b,D) float, drawn
  /// afresh (a new binarisation or dequantisation each call).
  virtual torch::Tensor examples(const torch::Tensor& indices) const = 0;
  /// The image split behind this source, or nullptr for non-image data.
  virtual const ImageSplit* images() const { return nullptr; }

  /// Batch `index` of an epoch in `order` (epoch_order), the last one
  /// partial.
  torch::Tensor batch(const torch::Tensor& order, int64_t index,
                      int64_t batch_size) const;
  /// This process's rows of batch `index` when the batch is spread over
  /// `world` processes (share_of, parallel/batch_shard.h), their binarisation
  /// or dequantisation drawn as the whole batch's, and the share (set it,
  /// ScopedBatchShard, while the model draws the rows' noise). Throws
  /// iai::Error when the batch holds fewer examples than processes.
  struct BatchPart {
    torch::Tensor x;
    BatchShard shard;
  };
  BatchPart batch_part(const torch::Tensor& order, int64_t index,
                       int64_t batch_size, int rank, int world) const;
  /// Examples [begin, end) in storage order.
  torch::Tensor range(int64_t begin, int64_t end) const;
};

using Examples = std::shared_ptr<const ExampleSource>;

/// Image bytes, prepared by `preprocessing`.
Examples image_examples(ImageSplit split, Preprocessing preprocessing);
/// Sparse word counts, densified per batch.
Examples count_examples(TextSplit split);

/// The train and test splits of a data set, as sources.
struct ExampleSets {
  Examples train, test;
  std::string name;
};

}  // namespace iai::data
