// Tests of the CIFAR-10 binary loader on small files written byte by byte in
// the real record format (1 label byte, then the R, G and B planes).

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "iai/core/error.h"
#include "iai/data/cifar10.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::data::kCifar10RecordBytes;
using iai::data::load_cifar10_folder;
using iai::data::read_cifar10_batch;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::scratch_dir;
using Bytes = std::vector<uint8_t>;

// The byte at (channel, row, column) of record `record`: distinct enough
// that a plane, row/column or record mix-up shows.
uint8_t pixel(int64_t record, int64_t channel, int64_t row, int64_t col) {
  return static_cast<uint8_t>((record * 11 + channel * 80 + row * 3 + col * 5) %
                              256);
}

// One CIFAR-10 record: the label, then 1024 R, 1024 G, 1024 B, row-major.
Bytes record(int64_t index, uint8_t label) {
  Bytes bytes = {label};
  for (int64_t ch = 0; ch < 3; ++ch)
    for (int64_t r = 0; r < 32; ++r)
      for (int64_t c = 0; c < 32; ++c) bytes.push_back(pixel(index, ch, r, c));
  return bytes;
}

// Records first..first+count-1, labelled (first + i) % 10.
Bytes records(int64_t first, int64_t count) {
  Bytes bytes;
  for (int64_t i = first; i < first + count; ++i) {
    const Bytes one = record(i, static_cast<uint8_t>(i % 10));
    bytes.insert(bytes.end(), one.begin(), one.end());
  }
  return bytes;
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ASSERT_TRUE(out.good()) << path;
}

// The six batch files, `per_file` records each, numbered on across files.
void write_folder(const std::string& dir, int64_t per_file) {
  for (int i = 1; i <= 5; ++i) {
    write_bytes(dir + "/data_batch_" + std::to_string(i) + ".bin",
                records((i - 1) * per_file, per_file));
  }
  write_bytes(dir + "/test_batch.bin", records(100, per_file));
}

TEST(Cifar10, ReadsLabelsAndPlanesAtKnownPositions) {
  const std::string path = scratch_dir() + "/data_batch_1.bin";
  Bytes bytes = record(0, 6);
  const Bytes second = record(1, 9);
  bytes.insert(bytes.end(), second.begin(), second.end());
  write_bytes(path, bytes);

  const auto split = read_cifar10_batch(path);
  EXPECT_EQ(split.images.sizes(), (std::vector<int64_t>{2, 3072}));
  EXPECT_EQ(split.images.scalar_type(), torch::kByte);
  EXPECT_EQ(split.channels, 3);
  EXPECT_EQ(split.height, 32);
  EXPECT_EQ(split.width, 32);
  EXPECT_EQ(split.labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(split.labels, torch::tensor({6, 9}, torch::kLong)));
  // D = channel * 1024 + row * 32 + column.
  const auto img = split.images.view({2, 3, 32, 32});
  EXPECT_EQ(img[0][0][0][0].item<int>(), pixel(0, 0, 0, 0));
  EXPECT_EQ(img[0][0][0][1].item<int>(), 5);    // red, row 0, column 1
  EXPECT_EQ(img[0][0][1][0].item<int>(), 3);    // red, row 1, column 0
  EXPECT_EQ(img[0][1][0][0].item<int>(), 80);   // green plane
  EXPECT_EQ(img[0][2][0][0].item<int>(), 160);  // blue plane
  EXPECT_EQ(img[1][2][31][30].item<int>(), pixel(1, 2, 31, 30));
  EXPECT_EQ(split.images[1][2 * 1024 + 31 * 32 + 30].item<int>(),
            (11 + 160 + 93 + 150) % 256);
}

TEST(Cifar10, LoadsFolderWithBatchesInOrder) {
  const std::string dir = scratch_dir();
  write_folder(dir, 2);
  const auto data = load_cifar10_folder(dir, 2);
  EXPECT_EQ(data.name, "cifar10");
  EXPECT_EQ(data.train.images.sizes(), (std::vector<int64_t>{10, 3072}));
  EXPECT_EQ(data.train.channels, 3);
  EXPECT_EQ(data.train.height, 32);
  EXPECT_EQ(data.train.width, 32);
  EXPECT_TRUE(torch::equal(data.train.labels, torch::arange(10, torch::kLong)));
  // Record 7 is the second of data_batch_4.bin.
  EXPECT_EQ(data.train.images[7][1024 + 5 * 32 + 4].item<int>(),
            pixel(7, 1, 5, 4));
  EXPECT_EQ(data.test.images.sizes(), (std::vector<int64_t>{2, 3072}));
  EXPECT_EQ(data.test.channels, 3);
  EXPECT_TRUE(
      torch::equal(data.test.labels, torch::tensor({0, 1}, torch::kLong)));
  EXPECT_EQ(data.test.images[1][0].item<int>(), pixel(101, 0, 0, 0));
}

