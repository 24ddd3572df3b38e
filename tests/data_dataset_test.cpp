// Tests of the data-set name dispatch (--dataset): each name reaches its
// loader, idx takes explicit files with optional labels, bad names list the
// valid ones.

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "iai/core/error.h"
#include "iai/data/dataset.h"
#include "iai/data/idx.h"
#include "test_support.h"

namespace {

using iai::data::dataset_names;
using iai::data::DatasetPaths;
using iai::data::is_text_dataset;
using iai::data::load_image_dataset;
using iai::data::load_text_dataset;
using iai::data::write_idx;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::scratch_dir;

TEST(Dataset, NamesAndKinds) {
  EXPECT_EQ(dataset_names(),
            (std::vector<std::string>{"mnist", "omniglot", "svhn", "cifar10",
                                      "rcv1", "idx"}));
  EXPECT_TRUE(is_text_dataset("rcv1"));
  EXPECT_FALSE(is_text_dataset("cifar10"));
  EXPECT_FALSE(is_text_dataset("idx"));
}

TEST(Dataset, UnknownNamesListTheValidOnes) {
  for (const std::string& name : {"cifar", "MNIST", ""}) {
    const std::string error =
        error_of([&] { load_image_dataset(name, {scratch_dir()}); });
    EXPECT_TRUE(contains(error, "unknown data set '" + name + "'"));
    EXPECT_TRUE(contains(error, "mnist, omniglot, svhn, cifar10, rcv1, idx"));
  }
  EXPECT_TRUE(contains(error_of([] { load_text_dataset("news", "d"); }),
                       "unknown data set 'news'"));
}

TEST(Dataset, KindMismatchAndMissingFolderAreReported) {
  EXPECT_TRUE(contains(error_of([] { load_image_dataset("rcv1", {"d"}); }),
                       "load_text_dataset"));
  EXPECT_TRUE(contains(error_of([] { load_text_dataset("mnist", "d"); }),
                       "load_image_dataset"));
  EXPECT_TRUE(
      contains(error_of([] { load_image_dataset("svhn", {}); }), "--data-dir"));
  const std::string dir = scratch_dir();
  EXPECT_TRUE(
      contains(error_of([&] { load_image_dataset("cifar10", {dir + "/c"}); }),
               "CIFAR-10 folder '" + dir + "/c' does not exist"));
#ifdef IAI_HAVE_MATIO
  EXPECT_TRUE(
      contains(error_of([&] { load_image_dataset("svhn", {dir + "/s"}); }),
               "SVHN folder '" + dir + "/s' does not exist"));
  EXPECT_TRUE(
      contains(error_of([&] { load_image_dataset("omniglot", {dir + "/o"}); }),
               "Omniglot folder '" + dir + "/o' does not exist"));
#else
  EXPECT_TRUE(
      contains(error_of([&] { load_image_dataset("svhn", {dir + "/s"}); }),
               "this iai was built without it: install libmatio-dev"));
#endif
  EXPECT_TRUE(
      contains(error_of([&] { load_image_dataset("mnist", {dir + "/m"}); }),
               "MNIST folder '" + dir + "/m' does not exist"));
}

TEST(Dataset, MnistAndRcv1ReachTheirLoaders) {
  const std::string dir = scratch_dir("mnist");
  iai::testing::write_tiny_mnist(dir, 4, 2);
  const auto mnist = load_image_dataset("mnist", {dir});
  EXPECT_EQ(mnist.name, "mnist");
  EXPECT_EQ(mnist.train.images.size(0), 4);
  EXPECT_EQ(mnist.train.channels, 1);

  const std::string text = scratch_dir("rcv1");
  std::ofstream(text + "/vocab.txt") << "x\ny\n";
  std::ofstream(text + "/train.feat") << "1 1:3\n";
  std::ofstream(text + "/test.feat") << "0 2:1\n";
  const auto rcv1 = load_text_dataset("rcv1", text);
  EXPECT_EQ(rcv1.name, "rcv1");
  EXPECT_EQ(rcv1.train.vocab_size, 2);
  EXPECT_EQ(rcv1.test.size(), 1);
}

TEST(Dataset, IdxTakesExplicitFilesWithOptionalLabels) {
  const std::string dir = scratch_dir();
  const auto train = torch::arange(3 * 4 * 5, torch::kByte).reshape({3, 4, 5});
  const auto test = torch::arange(2 * 4 * 5, torch::kByte).reshape({2, 4, 5});
  write_idx(dir + "/train-images", train, false);
  write_idx(dir + "/test-images", test, true);
  write_idx(dir + "/train-labels", torch::tensor({7, 8, 9}, torch::kByte),
            false);
  DatasetPaths paths;
  paths.train_images = dir + "/train-images";
  paths.test_images = dir + "/test-images";
  paths.train_labels = dir + "/train-labels";
  const auto data = load_image_dataset("idx", paths);
  EXPECT_EQ(data.name, "idx");
  EXPECT_EQ(data.train.height, 4);
  EXPECT_EQ(data.train.width, 5);
  EXPECT_EQ(data.test.channels, 1);
  EXPECT_TRUE(torch::equal(data.train.images, train.reshape({3, 20})));
  EXPECT_TRUE(
      torch::equal(data.train.labels, torch::tensor({7, 8, 9}, torch::kLong)));
  EXPECT_TRUE(torch::equal(data.test.images, test.reshape({2, 20})));
  EXPECT_TRUE(
      torch::equal(data.test.labels, torch::tensor({-1, -1}, torch::kLong)));

  DatasetPaths no_test;
  no_test.train_images = paths.train_images;
  EXPECT_TRUE(contains(error_of([&] { load_image_dataset("idx", no_test); }),
                       "--train-images and --test-images"));

  write_idx(dir + "/odd-images", torch::zeros({2, 5, 4}, torch::kByte), false);
  paths.test_images = dir + "/odd-images";
  const std::string sizes = error_of([&] { load_image_dataset("idx", paths); });
  EXPECT_TRUE(contains(sizes, "holds 4x5 images"));
  EXPECT_TRUE(contains(sizes, dir + "/odd-images' holds 5x4"));

  paths.test_images = dir + "/train-labels";
  EXPECT_TRUE(contains(error_of([&] { load_image_dataset("idx", paths); }),
                       "is this a label file?"));
}

}  // namespace
