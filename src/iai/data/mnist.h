#pragma once
// MNIST and the data sets that copy its file layout (Fashion-MNIST, KMNIST):
// four IDX files, images (N,H,W) and labels (N) for a train and a test split.

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace iai::data {

/// One split of an image data set, kept as bytes to save memory.
struct ImageSplit {
  torch::Tensor images;  // (N,D) uint8, D = channels*height*width:
                         // channel-major planes of row-major pixels
  torch::Tensor labels;  // (N) int64
  int64_t height = 0, width = 0;
  int64_t channels = 1;  // 1 grey, 3 colour (R, G, B planes in order)
};

/// The train and test splits of one data set.
struct ImageDataset {
  ImageSplit train, test;
  std::string name;  // the folder's name, e.g. "mnist"
};

/// Loads MNIST (or Fashion-MNIST / any set in MNIST's file layout) from a
/// folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
/// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or with a `.gz`
/// suffix (plain preferred when both exist).
///
/// Throws iai::Error when the folder or a file is missing (with a hint on how
/// to get MNIST), a file is not valid IDX, or the files do not fit together.
ImageDataset load_mnist_folder(const std::string& dir);

/// Loads a pair of IDX files (images (N,H,W), labels (N)) into a split.
/// Labels may take any byte value; they are widened to int64.
ImageSplit load_idx_pair(const std::string& images_path,
                         const std::string& labels_path);

}  // namespace iai::data
