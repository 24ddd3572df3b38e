#pragma once
// One entry point from a data-set name (the --dataset flag) to its loader:
// the image sets (mnist, omniglot, svhn, cifar10, and idx for any pair of
// IDX files) load into an ImageDataset, the bag-of-words set (rcv1) into a
// TextDataset.

#include <string>
#include <vector>

#include "iai/data/bag_of_words.h"
#include "iai/data/mnist.h"

namespace iai::data {

/// Where a data set's files are.
struct DatasetPaths {
  /// The folder of mnist, omniglot, svhn, cifar10 and rcv1.
  std::string dir;
  /// idx only: the image files, (N,H,W) uint8 IDX, both required.
  std::string train_images, test_images;
  /// idx only, optional: (N) uint8 IDX labels; "" gives labels of -1.
  std::string train_labels, test_labels;
};

/// Every valid data-set name: mnist, omniglot, svhn, cifar10, rcv1, idx.
const std::vector<std::string>& dataset_names();

/// True for the bag-of-words sets (rcv1), false for the image sets.
/// Throws iai::Error listing the valid names when `name` is none of them.
bool is_text_dataset(const std::string& name);

/// Loads image data set `name`:
///  - mnist: load_mnist_folder(paths.dir) (named after the folder, so
///    Fashion-MNIST in MNIST's layout keeps its name);
///  - cifar10: load_cifar10_folder(paths.dir), the 6 binary batch files;
///  - svhn: load_svhn_folder(paths.dir), train_32x32.mat and test_32x32.mat;
///  - omniglot: load_omniglot_folder(paths.dir), chardata.mat;
///  - idx: paths.train_images / test_images (--train-images,
///    --test-images), with labels from train_labels / test_labels when given;
///    named "idx".
/// Throws iai::Error listing the valid names for an unknown name, saying so
/// for a text data set, when the folder (or for idx an image path) is not
/// given, and whatever the loader throws.
ImageDataset load_image_dataset(const std::string& name,
                                const DatasetPaths& paths);

/// Loads bag-of-words data set `name` (rcv1) from `dir`, which holds
/// train.feat, test.feat and vocab.new or vocab.txt (see bag_of_words.h).
/// Throws iai::Error listing the valid names for an unknown name, saying so
/// for an image data set, and whatever the loader throws.
TextDataset load_text_dataset(const std::string& name, const std::string& dir);

}  // namespace iai::data
