// Tests of the MNIST folder loader on tiny hand-made data sets.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "iai/core/error.h"
#include "iai/data/idx.h"
#include "iai/data/mnist.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::data::load_idx_pair;
using iai::data::load_mnist_folder;
using iai::data::write_idx;
using iai::testing::contains;
using iai::testing::error_of;

// Scratch folders are named "mnist" by default so the data set name can be
// checked.
std::string scratch_dir(const std::string& leaf = "mnist") {
  return iai::testing::scratch_dir(leaf);
}

// (n,h,w) uint8 with a distinct, position-dependent value per pixel.
torch::Tensor images(int64_t n, int64_t h = 28, int64_t w = 28,
                     int64_t seed = 0) {
  return (torch::arange(n * h * w, torch::kLong) * 7 + seed)
      .remainder(256)
      .to(torch::kByte)
      .reshape({n, h, w});
}

torch::Tensor labels(std::vector<int64_t> values) {
  return torch::tensor(values, torch::kLong).to(torch::kByte);
}

// Train: 5 images, test: 3, mixing plain and .gz files.
struct TinySet {
  torch::Tensor train_images = images(5, 28, 28, 1);
  torch::Tensor train_labels = labels({3, 1, 4, 1, 5});
  torch::Tensor test_images = images(3, 28, 28, 2);
  torch::Tensor test_labels = labels({9, 2, 6});

  void write(const std::string& dir) const {
    write_idx(dir + "/train-images-idx3-ubyte", train_images, false);
    write_idx(dir + "/train-labels-idx1-ubyte.gz", train_labels, true);
    write_idx(dir + "/t10k-images-idx3-ubyte.gz", test_images, true);
    write_idx(dir + "/t10k-labels-idx1-ubyte", test_labels, false);
  }
};

