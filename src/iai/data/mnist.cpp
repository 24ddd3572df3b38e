#include "iai/data/mnist.h"

#include <array>
#include <filesystem>
#include <sstream>

#include "iai/core/error.h"
#include "iai/data/idx.h"

namespace iai::data {
namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 4> kFiles = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

constexpr const char* kHint =
    "run scripts/fetch-data.sh to download MNIST, or pass --data-dir a "
    "folder holding them";

std::string expected_files() {
  return message(kFiles[0], ", ", kFiles[1], ", ", kFiles[2], " and ",
                 kFiles[3], " (each plain or with a .gz suffix)");
}

// The plain file when present, else the .gz one, else "".
std::string find_file(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const fs::path& candidate : {dir / name, dir / (name + ".gz")}) {
    if (fs::exists(candidate, ec)) return candidate.string();
  }
  return "";
}

std::string shape_of(const torch::Tensor& tensor) {
  std::ostringstream out;
  out << tensor.sizes();
  return out.str();
}

}  // namespace

ImageSplit load_idx_pair(const std::string& images_path,
                         const std::string& labels_path) {
  const torch::Tensor images = read_idx(images_path);  // (N,H,W) uint8
  IAI_CHECK(images.dim() == 3, "IDX file '", images_path,
            "': expected images of 3 dimensions (count, height, width), "
            "found ",
            images.dim(), " dimensions ", shape_of(images),
            "; is this a label file?");
  const torch::Tensor labels = read_idx(labels_path);  // (N) uint8
  IAI_CHECK(labels.dim() == 1, "IDX file '", labels_path,
            "': expected labels of 1 dimension (count), found ", labels.dim(),
            " dimensions ", shape_of(labels), "; is this an image file?");
  const int64_t count = images.size(0);
  IAI_CHECK(labels.size(0) == count, "image and label counts differ: '",
            images_path, "' holds ", count, " images but '", labels_path,
            "' holds ", labels.size(0), " labels");

  ImageSplit split;
  split.height = images.size(1);
  split.width = images.size(2);
  split.images = images.reshape({count, split.height * split.width});
  split.labels = labels.to(torch::kLong);
  return split;
}

ImageDataset load_mnist_folder(const std::string& dir) {
  std::error_code ec;
  IAI_CHECK(fs::exists(dir, ec), "MNIST folder '", dir,
            "' does not exist; it should hold ", expected_files(), "; ", kHint);
  IAI_CHECK(fs::is_directory(dir, ec), "MNIST folder '", dir,
            "' is not a folder; it should hold ", expected_files(), "; ",
            kHint);

  std::array<std::string, 4> paths;
  std::string missing;
  size_t missing_count = 0;
  for (size_t i = 0; i < kFiles.size(); ++i) {
    paths[i] = find_file(dir, kFiles[i]);
    if (!paths[i].empty()) continue;
    missing += (missing.empty() ? "" : ", ") + std::string(kFiles[i]);
    ++missing_count;
  }
  IAI_CHECK(missing_count < kFiles.size(), "MNIST folder '", dir,
            "' holds none of ", expected_files(), "; ", kHint);
  IAI_CHECK(missing.empty(), "MNIST folder '", dir, "' lacks ", missing,
            "; it should hold ", expected_files(), "; ", kHint);

  ImageDataset data;
  data.train = load_idx_pair(paths[0], paths[1]);
  data.test = load_idx_pair(paths[2], paths[3]);
  // Models are sized from one split and run on the other.
  IAI_CHECK(data.train.height == data.test.height &&
                data.train.width == data.test.width,
            "MNIST folder '", dir, "': train images are ", data.train.height,
            "x", data.train.width, " pixels but test images are ",
            data.test.height, "x", data.test.width);

  // "data/mnist/" and "." have no file name of their own.
  fs::path folder = fs::absolute(dir, ec).lexically_normal();
  if (folder.filename().empty()) folder = folder.parent_path();
  data.name = folder.filename().string();
  return data;
}

}  // namespace iai::data