TEST(Cifar10, FindsTheArchiveSubfolder) {
  const std::string dir = scratch_dir();
  fs::create_directories(dir + "/cifar-10-batches-bin");
  write_folder(dir + "/cifar-10-batches-bin", 1);
  const auto data = load_cifar10_folder(dir, 1);
  EXPECT_EQ(data.train.images.size(0), 5);
  EXPECT_EQ(data.test.images.size(0), 1);
}

TEST(Cifar10, TruncatedFileNamesFileAndRecordSize) {
  const std::string path = scratch_dir() + "/data_batch_2.bin";
  Bytes bytes = records(0, 2);
  bytes.resize(bytes.size() - 100);
  write_bytes(path, bytes);
  const std::string error = error_of([&] { read_cifar10_batch(path); });
  EXPECT_TRUE(contains(error, path));
  EXPECT_TRUE(contains(error, "truncated"));
  EXPECT_TRUE(contains(error, "3073-byte records"));
  EXPECT_TRUE(contains(error, "2973 bytes left over"));
}

TEST(Cifar10, WrongRecordCountIsReported) {
  const std::string path = scratch_dir() + "/test_batch.bin";
  write_bytes(path, records(0, 2));
  const std::string error = error_of([&] { read_cifar10_batch(path, 3); });
  EXPECT_TRUE(contains(error, path));
  EXPECT_TRUE(contains(error, "holds 2 records"));
  EXPECT_TRUE(contains(error, "holds 3 records"));
  // The folder loader expects the real 10000 records by default.
  const std::string dir = scratch_dir("folder");
  write_folder(dir, 1);
  const std::string folder_error = error_of([&] { load_cifar10_folder(dir); });
  EXPECT_TRUE(contains(folder_error, "data_batch_1.bin"));
  EXPECT_TRUE(contains(folder_error, "10000 records"));
}

TEST(Cifar10, RecognisesCifar100RecordSize) {
  const std::string path = scratch_dir() + "/train.bin";
  write_bytes(path, Bytes(2 * (kCifar10RecordBytes + 1), 3));
  const std::string error = error_of([&] { read_cifar10_batch(path); });
  EXPECT_TRUE(contains(error, path));
  EXPECT_TRUE(contains(error, "CIFAR-100"));
  EXPECT_TRUE(contains(error, "3074-byte records"));
}

TEST(Cifar10, LabelOutsideZeroToNineIsReported) {
  const std::string path = scratch_dir() + "/data_batch_1.bin";
  Bytes bytes = records(0, 3);
  bytes[kCifar10RecordBytes] = 10;  // record 1's label byte
  write_bytes(path, bytes);
  const std::string error = error_of([&] { read_cifar10_batch(path); });
  EXPECT_TRUE(contains(error, path));
  EXPECT_TRUE(contains(error, "record 1"));
  EXPECT_TRUE(contains(error, "label 10"));
  EXPECT_TRUE(contains(error, "0..9"));
}

TEST(Cifar10, EmptyAndMissingFilesAreReported) {
  const std::string dir = scratch_dir();
  write_bytes(dir + "/empty.bin", {});
  const std::string empty =
      error_of([&] { read_cifar10_batch(dir + "/empty.bin"); });
  EXPECT_TRUE(contains(empty, dir + "/empty.bin"));
  EXPECT_TRUE(contains(empty, "empty"));
  const std::string missing =
      error_of([&] { read_cifar10_batch(dir + "/nope.bin"); });
  EXPECT_TRUE(contains(missing, "cannot open CIFAR-10 file"));
  EXPECT_TRUE(contains(missing, dir + "/nope.bin"));
  EXPECT_TRUE(contains(missing, "No such file"));
}

TEST(Cifar10, FolderErrorsNameTheMissingFiles) {
  const std::string dir = scratch_dir();
  const std::string absent = error_of([&] { load_cifar10_folder(dir + "/x"); });
  EXPECT_TRUE(contains(absent, dir + "/x' does not exist"));
  EXPECT_TRUE(contains(absent, "cifar-10-binary.tar.gz"));

  const std::string none = error_of([&] { load_cifar10_folder(dir); });
  EXPECT_TRUE(contains(none, "holds none of"));

  write_folder(dir, 1);
  fs::remove(dir + "/data_batch_3.bin");
  fs::remove(dir + "/test_batch.bin");
  const std::string lacks = error_of([&] { load_cifar10_folder(dir, 1); });
  EXPECT_TRUE(contains(lacks, dir));
  EXPECT_TRUE(contains(lacks, "lacks data_batch_3.bin, test_batch.bin"));
}

TEST(Cifar10, PythonVersionGetsAHint) {
  const std::string dir = scratch_dir();
  write_bytes(dir + "/data_batch_1", {0x80, 0x02});
  write_bytes(dir + "/test_batch", {0x80, 0x02});
  const std::string error = error_of([&] { load_cifar10_folder(dir); });
  EXPECT_TRUE(contains(error, dir));
  EXPECT_TRUE(contains(error, "Python version"));
  EXPECT_TRUE(contains(error, "binary version"));
}

}  // namespace
