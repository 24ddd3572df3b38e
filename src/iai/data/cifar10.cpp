#include "iai/data/cifar10.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "iai/core/error.h"

namespace iai::data {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSide = 32;
constexpr int64_t kChannels = 3;
constexpr int64_t kPixels = kChannels * kSide * kSide;  // 3072
constexpr int kClasses = 10;
static_assert(kCifar10RecordBytes == 1 + kPixels);

constexpr std::array<const char*, 6> kFiles = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
    "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};

constexpr const char* kHint =
    "download the binary version, cifar-10-binary.tar.gz, from "
    "https://www.cs.toronto.edu/~kriz/cifar.html and pass the unpacked "
    "cifar-10-batches-bin folder";

std::string expected_files() {
  return "data_batch_1.bin ... data_batch_5.bin and test_batch.bin";
}

}  // namespace

ImageSplit read_cifar10_batch(const std::string& path,
                              int64_t expected_records) {
  // returns images (N,3072) uint8, labels (N) int64
  std::error_code ec;
  IAI_CHECK(!fs::is_directory(path, ec), "cannot open CIFAR-10 file '", path,
            "': it is a folder, not a file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  IAI_CHECK(in, "cannot open CIFAR-10 file '", path,
            "': ", errno ? std::strerror(errno) : "unknown error");
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  IAI_CHECK(!ec, "cannot read the size of CIFAR-10 file '", path,
            "': ", ec.message());
  IAI_CHECK(size > 0, "CIFAR-10 file '", path,
            "': the file is empty; expected records of ", kCifar10RecordBytes,
            " bytes (1 label byte + 3072 pixel bytes)");
  const int64_t records = size / kCifar10RecordBytes;
  const int64_t extra = size % kCifar10RecordBytes;
  IAI_CHECK(extra == 0 || size % (kCifar10RecordBytes + 1) != 0,
            "CIFAR-10 file '", path, "': its ", size,
            " bytes are a whole number of 3074-byte records, as in "
            "CIFAR-100 (2 label bytes), not of CIFAR-10's ",
            kCifar10RecordBytes, "-byte records; is this a CIFAR-100 file?");
  IAI_CHECK(extra == 0, "CIFAR-10 file '", path,
            "': truncated or not a "
            "CIFAR-10 binary file: its ",
            size,
            " bytes are not a whole "
            "number of ",
            kCifar10RecordBytes, "-byte records (", records, " records and ",
            extra, " bytes left over)");
  IAI_CHECK(expected_records <= 0 || records == expected_records,
            "CIFAR-10 file '", path, "': holds ", records, " records (", size,
            " bytes) but every CIFAR-10 batch file holds ", expected_records,
            " records of ", kCifar10RecordBytes,
            " bytes; is the file truncated?");

  auto raw = std::make_unique<std::vector<uint8_t>>(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(raw->data()), size);
  IAI_CHECK(in.gcount() == size, "CIFAR-10 file '", path, "': read only ",
            in.gcount(), " of its ", size, " bytes");

  // (N,3073): column 0 the label, columns 1.. the R, G, B planes.
  auto* owner = raw.release();
  const torch::Tensor table = torch::from_blob(
      owner->data(), {records, kCifar10RecordBytes},
      [owner](void*) { delete owner; }, torch::kByte);
  const torch::Tensor labels = table.select(1, 0).to(torch::kLong);
  const auto bad = (labels >= kClasses).nonzero();
  if (bad.size(0) > 0) {
    const int64_t record = bad[0][0].item<int64_t>();
    throw Error(message("CIFAR-10 file '", path, "': record ", record,
                        " (byte offset ", record * kCifar10RecordBytes,
                        ") has label ", labels[record].item<int64_t>(),
                        "; CIFAR-10 labels are 0..9 (", bad.size(0),
                        " bad labels in all); is this a CIFAR-10 file?"));
  }

  ImageSplit split;
  split.images = table.slice(1, 1).contiguous();
  split.labels = labels;
  split.channels = kChannels;
  split.height = kSide;
  split.width = kSide;
  return split;
}

ImageDataset load_cifar10_folder(const std::string& dir,
                                 int64_t records_per_file) {
  std::error_code ec;
  IAI_CHECK(fs::exists(dir, ec), "CIFAR-10 folder '", dir,
            "' does not exist; it should hold ", expected_files(), "; ", kHint);
  IAI_CHECK(fs::is_directory(dir, ec), "CIFAR-10 folder '", dir,
            "' is not a folder; it should hold ", expected_files(), "; ",
            kHint);
  fs::path folder = dir;
  // The archive unpacks into cifar-10-batches-bin/; accept its parent too.
  if (!fs::exists(folder / kFiles[0], ec) &&
      fs::is_directory(folder / "cifar-10-batches-bin", ec)) {
    folder /= "cifar-10-batches-bin";
  }

  std::string missing;
  size_t missing_count = 0;
  for (const char* file : kFiles) {
    if (fs::exists(folder / file, ec)) continue;
    missing += (missing.empty() ? "" : ", ") + std::string(file);
    ++missing_count;
  }
  // The Python version ships pickles without the .bin suffix.
  const bool python_version = fs::exists(folder / "data_batch_1", ec) ||
                              fs::exists(folder / "test_batch", ec);
  IAI_CHECK(missing.empty() || !python_version, "CIFAR-10 folder '",
            folder.string(),
            "' holds the Python version (pickled "
            "data_batch_1 ... test_batch without .bin); this loader reads "
            "the binary version: ",
            kHint);
  IAI_CHECK(missing_count < kFiles.size(), "CIFAR-10 folder '", folder.string(),
            "' holds none of ", expected_files(), "; ", kHint);
  IAI_CHECK(missing.empty(), "CIFAR-10 folder '", folder.string(), "' lacks ",
            missing, "; it should hold ", expected_files(), "; ", kHint);

  std::vector<torch::Tensor> images, labels;
  for (size_t i = 0; i + 1 < kFiles.size(); ++i) {
    ImageSplit batch =
        read_cifar10_batch((folder / kFiles[i]).string(), records_per_file);
    images.push_back(batch.images);
    labels.push_back(batch.labels);
  }
  ImageDataset data;
  data.train.images = torch::cat(images);
  data.train.labels = torch::cat(labels);
  data.train.channels = kChannels;
  data.train.height = kSide;
  data.train.width = kSide;
  data.test =
      read_cifar10_batch((folder / kFiles.back()).string(), records_per_file);
  data.name = "cifar10";
  return data;
}

}  // namespace iai::data
