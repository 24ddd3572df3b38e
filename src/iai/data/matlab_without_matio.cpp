// The .mat loaders of a build without matio (cmake -DIAI_WITH_MATIO=OFF, or
// a machine without libmatio-dev): each says which data set needs matio and
// how to get it, instead of the build failing for everyone.

#include "iai/data/matlab.h"

#include "iai/core/error.h"

namespace iai::data {

namespace {

[[noreturn]] void no_matio(const char* data_set, const std::string& path) {
  throw Error(message("the ", data_set, " data set ('", path,
                      "') is stored as MATLAB .mat files, read through "
                      "matio, and this iai was built without it: install "
                      "libmatio-dev (Debian) and rebuild (bash "
                      "scripts/setup.sh, or cmake -DIAI_WITH_MATIO=ON)"));
}

}  // namespace

ImageSplit read_svhn_mat(const std::string& path) {
  no_matio("svhn", path);
}

ImageDataset load_svhn_folder(const std::string& dir) {
  no_matio("svhn", dir);
}

ImageDataset read_omniglot_mat(const std::string& path) {
  no_matio("omniglot", path);
}

ImageDataset load_omniglot_folder(const std::string& dir) {
  no_matio("omniglot", dir);
}

}  // namespace iai::data
