#include "iai/data/dataset.h"

#include <algorithm>

#include "iai/core/error.h"
#include "iai/data/cifar10.h"
#include "iai/data/idx.h"
#include "iai/data/matlab.h"

namespace iai::data {
namespace {

std::string valid_names() {
  std::string text;
  for (const std::string& name : dataset_names()) {
    text += (text.empty() ? "" : ", ") + name;
  }
  return text;
}

void check_known(const std::string& name) {
  const auto& names = dataset_names();
  IAI_CHECK(std::find(names.begin(), names.end(), name) != names.end(),
            "unknown data set '", name, "'; valid names are ", valid_names());
}

// (N,H,W) IDX images, with labels when `labels_path` is not "".
ImageSplit idx_split(const std::string& images_path,
                     const std::string& labels_path) {
  if (!labels_path.empty()) return load_idx_pair(images_path, labels_path);
  const torch::Tensor images = read_idx(images_path);
  IAI_CHECK(images.dim() == 3, "IDX file '", images_path,
            "': expected images of 3 dimensions (count, height, width), "
            "found ",
            images.dim(), " dimensions; is this a label file?");
  ImageSplit split;
  split.height = images.size(1);
  split.width = images.size(2);
  split.images = images.reshape({images.size(0), split.height * split.width});
  split.labels = torch::full({images.size(0)}, -1, torch::kLong);
  return split;
}

ImageDataset load_idx_files(const DatasetPaths& paths) {
  IAI_CHECK(!paths.train_images.empty() && !paths.test_images.empty(),
            "data set 'idx' needs the image files: pass --train-images and "
            "--test-images (IDX files of (N,H,W) bytes; --train-labels and "
            "--test-labels are optional)");
  ImageDataset data;
  data.train = idx_split(paths.train_images, paths.train_labels);
  data.test = idx_split(paths.test_images, paths.test_labels);
  IAI_CHECK(data.train.height == data.test.height &&
                data.train.width == data.test.width,
            "IDX images differ in size: '", paths.train_images, "' holds ",
            data.train.height, "x", data.train.width, " images but '",
            paths.test_images, "' holds ", data.test.height, "x",
            data.test.width);
  data.name = "idx";
  return data;
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"mnist",   "omniglot", "svhn",
                                                 "cifar10", "rcv1",     "idx"};
  return names;
}

bool is_text_dataset(const std::string& name) {
  check_known(name);
  return name == "rcv1";
}

ImageDataset load_image_dataset(const std::string& name,
                                const DatasetPaths& paths) {
  IAI_CHECK(!is_text_dataset(name), "data set '", name,
            "' is bag-of-words text, not images; load it with "
            "load_text_dataset");
  if (name == "idx") return load_idx_files(paths);
  IAI_CHECK(!paths.dir.empty(), "data set '", name,
            "' needs the folder holding its files (--data-dir)");
  if (name == "mnist") return load_mnist_folder(paths.dir);
  if (name == "cifar10") return load_cifar10_folder(paths.dir);
  if (name == "svhn") return load_svhn_folder(paths.dir);
  if (name == "omniglot") return load_omniglot_folder(paths.dir);
  throw Error(message("data set '", name, "' has no image loader"));
}

TextDataset load_text_dataset(const std::string& name, const std::string& dir) {
  IAI_CHECK(is_text_dataset(name), "data set '", name,
            "' is images, not bag-of-words text; load it with "
            "load_image_dataset");
  IAI_CHECK(!dir.empty(), "data set '", name,
            "' needs the folder holding its files (--data-dir)");
  return load_bag_of_words_folder(dir, name);
}

}  // namespace iai::data
