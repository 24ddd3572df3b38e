#pragma once
// From a data-set name and limits to train and test example sources: the
// one call a run makes to get its data (dataset.h's loaders, each split cut
// to its limit, then image_examples or count_examples).

#include "iai/data/batches.h"
#include "iai/data/example_source.h"

#include <cstdint>
#include <string>

namespace iai::data {

/// Which data, and how much of it.
struct DataSelection {
  /// mnist, omniglot, svhn, cifar10, rcv1 or idx (dataset_names()).
  std::string dataset;
  /// The folder of every set but idx.
  std::string dir;
  /// idx only: the (N,H,W) uint8 IDX image files.
  std::string train_images, test_images;
  /// Only the first N examples of each split (0 = all).
  int64_t max_train = 0, max_test = 0;
  /// How image bytes become inputs; word counts are used as they are.
  Preprocessing preprocessing = Preprocessing::kBinarize;
};

/// Loads the selection's train and test splits as example sources; throws
/// iai::Error as load_image_dataset / load_text_dataset do.
ExampleSets load_examples(const DataSelection& selection);

}  // namespace iai::data