TEST(LoadMnistFolder, LoadsMixedPlainAndGzipFiles) {
  const std::string dir = scratch_dir();
  const TinySet set;
  set.write(dir);
  const auto data = load_mnist_folder(dir);
  EXPECT_EQ(data.name, "mnist");

  EXPECT_EQ(data.train.images.sizes(), (std::vector<int64_t>{5, 784}));
  EXPECT_EQ(data.train.images.scalar_type(), torch::kByte);
  EXPECT_EQ(data.train.height, 28);
  EXPECT_EQ(data.train.width, 28);
  EXPECT_TRUE(
      torch::equal(data.train.images, set.train_images.reshape({5, 784})));
  EXPECT_EQ(data.train.labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(data.train.labels,
                           torch::tensor({3, 1, 4, 1, 5}, torch::kLong)));

  EXPECT_EQ(data.test.images.sizes(), (std::vector<int64_t>{3, 784}));
  EXPECT_EQ(data.test.height, 28);
  EXPECT_EQ(data.test.width, 28);
  EXPECT_TRUE(
      torch::equal(data.test.images, set.test_images.reshape({3, 784})));
  EXPECT_EQ(data.test.labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(
      torch::equal(data.test.labels, torch::tensor({9, 2, 6}, torch::kLong)));
}

TEST(LoadMnistFolder, NameIgnoresTrailingSlash) {
  const std::string dir = scratch_dir("fashion");
  TinySet().write(dir);
  EXPECT_EQ(load_mnist_folder(dir + "/").name, "fashion");
}

TEST(LoadMnistFolder, PrefersPlainFileOverGzip) {
  const std::string dir = scratch_dir();
  TinySet().write(dir);
  write_idx(dir + "/train-labels-idx1-ubyte", labels({0, 0, 7, 0, 0}), false);
  const auto data = load_mnist_folder(dir);
  EXPECT_TRUE(torch::equal(data.train.labels,
                           torch::tensor({0, 0, 7, 0, 0}, torch::kLong)));
}

TEST(LoadMnistFolder, MissingFile) {
  const std::string dir = scratch_dir();
  TinySet().write(dir);
  fs::remove(dir + "/t10k-labels-idx1-ubyte");
  const std::string msg = error_of([&] { load_mnist_folder(dir); });
  EXPECT_TRUE(contains(msg, "'" + dir + "'"));
  EXPECT_TRUE(contains(msg, "lacks t10k-labels-idx1-ubyte;"));
  EXPECT_TRUE(contains(msg,
                       "train-images-idx3-ubyte, "
                       "train-labels-idx1-ubyte, "
                       "t10k-images-idx3-ubyte and "
                       "t10k-labels-idx1-ubyte"));
  EXPECT_TRUE(contains(msg, "run scripts/fetch-data.sh"));
  EXPECT_TRUE(contains(msg, "--data-dir"));
}

TEST(LoadMnistFolder, EmptyFolder) {
  const std::string dir = scratch_dir();
  const std::string msg = error_of([&] { load_mnist_folder(dir); });
  EXPECT_TRUE(contains(msg, "'" + dir + "' holds none of"));
  EXPECT_TRUE(contains(msg, "run scripts/fetch-data.sh"));
}

TEST(LoadMnistFolder, MissingFolder) {
  const std::string dir = scratch_dir() + "/absent";
  const std::string msg = error_of([&] { load_mnist_folder(dir); });
  EXPECT_TRUE(contains(msg, "'" + dir + "' does not exist"));
  EXPECT_TRUE(contains(msg, "run scripts/fetch-data.sh"));
}

TEST(LoadMnistFolder, CountMismatch) {
  const std::string dir = scratch_dir();
  TinySet().write(dir);
  write_idx(dir + "/t10k-labels-idx1-ubyte", labels({1, 2}), false);
  const std::string msg = error_of([&] { load_mnist_folder(dir); });
  EXPECT_TRUE(contains(msg, dir + "/t10k-images-idx3-ubyte.gz' holds 3"));
  EXPECT_TRUE(contains(msg, dir + "/t10k-labels-idx1-ubyte' holds 2"));
}

TEST(LoadMnistFolder, TrainAndTestImageSizesMustAgree) {
  const std::string dir = scratch_dir();
  TinySet().write(dir);
  fs::remove(dir + "/t10k-images-idx3-ubyte.gz");
  write_idx(dir + "/t10k-images-idx3-ubyte", images(3, 32, 32), false);
  const std::string msg = error_of([&] { load_mnist_folder(dir); });
  EXPECT_TRUE(contains(msg, dir));
  EXPECT_TRUE(contains(msg, "28x28"));
  EXPECT_TRUE(contains(msg, "32x32"));
}

TEST(LoadIdxPair, ImagesMustBeThreeDimensional) {
  const std::string dir = scratch_dir();
  write_idx(dir + "/images", images(1, 5, 784).reshape({5, 784}), false);
  write_idx(dir + "/labels", labels({0, 1, 2, 3, 4}), false);
  const std::string msg =
      error_of([&] { load_idx_pair(dir + "/images", dir + "/labels"); });
  EXPECT_TRUE(contains(msg, dir + "/images"));
  EXPECT_TRUE(contains(msg, "3 dimensions"));
}

TEST(LoadIdxPair, LabelsMustBeOneDimensional) {
  const std::string dir = scratch_dir();
  write_idx(dir + "/images", images(2, 4, 4), false);
  write_idx(dir + "/labels", labels({0, 1}).reshape({2, 1}), false);
  const std::string msg =
      error_of([&] { load_idx_pair(dir + "/images", dir + "/labels"); });
  EXPECT_TRUE(contains(msg, dir + "/labels"));
  EXPECT_TRUE(contains(msg, "1 dimension"));
}

TEST(LoadIdxPair, NonSquareImagesAreRowMajorAndLabelsAreGeneric) {
  const std::string dir = scratch_dir();
  const torch::Tensor pixels = images(2, 3, 4);  // (2,3,4)
  write_idx(dir + "/images", pixels, false);
  write_idx(dir + "/labels", labels({200, 17}), true);
  const auto split = load_idx_pair(dir + "/images", dir + "/labels");
  EXPECT_EQ(split.height, 3);
  EXPECT_EQ(split.width, 4);
  ASSERT_EQ(split.images.sizes(), (std::vector<int64_t>{2, 12}));
  // Pixel (row 2, column 1) of image 1 sits at 2*width+1.
  EXPECT_EQ(split.images[1][2 * 4 + 1].item<int>(),
            pixels[1][2][1].item<int>());
  EXPECT_EQ(split.labels.scalar_type(), torch::kLong);
  EXPECT_EQ(split.labels[0].item<int64_t>(), 200);
  EXPECT_EQ(split.labels[1].item<int64_t>(), 17);
}

TEST(LoadIdxPair, PassesOnIdxErrors) {
  const std::string dir = scratch_dir();
  write_idx(dir + "/images", images(2, 4, 4), false);
  const std::string msg =
      error_of([&] { load_idx_pair(dir + "/images", dir + "/nolabels"); });
  EXPECT_TRUE(contains(msg, "cannot open IDX file '" + dir + "/nolabels'"));
}

}  // namespace
