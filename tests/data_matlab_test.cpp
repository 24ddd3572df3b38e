// Tests of the MATLAB-file loaders (SVHN, Omniglot) on small .mat files that
// matio writes in the real layout: column-major arrays, SVHN's 32x32x3xN
// uint8 X with labels 1..10, Omniglot's 784 x N doubles in [0,1].

#include <gtest/gtest.h>
#include <matio.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "iai/core/error.h"
#include "iai/data/matlab.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::data::load_omniglot_folder;
using iai::data::load_svhn_folder;
using iai::data::read_omniglot_mat;
using iai::data::read_svhn_mat;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::scratch_dir;

// One variable to write: MATLAB class, element type, dimensions and the
// column-major data (as many elements as the dimensions hold).
struct Var {
  std::string name;
  matio_classes class_type;
  matio_types data_type;
  std::vector<size_t> dims;
  const void* data;
};

void write_mat(const std::string& path, const std::vector<Var>& vars,
               bool compress = false) {
  mat_t* file = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(file, nullptr) << path;
  for (const Var& v : vars) {
    std::vector<size_t> dims = v.dims;
    matvar_t* var = Mat_VarCreate(v.name.c_str(), v.class_type, v.data_type,
                                  static_cast<int>(dims.size()), dims.data(),
                                  const_cast<void*>(v.data), 0);
    ASSERT_NE(var, nullptr) << v.name;
    EXPECT_EQ(
        Mat_VarWrite(file, var,
                     compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE),
        0);
    Mat_VarFree(var);
  }
  ASSERT_EQ(Mat_Close(file), 0);
}

// ---------------------------------------------------------------- SVHN

// The value of X(r, c, ch, n): distinct enough that swapping rows and
// columns, channels or images shows.
uint8_t svhn_pixel(size_t r, size_t c, size_t ch, size_t n) {
  return static_cast<uint8_t>((r * 3 + c * 7 + ch * 50 + n * 101) % 256);
}

// X, 32x32x3xN uint8 in MATLAB's column-major order.
std::vector<uint8_t> svhn_x(size_t n) {
  std::vector<uint8_t> x(32 * 32 * 3 * n);
  for (size_t k = 0; k < n; ++k)
    for (size_t ch = 0; ch < 3; ++ch)
      for (size_t c = 0; c < 32; ++c)
        for (size_t r = 0; r < 32; ++r)
          x[r + 32 * c + 1024 * ch + 3072 * k] = svhn_pixel(r, c, ch, k);
  return x;
}

Var x_var(const std::vector<uint8_t>& x, size_t n) {
  return {"X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, n}, x.data()};
}

Var y_var(const std::vector<double>& y) {
  return {"y", MAT_C_DOUBLE, MAT_T_DOUBLE, {y.size(), 1}, y.data()};
}

TEST(SvhnMat, ReadsColumnMajorImagesUprightAndLabelTenAsZero) {
  const std::string path = scratch_dir() + "/train_32x32.mat";
  const auto x = svhn_x(3);
  const std::vector<double> y = {10, 3, 1};
  write_mat(path, {x_var(x, 3), y_var(y)});

  const auto split = read_svhn_mat(path);
  EXPECT_EQ(split.images.sizes(), (std::vector<int64_t>{3, 3072}));
  EXPECT_EQ(split.images.scalar_type(), torch::kByte);
  EXPECT_EQ(split.channels, 3);
  EXPECT_EQ(split.height, 32);
  EXPECT_EQ(split.width, 32);
  EXPECT_EQ(split.labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(
      torch::equal(split.labels, torch::tensor({0, 3, 1}, torch::kLong)));
  // images[n][ch * 1024 + r * 32 + c] = X(r, c, ch, n).
  EXPECT_EQ(split.images[0][0 * 32 + 1].item<int>(), 7);  // row 0, column 1
  EXPECT_EQ(split.images[0][1 * 32 + 0].item<int>(), 3);  // row 1, column 0
  EXPECT_EQ(split.images[0][1024].item<int>(), 50);       // green plane
  EXPECT_EQ(split.images[0][2048 + 31 * 32 + 2].item<int>(),
            svhn_pixel(31, 2, 2, 0));
  EXPECT_EQ(split.images[2][1024 + 5 * 32 + 9].item<int>(),
            svhn_pixel(5, 9, 1, 2));
  const auto all = split.images.view({3, 3, 32, 32});
  EXPECT_EQ(all[1][2][17][30].item<int>(), svhn_pixel(17, 30, 2, 1));
}

TEST(SvhnMat, AcceptsCompressedFilesUint8AndRowLabelsAndOneImage) {
  const std::string dir = scratch_dir();
  const auto x = svhn_x(2);
  const std::vector<uint8_t> y = {4, 10};
  write_mat(dir + "/a.mat",
            {x_var(x, 2), {"y", MAT_C_UINT8, MAT_T_UINT8, {1, 2}, y.data()}},
            /*compress=*/true);
  const auto split = read_svhn_mat(dir + "/a.mat");
  EXPECT_TRUE(torch::equal(split.labels, torch::tensor({4, 0}, torch::kLong)));
  EXPECT_EQ(split.images[1][32 * 4 + 6].item<int>(), svhn_pixel(4, 6, 0, 1));

  // A single image: MATLAB stores X as 32x32x3.
  const auto one = svhn_x(1);
  const std::vector<double> label = {7};
  write_mat(
      dir + "/one.mat",
      {{"X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3}, one.data()}, y_var(label)});
  const auto single = read_svhn_mat(dir + "/one.mat");
  EXPECT_EQ(single.images.sizes(), (std::vector<int64_t>{1, 3072}));
  EXPECT_EQ(single.images[0][2048 + 32 * 8 + 1].item<int>(),
            svhn_pixel(8, 1, 2, 0));
  EXPECT_EQ(single.labels[0].item<int64_t>(), 7);
}

TEST(SvhnMat, LoadsFolder) {
  const std::string dir = scratch_dir();
  const auto x = svhn_x(2);
  const std::vector<double> train_y = {1, 2}, test_y = {10, 9};
  write_mat(dir + "/train_32x32.mat", {x_var(x, 2), y_var(train_y)});
  write_mat(dir + "/test_32x32.mat", {y_var(test_y), x_var(x, 2)});
  const auto data = load_svhn_folder(dir);
  EXPECT_EQ(data.name, "svhn");
  EXPECT_EQ(data.train.images.size(0), 2);
  EXPECT_EQ(data.test.channels, 3);
  EXPECT_TRUE(
      torch::equal(data.test.labels, torch::tensor({0, 9}, torch::kLong)));
  EXPECT_EQ(data.test.images[1][1 * 32 + 2].item<int>(),
            svhn_pixel(1, 2, 0, 1));
}

TEST(SvhnMat, MissingOrMisnamedVariablesAreListed) {
  const std::string dir = scratch_dir();
  const auto x = svhn_x(2);
  const std::vector<double> y = {1, 2};
  write_mat(dir + "/no_y.mat", {x_var(x, 2)});
  const std::string no_y = error_of([&] { read_svhn_mat(dir + "/no_y.mat"); });
  EXPECT_TRUE(contains(no_y, dir + "/no_y.mat"));
  EXPECT_TRUE(contains(no_y, "no variable 'y'"));
  EXPECT_TRUE(contains(no_y, "holds variables: X"));

  write_mat(dir + "/named.mat",
            {{"images", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, 2}, x.data()},
             y_var(y)});
  const std::string named =
      error_of([&] { read_svhn_mat(dir + "/named.mat"); });
  EXPECT_TRUE(contains(named, dir + "/named.mat"));
  EXPECT_TRUE(contains(named, "no variable 'X'"));
  EXPECT_TRUE(contains(named, "holds variables: images, y"));
}

TEST(SvhnMat, WrongTypesAndShapesAreReported) {
  const std::string dir = scratch_dir();
  const std::vector<double> y = {1, 2};
  const std::vector<double> xd(32 * 32 * 3 * 2, 0.5);
  write_mat(
      dir + "/double.mat",
      {{"X", MAT_C_DOUBLE, MAT_T_DOUBLE, {32, 32, 3, 2}, xd.data()}, y_var(y)});
  const std::string as_double =
      error_of([&] { read_svhn_mat(dir + "/double.mat"); });
  EXPECT_TRUE(contains(as_double, dir + "/double.mat"));
  EXPECT_TRUE(contains(as_double, "'X' is double 32x32x3x2"));
  EXPECT_TRUE(contains(as_double, "expected uint8 32x32x3xN"));

  const std::vector<uint8_t> small(28 * 28 * 3 * 2, 1);
  write_mat(dir + "/small.mat",
            {{"X", MAT_C_UINT8, MAT_T_UINT8, {28, 28, 3, 2}, small.data()},
             y_var(y)});
  const std::string shape =
      error_of([&] { read_svhn_mat(dir + "/small.mat"); });
  EXPECT_TRUE(contains(shape, "'X' is uint8 28x28x3x2"));

  const auto x = svhn_x(2);
  const std::vector<int32_t> yi = {1, 2};
  write_mat(dir + "/int_y.mat",
            {x_var(x, 2), {"y", MAT_C_INT32, MAT_T_INT32, {2, 1}, yi.data()}});
  const std::string int_y =
      error_of([&] { read_svhn_mat(dir + "/int_y.mat"); });
  EXPECT_TRUE(contains(int_y, dir + "/int_y.mat"));
  EXPECT_TRUE(contains(int_y, "'y' is int32 2x1"));
  EXPECT_TRUE(contains(int_y, "expected double or uint8"));

  const std::vector<double> three = {1, 2, 3};
  write_mat(dir + "/count.mat", {x_var(x, 2), y_var(three)});
  const std::string count =
      error_of([&] { read_svhn_mat(dir + "/count.mat"); });
  EXPECT_TRUE(contains(count, "'y' is double 3x1"));
  EXPECT_TRUE(contains(count, "expected 2 x 1 labels"));
}

TEST(SvhnMat, LabelsOutsideOneToTenAreReported) {
  const std::string dir = scratch_dir();
  const auto x = svhn_x(3);
  const std::vector<double> big = {1, 11, 2}, half = {1, 2, 2.5},
                            zero = {0, 1, 2};
  write_mat(dir + "/big.mat", {x_var(x, 3), y_var(big)});
  write_mat(dir + "/half.mat", {x_var(x, 3), y_var(half)});
  write_mat(dir + "/zero.mat", {x_var(x, 3), y_var(zero)});
  const std::string e_big = error_of([&] { read_svhn_mat(dir + "/big.mat"); });
  EXPECT_TRUE(contains(e_big, dir + "/big.mat"));
  EXPECT_TRUE(contains(e_big, "label y(2) is 11"));
  EXPECT_TRUE(contains(e_big, "1..10"));
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(dir + "/half.mat"); }),
                       "label y(3) is 2.5"));
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(dir + "/zero.mat"); }),
                       "label y(1) is 0"));
}

TEST(SvhnMat, BrokenAndMissingFilesAreReported) {
  const std::string dir = scratch_dir();
  {
    std::ofstream out(dir + "/text.mat");
    out << "this is not a MATLAB file, just some text long enough to fill "
           "the 128-byte header a MAT file starts with........................"
           "..................................................................";
  }
  const std::string text = error_of([&] { read_svhn_mat(dir + "/text.mat"); });
  EXPECT_TRUE(contains(text, dir + "/text.mat"));
  EXPECT_TRUE(contains(text, "not a MATLAB .mat file"));

  const auto x = svhn_x(4);
  const std::vector<double> y = {1, 2, 3, 4};
  write_mat(dir + "/cut.mat", {x_var(x, 4), y_var(y)});
  fs::resize_file(dir + "/cut.mat", 6000);  // mid-way through X's data
  const std::string cut = error_of([&] { read_svhn_mat(dir + "/cut.mat"); });
  EXPECT_TRUE(contains(cut, dir + "/cut.mat"));
  EXPECT_TRUE(contains(cut, "truncated: variable 1 (at offset 128)"));
  EXPECT_TRUE(contains(cut, "the file ends after 5864 of them"));
  write_mat(dir + "/zcut.mat", {x_var(x, 4), y_var(y)}, /*compress=*/true);
  fs::resize_file(dir + "/zcut.mat", fs::file_size(dir + "/zcut.mat") - 3);
  const std::string zcut = error_of([&] { read_svhn_mat(dir + "/zcut.mat"); });
  EXPECT_TRUE(contains(zcut, dir + "/zcut.mat"));
  EXPECT_TRUE(contains(zcut, "truncated: variable 2"));
  fs::resize_file(dir + "/zcut.mat", 130);
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(dir + "/zcut.mat"); }),
                       "truncated: the file ends inside the header of "
                       "variable 1"));

  // Garbage inside X's zlib stream (past its header).
  write_mat(dir + "/garbled.mat", {x_var(x, 4), y_var(y)}, /*compress=*/true);
  {
    std::fstream f(dir + "/garbled.mat",
                   std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(300);
    const std::string junk(40, '\xff');
    f.write(junk.data(), junk.size());
  }
  const std::string garbled =
      error_of([&] { read_svhn_mat(dir + "/garbled.mat"); });
  EXPECT_TRUE(contains(garbled, dir + "/garbled.mat"));
  EXPECT_TRUE(contains(garbled, "cannot read the data of variable 'X'"));
  EXPECT_TRUE(contains(garbled, "truncated or corrupt"));
  EXPECT_TRUE(contains(garbled, "(matio: InflateData"));

  const std::string missing =
      error_of([&] { read_svhn_mat(dir + "/nope.mat"); });
  EXPECT_TRUE(contains(missing, dir + "/nope.mat' does not exist"));

  write_mat(dir + "/train_32x32.mat", {x_var(x, 4), y_var(y)});
  const std::string lacks = error_of([&] { load_svhn_folder(dir); });
  EXPECT_TRUE(contains(lacks, dir));
  EXPECT_TRUE(contains(lacks, "lacks test_32x32.mat"));
  const std::string no_dir = error_of([&] { load_svhn_folder(dir + "/q"); });
  EXPECT_TRUE(contains(no_dir, dir + "/q' does not exist"));
}

// ------------------------------------------------------------- Omniglot

// Pixel (r, c) of image n, as a byte: distinct under a row/column swap.
int omniglot_byte(size_t r, size_t c, size_t n) {
  return static_cast<int>((r * 3 + c * 7 + n * 13) % 256);
}

// A 784 x n MATLAB array: column n is image n, entry r + 28c its pixel
// (r, c) (Fortran order), holding omniglot_byte / 255.
std::vector<double> omniglot_data(size_t n) {
  std::vector<double> data(784 * n);
  for (size_t k = 0; k < n; ++k)
    for (size_t c = 0; c < 28; ++c)
      for (size_t r = 0; r < 28; ++r)
        data[r + 28 * c + 784 * k] = omniglot_byte(r, c, k) / 255.0;
  return data;
}

Var omni_var(const std::string& name, const std::vector<double>& data) {
  return {
      name, MAT_C_DOUBLE, MAT_T_DOUBLE, {784, data.size() / 784}, data.data()};
}

TEST(OmniglotMat, FortranOrderColumnsComeOutUprightRowMajor) {
  const std::string path = scratch_dir() + "/chardata.mat";
  const auto train = omniglot_data(3), test = omniglot_data(2);
  write_mat(path, {omni_var("data", train), omni_var("testdata", test)},
            /*compress=*/true);

  const auto data = read_omniglot_mat(path);
  EXPECT_EQ(data.name, "omniglot");
  EXPECT_EQ(data.train.images.sizes(), (std::vector<int64_t>{3, 784}));
  EXPECT_EQ(data.train.images.scalar_type(), torch::kByte);
  EXPECT_EQ(data.train.channels, 1);
  EXPECT_EQ(data.train.height, 28);
  EXPECT_EQ(data.train.width, 28);
  EXPECT_EQ(data.test.images.sizes(), (std::vector<int64_t>{2, 784}));
  // images[n][r * 28 + c] = round(data(r + 28c + 1, n + 1) * 255).
  EXPECT_EQ(data.train.images[0][0 * 28 + 1].item<int>(), 7);  // row 0, col 1
  EXPECT_EQ(data.train.images[0][1 * 28 + 0].item<int>(), 3);  // row 1, col 0
  EXPECT_EQ(data.train.images[2][5 * 28 + 20].item<int>(),
            omniglot_byte(5, 20, 2));
  EXPECT_EQ(data.test.images[1][27 * 28 + 3].item<int>(),
            omniglot_byte(27, 3, 1));
  EXPECT_TRUE(
      torch::equal(data.train.labels, torch::full({3}, -1, torch::kLong)));
}

TEST(OmniglotMat, AVerticalStrokeStaysVertical) {
  // The first column of the image (c = 0) is on: in MATLAB's column-major
  // column, entries 0..27.
  std::vector<double> data(784, 0.0);
  for (int r = 0; r < 28; ++r) data[r] = 1.0;
  const std::string dir = scratch_dir();
  write_mat(dir + "/chardata.mat",
            {omni_var("data", data), omni_var("testdata", data)});
  const auto loaded = load_omniglot_folder(dir);
  const auto image = loaded.train.images[0].view({28, 28});
  EXPECT_EQ(image.select(1, 0).sum().item<int>(), 28 * 255);
  EXPECT_EQ(image.sum().item<int>(), 28 * 255);
  EXPECT_EQ(image[27][0].item<int>(), 255);
  EXPECT_EQ(image[0][27].item<int>(), 0);
}

TEST(OmniglotMat, RoundsToBytesAndReadsAlphabetLabels) {
  std::vector<double> data(784 * 2, 0.0);
  data[0] = 0.2;           // 51
  data[1] = 0.5;           // 127.5 rounds to 128
  data[784 + 28] = 1.0;    // image 1, pixel (0, 1)
  data[784 + 2] = 0.0011;  // 0.28 rounds to 0
  // target: 3 alphabets x 2 images, one-hot per column.
  const std::vector<double> target = {0, 0, 1, 0, 1, 0};
  const std::string path = scratch_dir() + "/chardata.mat";
  write_mat(path,
            {omni_var("data", data),
             omni_var("testdata", data),
             {"target", MAT_C_DOUBLE, MAT_T_DOUBLE, {3, 2}, target.data()}});
  const auto loaded = read_omniglot_mat(path);
  EXPECT_EQ(loaded.train.images[0][0].item<int>(), 51);
  EXPECT_EQ(loaded.train.images[0][28].item<int>(), 128);  // pixel (1, 0)
  EXPECT_EQ(loaded.train.images[1][1].item<int>(), 255);   // pixel (0, 1)
  EXPECT_EQ(loaded.train.images[1][56].item<int>(), 0);    // pixel (2, 0)
  EXPECT_TRUE(
      torch::equal(loaded.train.labels, torch::tensor({2, 1}, torch::kLong)));
  EXPECT_TRUE(
      torch::equal(loaded.test.labels, torch::full({2}, -1, torch::kLong)));
}

TEST(OmniglotMat, MissingVariablesWrongTypesAndShapesAreReported) {
  const std::string dir = scratch_dir();
  const auto good = omniglot_data(2);
  write_mat(dir + "/train_only.mat", {omni_var("data", good)});
  const std::string no_test =
      error_of([&] { read_omniglot_mat(dir + "/train_only.mat"); });
  EXPECT_TRUE(contains(no_test, dir + "/train_only.mat"));
  EXPECT_TRUE(contains(no_test, "no variable 'testdata'"));
  EXPECT_TRUE(contains(no_test, "holds variables: data"));

  const std::vector<float> single(784 * 2, 0.5f);
  write_mat(dir + "/single.mat",
            {{"data", MAT_C_SINGLE, MAT_T_SINGLE, {784, 2}, single.data()},
             omni_var("testdata", good)});
  const std::string type =
      error_of([&] { read_omniglot_mat(dir + "/single.mat"); });
  EXPECT_TRUE(contains(type, dir + "/single.mat"));
  EXPECT_TRUE(contains(type, "'data' is single 784x2"));
  EXPECT_TRUE(contains(type, "expected double 784 x N"));

  // Transposed: one image per row instead of per column.
  write_mat(dir + "/rows.mat",
            {omni_var("data", good),
             {"testdata", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 784}, good.data()}});
  const std::string shape =
      error_of([&] { read_omniglot_mat(dir + "/rows.mat"); });
  EXPECT_TRUE(contains(shape, dir + "/rows.mat"));
  EXPECT_TRUE(contains(shape, "'testdata' is double 2x784"));
  EXPECT_TRUE(contains(shape, "expected 784 x N"));
}

TEST(OmniglotMat, ValuesOutsideUnitIntervalAreReported) {
  const std::string dir = scratch_dir();
  auto data = omniglot_data(2);
  data[784 + 30] = 1.5;  // data(31, 2): image 1, pixel (2, 1)
  write_mat(dir + "/big.mat",
            {omni_var("data", data), omni_var("testdata", data)});
  const std::string big =
      error_of([&] { read_omniglot_mat(dir + "/big.mat"); });
  EXPECT_TRUE(contains(big, dir + "/big.mat"));
  EXPECT_TRUE(contains(big, "data(31, 2) is 1.5"));
  EXPECT_TRUE(contains(big, "[0, 1]"));

  auto nan = omniglot_data(1);
  nan[5] = std::numeric_limits<double>::quiet_NaN();
  write_mat(dir + "/nan.mat",
            {omni_var("data", omniglot_data(1)), omni_var("testdata", nan)});
  EXPECT_TRUE(contains(error_of([&] { read_omniglot_mat(dir + "/nan.mat"); }),
                       "testdata(6, 1) is nan"));
}

TEST(OmniglotMat, MissingFileAndFolderAreReported) {
  const std::string dir = scratch_dir();
  const std::string lacks = error_of([&] { load_omniglot_folder(dir); });
  EXPECT_TRUE(contains(lacks, dir));
  EXPECT_TRUE(contains(lacks, "lacks chardata.mat"));
  const std::string no_dir =
      error_of([&] { load_omniglot_folder(dir + "/q"); });
  EXPECT_TRUE(contains(no_dir, dir + "/q' does not exist"));
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A corrupt count of dimension bytes (or of name bytes) in a variable's
// header made matio allocate gigabytes (found by fuzz/mat_fuzz.cpp: 7.9 GB
// for one flipped byte): one clear error instead, compressed or not.
TEST(SvhnMat, HugeDimensionOrNameCountsInAHeaderAreAnError) {
  const std::string dir = scratch_dir();
  const auto x = svhn_x(2);
  const std::vector<double> y = {1, 2};
  auto put_u32 = [](std::string& bytes, size_t at, uint32_t v) {
    std::memcpy(&bytes[at], &v, 4);  // the files are little-endian
  };
  // Variable 1 starts at 128: its tag (8 bytes), array flags (16), then the
  // dimensions' tag, whose byte count is at 128 + 8 + 16 + 4.
  write_mat(dir + "/dims.mat", {x_var(x, 2), y_var(y)});
  std::string bytes = file_bytes(dir + "/dims.mat");
  put_u32(bytes, 156, 0xEC000008u);
  put_file(dir + "/dims.mat", bytes);
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(dir + "/dims.mat"); }),
                       "variable 1: 3959422984 bytes of dimensions (at most "
                       "64 dimensions); the file is corrupt"));
  // The name's tag follows the 4 dimensions (16 bytes).
  write_mat(dir + "/name.mat", {x_var(x, 2), y_var(y)});
  bytes = file_bytes(dir + "/name.mat");
  ASSERT_EQ(bytes[128 + 8 + 16 + 8 + 16], 1);  // miINT8, the name
  put_u32(bytes, 128 + 8 + 16 + 8 + 16, 1);    // unpacked form: count next
  put_u32(bytes, 128 + 8 + 16 + 8 + 16 + 4, 0x7fffffffu);
  put_file(dir + "/name.mat", bytes);
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(dir + "/name.mat"); }),
                       "variable 1: a name of 2147483647 bytes (at most "
                       "4096); the file is corrupt"));

  // Compressed: the same count inside variable 1's zlib stream.
  write_mat(dir + "/z.mat", {x_var(x, 2), y_var(y)}, /*compress=*/true);
  bytes = file_bytes(dir + "/z.mat");
  uint32_t stored = 0;
  std::memcpy(&stored, &bytes[132], 4);
  std::string plain(3072 * 2 + 256, '\0');
  uLongf plain_size = plain.size();
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(plain.data()), &plain_size,
                       reinterpret_cast<const Bytef*>(&bytes[136]), stored),
            Z_OK);
  plain.resize(plain_size);
  put_u32(plain, 8 + 16 + 4, 0xEC000008u);
  std::string packed(compressBound(plain.size()), '\0');
  uLongf packed_size = packed.size();
  ASSERT_EQ(
      compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
               reinterpret_cast<const Bytef*>(plain.data()), plain.size()),
      Z_OK);
  packed.resize(packed_size);
  std::string patched = bytes.substr(0, 132);
  patched.append(4, '\0');
  put_u32(patched, 132, static_cast<uint32_t>(packed.size()));
  patched += packed + bytes.substr(136 + stored);
  put_file(dir + "/z.mat", patched);
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(dir + "/z.mat"); }),
                       "variable 1: 3959422984 bytes of dimensions"));
  // The fuzzer's own input: variable 2's dimensions' tag in the packed
  // form, 2048 bytes, inside a zlib stream whose checksum is wrong (matio
  // parsed it anyway and callocked 2.5 GB).
  const std::string found =
      std::string(IAI_SOURCE_DIR) +
      "/fuzz/regressions/mat-small-dims-tag-bad-adler.mat";
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(found); }),
                       "variable 2: dimensions in a packed tag (type 5, 2048 "
                       "bytes), which matio reads as unpacked"));
  // Another (found after 3,236,791 executions): variable 1's dimensions'
  // tag looks packed (type 5, 9 bytes) but matio takes its second word,
  // 0x4877d652, for the byte count and callocked 4.9 GB.
  const std::string second =
      std::string(IAI_SOURCE_DIR) +
      "/fuzz/regressions/mat-packed-dims-tag-second-word.mat";
  EXPECT_EQ(error_of([&] { read_omniglot_mat(second); }),
            "Omniglot file '" + second +
                "': variable 1: dimensions in a packed tag (type 5, 9 bytes), "
                "which matio reads as unpacked; the file is corrupt");
  // Another (after 21,054,821 executions; 188 bytes, big-endian): the
  // dimensions' tag is no miINT32, so matio reads the name's tag right
  // after it and mallocked its 1,567,258,368 bytes. Refused at the tag.
  const std::string untyped =
      std::string(IAI_SOURCE_DIR) +
      "/fuzz/regressions/mat-name-after-untyped-dims.mat";
  EXPECT_EQ(error_of([&] { read_svhn_mat(untyped); }),
            "SVHN file '" + untyped +
                "': variable 1: dimensions tagged as type 0, not miINT32 "
                "(5); the file is corrupt");
}

// matio's Mat_VarRead allocates what a variable's dimensions declare: a
// variable declaring more values than the file holds bytes (or, compressed,
// 1032 times its bytes: deflate's best) is one error before it allocates.
TEST(SvhnMat, VariablesDeclaringMoreValuesThanTheFileHoldsAreAnError) {
  const std::string dir = scratch_dir();
  const auto x = svhn_x(2);
  const std::vector<double> y = {1, 2};
  write_mat(dir + "/n.mat", {x_var(x, 2), y_var(y)});
  std::string bytes = file_bytes(dir + "/n.mat");
  // X's dimensions (int32 32, 32, 3, N) follow its tag (8 bytes at 128),
  // its array flags (16) and their own tag (8): N is at 128 + 32 + 12.
  ASSERT_EQ(bytes[172], 2);
  const uint32_t huge = 0x7fffffffu;
  std::memcpy(&bytes[172], &huge, 4);
  put_file(dir + "/n.mat", bytes);
  EXPECT_EQ(
      error_of([&] { read_svhn_mat(dir + "/n.mat"); }),
      "SVHN file '" + dir +
          "/n.mat': variable 'X' declares uint8 "
          "32x32x3x2147483647 (6597069763584 values), more than the file's " +
          std::to_string(bytes.size()) +
          " bytes hold (at least a byte a "
          "value); the file is truncated or corrupt");
  // The fuzzer's input (found after 347,563 executions): N = 4294967042 in
  // a 6,408-byte file, for which matio asked for 13 TB.
  const std::string found = std::string(IAI_SOURCE_DIR) +
                            "/fuzz/regressions/mat-v5-dims-past-the-file.mat";
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(found); }),
                       "variable 'X' declares uint8 32x32x3x4294967042 "
                       "(13194138753024 values), more than the file's 6408 "
                       "bytes hold"));
  // Compressed, 40 black images pack far tighter than a byte a value, and
  // still load.
  const std::vector<uint8_t> black(3072 * 40, 0);
  const std::vector<double> labels(40, 3.0);
  write_mat(dir + "/black.mat", {x_var(black, 40), y_var(labels)},
            /*compress=*/true);
  ASSERT_LT(fs::file_size(dir + "/black.mat") * 8, black.size());
  EXPECT_EQ(read_svhn_mat(dir + "/black.mat").images.size(0), 40);
}

// matio's header pass allocates a pointer per element of a cell array (or
// struct) before reading them: a cell array declaring more elements than
// its bytes could hold (8 each, a nested variable's tag) is one error.
TEST(SvhnMat, CellArraysDeclaringMoreElementsThanTheyHoldAreAnError) {
  const std::string dir = scratch_dir();
  const auto x = svhn_x(2);
  const std::vector<double> y = {1, 2};
  // A real file with a small cell array beside X and y still loads.
  mat_t* file =
      Mat_CreateVer((dir + "/cells.mat").c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(file, nullptr);
  size_t text_dims[2] = {1, 3};
  size_t cell_dims[2] = {1, 2};
  char text[] = "abc";
  matvar_t* cells[2];
  for (auto& c : cells) {
    c = Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UINT8, 2, text_dims, text, 0);
  }
  matvar_t* names =
      Mat_VarCreate("names", MAT_C_CELL, MAT_T_CELL, 2, cell_dims, cells, 0);
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(Mat_VarWrite(file, names, MAT_COMPRESSION_NONE), 0);
  Mat_VarFree(names);  // and the cells it holds
  ASSERT_EQ(Mat_Close(file), 0);
  write_mat(dir + "/xy.mat", {x_var(x, 2), y_var(y)});
  // Append X and y (their elements, after the 128-byte header).
  put_file(dir + "/cells.mat", file_bytes(dir + "/cells.mat") +
                                   file_bytes(dir + "/xy.mat").substr(128));
  EXPECT_EQ(read_svhn_mat(dir + "/cells.mat").images.size(0), 2);

  // X turned into a cell array (class byte 1 in its array flags, at 128 + 8
  // + 8) of 32x32x3x65536 elements in its 6,200 bytes.
  std::string bytes = file_bytes(dir + "/xy.mat");
  ASSERT_EQ(bytes[144], MAT_C_UINT8);
  bytes[144] = MAT_C_CELL;
  const uint32_t n = 65536;
  std::memcpy(&bytes[172], &n, 4);
  uint32_t element = 0;
  std::memcpy(&element, &bytes[132], 4);
  put_file(dir + "/cell.mat", bytes);
  EXPECT_EQ(error_of([&] { read_svhn_mat(dir + "/cell.mat"); }),
            "SVHN file '" + dir +
                "/cell.mat': variable 1 ('X'): a cell array of "
                "32x32x3x65536 (201326592 elements) in the " +
                // X's element less its array flags (16), dimensions (8 +
                // 16) and name (8: 'X' is packed into its tag).
                std::to_string(element - 48) +
                " bytes left of its element (at least 8 a nested "
                "element); the file is corrupt");
  // The fuzzer's input (found after 260,026 executions): 1056x1056x1998x2
  // cells, for which matio callocked 35 GB.
  const std::string found =
      std::string(IAI_SOURCE_DIR) +
      "/fuzz/regressions/mat-cell-count-past-the-variable.mat";
  EXPECT_TRUE(contains(error_of([&] { read_omniglot_mat(found); }),
                       "a cell array of 1056x1056x1998x2 (4456083456 "
                       "elements) in the 6152 bytes left of its element"));
}

// Not v5: matio reads the file as MAT v4 and allocated what a variable's
// header declared (found by fuzz/mat_fuzz.cpp: 2 GB and 26 s for a 567-byte
// file). A v4 variable that does not fit in the file is one error.
TEST(SvhnMat, MatV4VariablesLargerThanTheFileAreAnError) {
  const std::string dir = scratch_dir();
  auto v4 = [](uint32_t type, uint32_t rows, uint32_t columns,
               const std::string& payload) {
    std::string bytes(20, '\0');
    const uint32_t head[5] = {type, rows, columns, 0, 2};
    std::memcpy(bytes.data(), head, 20);
    return bytes + std::string("X\0", 2) + payload;
  };
  // A 2 x 1 uint8 (P = 5, type 50) matrix X that fits: matio reads it (and
  // iai then reports what is wrong with it as SVHN).
  put_file(dir + "/fits.mat", v4(50, 2, 1, "ab"));
  const std::string fits = error_of([&] { read_svhn_mat(dir + "/fits.mat"); });
  EXPECT_FALSE(contains(fits, "MAT v4")) << fits;
  // A double matrix of 1294027860 x 2 over 16 bytes.
  put_file(dir + "/big.mat", v4(0, 0x4D214C54u, 2, std::string(16, '\1')));
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(dir + "/big.mat"); }),
                       "MAT v4 variable 1 (at offset 0) has rows and columns "
                       "fields of 1294027860 x 2 (read little-endian, as its "
                       "type word 0 declares): 2588055720 values of 8 bytes, "
                       "more than the 16 bytes left after its name"));
}

// matio reads a v4 header's rows, columns and name length in the byte
// order its type word's thousands digit M declares (0 little-, 1
// big-endian), whichever order the type word itself is in; it mallocs the
// name length in Mat_Open. The fuzzer's 473-byte file (found after 392,344
// executions) has the type word 1 written big-endian, then a name-length
// field 00 00 00 6c: 108 bytes big-endian, 0x6c000000 (1.8 GB) as matio
// reads it. The check reads it as matio does.
TEST(SvhnMat, MatV4FieldsAreReadInTheByteOrderTheTypeWordDeclares) {
  const std::string dir = scratch_dir();
  auto be = [](uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    return std::string(b, 4);
  };
  auto le = [](uint32_t v) {
    return std::string(reinterpret_cast<char*>(&v), 4);
  };
  // Type 1 (M = 0: little-endian; a char matrix of doubles) written
  // big-endian, 2 x 1 with a 2-byte name, the rest little-endian: matio
  // reads it, so the check passes it.
  const std::string values(16, '\0');
  put_file(dir + "/mixed.mat",
           be(1) + le(2) + le(1) + le(0) + le(2) + "X" + '\0' + values);
  const std::string mixed =
      error_of([&] { read_svhn_mat(dir + "/mixed.mat"); });
  EXPECT_FALSE(contains(mixed, "MAT v4")) << mixed;
  EXPECT_TRUE(contains(mixed, "variable 'X' is char 2x1")) << mixed;
  // Type 1001 (M = 1: big-endian) written little-endian, the rest
  // big-endian: matio reads it too.
  put_file(dir + "/big-endian.mat",
           le(1001) + be(2) + be(1) + be(0) + be(2) + "X" + '\0' + values);
  const std::string big =
      error_of([&] { read_svhn_mat(dir + "/big-endian.mat"); });
  EXPECT_FALSE(contains(big, "MAT v4")) << big;
  // The finding's shape: type 1 big-endian, then every field big-endian,
  // which matio reads little-endian: a 2-byte name is 0x02000000 bytes.
  const std::string path = dir + "/swapped.mat";
  put_file(path, be(1) + be(2) + be(1) + be(0) + be(2) + "X" + '\0' + values);
  EXPECT_EQ(
      error_of([&] { read_svhn_mat(path); }),
      "SVHN file '" + path +
          "': truncated or corrupt: MAT v4 variable "
          "1 (at offset 0) has a name-length field of 33554432 bytes (read "
          "little-endian, as its type word 1 declares), more than the 18 "
          "bytes left in the file");
  // The fuzzer's own input, through both readers.
  const std::string found =
      std::string(IAI_SOURCE_DIR) +
      "/fuzz/regressions/mat4-name-length-little-endian.mat";
  const std::string field =
      "MAT v4 variable 1 (at offset 0) has a name-length field of 1811939328 "
      "bytes (read little-endian, as its type word 1 declares), more than "
      "the 453 bytes left in the file";
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(found); }), field));
  EXPECT_TRUE(contains(
      error_of([&] { read_omniglot_mat(found); }),
      "Omniglot file '" + found + "': truncated or corrupt: " + field));
  // A v5-style header ("IM") whose version is neither 0x0100 (v5) nor
  // 0x0200 (v7.3): matio reads the file as v4, and so does the check.
  std::string v3 = file_bytes(found);
  ASSERT_EQ(v3.size(), 473u);
  v3.replace(124, 4, std::string("\0\3IM", 4));
  put_file(dir + "/v3.mat", v3);
  EXPECT_TRUE(
      contains(error_of([&] { read_svhn_mat(dir + "/v3.mat"); }), field));
}

// ------------------------------------------ nested cells, structs, v7.3

// A v5 file whose first variable is `var` (freed here), then SVHN's X and
// y for two images: a valid SVHN file with `var` in front.
std::string svhn_file_after(const std::string& path, matvar_t* var,
                            bool compress) {
  mat_t* file = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  EXPECT_NE(file, nullptr) << path;
  EXPECT_EQ(
      Mat_VarWrite(file, var,
                   compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE),
      0);
  Mat_VarFree(var);
  EXPECT_EQ(Mat_Close(file), 0);
  const auto x = svhn_x(2);
  const std::vector<double> y = {1, 2};
  write_mat(path + ".xy", {x_var(x, 2), y_var(y)});
  std::string bytes = file_bytes(path) + file_bytes(path + ".xy").substr(128);
  put_file(path, bytes);
  return bytes;
}

// A 1 x n cell array of the given elements (taken over by the cell).
matvar_t* cell_of(const char* name, std::vector<matvar_t*> elements) {
  size_t dims[2] = {1, elements.size()};
  elements.push_back(nullptr);
  return Mat_VarCreate(name, MAT_C_CELL, MAT_T_CELL, 2, dims, elements.data(),
                       0);
}

matvar_t* text(const char* chars) {
  size_t dims[2] = {1, std::strlen(chars)};
  return Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UINT8, 2, dims,
                       const_cast<char*>(chars), 0);
}

uint32_t get_u32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, &bytes[at], 4);  // the files are little-endian
  return v;
}
void set_u32(std::string& bytes, size_t at, uint32_t v) {
  std::memcpy(&bytes[at], &v, 4);
}

// `bytes` with the miCOMPRESSED element at `at` inflated, edited and
// deflated again (so its checksum is right).
template <typename Edit>
std::string edit_compressed(const std::string& bytes, size_t at, Edit edit) {
  EXPECT_EQ(get_u32(bytes, at), 15u);  // miCOMPRESSED
  const uint32_t stored = get_u32(bytes, at + 4);
  std::string plain(1 << 20, '\0');
  uLongf plain_size = plain.size();
  EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(plain.data()), &plain_size,
                       reinterpret_cast<const Bytef*>(&bytes[at + 8]), stored),
            Z_OK);
  plain.resize(plain_size);
  edit(plain);
  std::string packed(compressBound(plain.size()), '\0');
  uLongf packed_size = packed.size();
  EXPECT_EQ(
      compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
               reinterpret_cast<const Bytef*>(plain.data()), plain.size()),
      Z_OK);
  packed.resize(packed_size);
  std::string out = bytes.substr(0, at + 4);
  out.append(4, '\0');
  set_u32(out, at + 4, static_cast<uint32_t>(packed.size()));
  return out + packed + bytes.substr(at + 8 + stored);
}

// matio's header pass (which finds X and y) walks into cell arrays and
// allocates a pointer per element of each nested one as its dimensions
// declare: a nested cell array declaring more elements than its bytes hold
// (8 each at least) is one error naming the variable and the element.
TEST(SvhnMat, NestedCellArraysDeclaringMoreThanTheyHoldAreAnError) {
  const std::string dir = scratch_dir();
  // names = {{'ab', 'cd'}}: the outer cell holds a 1x2 cell.
  const std::string path = dir + "/nested.mat";
  std::string bytes = svhn_file_after(
      path, cell_of("names", {cell_of(nullptr, {text("ab"), text("cd")})}),
      /*compress=*/false);
  EXPECT_EQ(read_svhn_mat(path).images.size(0), 2);
  // Variable 1 at 128: its tag (8), array flags (16), dimensions' tag and
  // 1x1 (16), the name's tag and "names" padded to 8 (16); then the inner
  // cell's tag at 184, its flags (16), its dimensions' tag at 208 and its
  // dimensions 1x2 at 216.
  ASSERT_EQ(get_u32(bytes, 184), 14u);  // miMATRIX
  ASSERT_EQ(get_u32(bytes, 208), 5u);   // miINT32
  ASSERT_EQ(get_u32(bytes, 220), 2u);
  const uint32_t inner = get_u32(bytes, 188);
  set_u32(bytes, 220, 100000);
  put_file(path, bytes);
  // What is left of the inner cell after its flags, dimensions and name.
  const uint32_t left = inner - 16 - 16 - 8;
  EXPECT_EQ(error_of([&] { read_svhn_mat(path); }),
            "SVHN file '" + path +
                "': variable 1 ('names'), element "
                "names{1}: a cell array of 1x100000 (100000 elements) in the " +
                std::to_string(left) +
                " bytes left of its element (at least "
                "8 a nested element); the file is corrupt");

  // The same inside a compressed variable (the inflated data starts with
  // the variable's own tag: the same offsets less 128).
  const std::string zpath = dir + "/nested-z.mat";
  std::string z = svhn_file_after(
      zpath, cell_of("names", {cell_of(nullptr, {text("ab"), text("cd")})}),
      /*compress=*/true);
  EXPECT_EQ(read_svhn_mat(zpath).images.size(0), 2);
  z = edit_compressed(z, 128, [](std::string& plain) {
    ASSERT_EQ(get_u32(plain, 220 - 128), 2u);
    set_u32(plain, 220 - 128, 100000);
  });
  put_file(zpath, z);
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(zpath); }),
                       "variable 1 ('names'), element names{1}: a cell array "
                       "of 1x100000 (100000 elements) in the " +
                           std::to_string(left) + " bytes left"));

  // A nested element larger than what is left of its parent.
  bytes = svhn_file_after(
      path, cell_of("names", {cell_of(nullptr, {text("ab"), text("cd")})}),
      false);
  set_u32(bytes, 188, 0x40000000u);
  put_file(path, bytes);
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(path); }),
                       "variable 1 ('names'), element names{1}: an element "
                       "of 1073741824 bytes in the " +
                           std::to_string(inner) +
                           " bytes left of its parent"));
}

// Elements of a cell must be miMATRIX elements that fill it exactly, as
// every writer nests them; matio would read on from wherever the elements
// it skipped left off.
TEST(SvhnMat, CellElementsOfAnotherTypeOrShortOfTheCellAreAnError) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/c.mat";
  auto make = [] { return cell_of("c", {text("ab")}); };
  // c's header (tag, flags, dimensions, name "c" packed) is 48 bytes: its
  // element's tag is at 176.
  std::string bytes = svhn_file_after(path, make(), false);
  ASSERT_EQ(get_u32(bytes, 176), 14u);
  set_u32(bytes, 176, 7);  // miSINGLE
  put_file(path, bytes);
  EXPECT_EQ(error_of([&] { read_svhn_mat(path); }),
            "SVHN file '" + path +
                "': variable 1 ('c'), element c{1}: an "
                "element of type 7, not miMATRIX (14); the file is corrupt");
  // The element 8 bytes shorter than its data (the cell 8 bytes longer).
  bytes = svhn_file_after(path, make(), false);
  set_u32(bytes, 180, get_u32(bytes, 180) - 8);
  put_file(path, bytes);
  EXPECT_EQ(error_of([&] { read_svhn_mat(path); }),
            "SVHN file '" + path +
                "': variable 1 ('c'): a cell whose "
                "elements end 8 bytes before it does; the file is corrupt");
}

// Cells nested deeper than 64 levels are refused (matio recurses a level
// at a time); 64 levels still load.
TEST(SvhnMat, CellsNestedTooDeepAreAnError) {
  const std::string dir = scratch_dir();
  auto nest = [](int levels) {
    matvar_t* var = text("x");
    for (int i = 0; i < levels; ++i) {
      var = cell_of(i + 1 == levels ? "deep" : nullptr, {var});
    }
    return var;
  };
  const std::string ok = dir + "/ok.mat";
  svhn_file_after(ok, nest(64), false);
  EXPECT_EQ(read_svhn_mat(ok).images.size(0), 2);
  const std::string deep = dir + "/deep.mat";
  svhn_file_after(deep, nest(66), false);
  std::string at = "deep";
  for (int i = 0; i < 65; ++i) at += "{1}";
  EXPECT_EQ(error_of([&] { read_svhn_mat(deep); }),
            "SVHN file '" + deep + "': variable 1 ('deep'), element " + at +
                ": cells and structs nested more than 64 deep; the file is "
                "corrupt");
}

// A struct's field names: matio allocates the number of fields (the names'
// byte count over the field-name length) times that length, then a
// pointer per field of each element. Both counts are checked against the
// bytes of the struct.
TEST(SvhnMat, StructFieldCountsPastTheStructAreAnError) {
  const std::string dir = scratch_dir();
  auto make = [] {
    const char* names[2] = {"a", "bc"};
    size_t dims[2] = {1, 1};
    matvar_t* s = Mat_VarCreateStruct("s", 2, dims, names, 2);
    Mat_VarSetStructFieldByName(s, "a", 0, text("one"));
    Mat_VarSetStructFieldByName(s, "bc", 0, text("two"));
    return s;
  };
  const std::string path = dir + "/struct.mat";
  std::string bytes = svhn_file_after(path, make(), false);
  EXPECT_EQ(read_svhn_mat(path).images.size(0), 2);
  // Variable 1 at 128: tag (8), flags (16), dimensions 1x1 (16), the name
  // "s" packed in its tag (8); then the field-name length, a packed
  // miINT32, at 176, and the names' tag (miINT8, bytes) at 184.
  ASSERT_EQ(get_u32(bytes, 176), 0x00040005u);
  const uint32_t length = get_u32(bytes, 180);
  ASSERT_EQ(get_u32(bytes, 184), 1u);
  ASSERT_EQ(get_u32(bytes, 188), 2 * length);
  const uint32_t element = get_u32(bytes, 132);
  // 2^31 - 8 bytes of names (a multiple of the length): 536870910 fields.
  set_u32(bytes, 188, 0x7ffffff8u);
  put_file(path, bytes);
  EXPECT_EQ(error_of([&] { read_svhn_mat(path); }),
            "SVHN file '" + path + "': variable 1 ('s'): a struct of " +
                std::to_string(0x7ffffff8u / length) + " fields of names " +
                std::to_string(length) +
                " bytes long (2147483640 bytes) in "
                "the " +
                std::to_string(element - 16 - 16 - 8 - 16) +
                " bytes left of its element; the file is corrupt");
  // A zero field-name length (matio divides by it).
  bytes = svhn_file_after(path, make(), false);
  set_u32(bytes, 180, 0);
  put_file(path, bytes);
  EXPECT_TRUE(contains(error_of([&] { read_svhn_mat(path); }),
                       "variable 1 ('s'): a struct whose field-name length "
                       "is tagged as type 5 with value 0"));

  // A struct array inside a cell: c = {s}, s then 1x100000, 2 fields.
  const std::string cpath = dir + "/cell-struct.mat";
  bytes = svhn_file_after(cpath, cell_of("c", {make()}), false);
  EXPECT_EQ(read_svhn_mat(cpath).images.size(0), 2);
  // c's header: tag, flags, dimensions, name "c" packed: 48 bytes, so s's
  // tag is at 176 and its dimensions 1x1 at 176 + 8 + 16 + 8.
  ASSERT_EQ(get_u32(bytes, 176), 14u);
  ASSERT_EQ(get_u32(bytes, 212), 1u);
  const uint32_t s_bytes = get_u32(bytes, 180);
  set_u32(bytes, 212, 100000);
  put_file(cpath, bytes);
  // s's bytes less its flags, dimensions, (empty) name tag, and the field
  // names' two tags and names (2 x length, padded to 8).
  const uint32_t names = (2 * length + 7) / 8 * 8;
  EXPECT_EQ(error_of([&] { read_svhn_mat(cpath); }),
            "SVHN file '" + cpath +
                "': variable 1 ('c'), element c{1}: a "
                "struct array of 1x100000 (100000 elements) with 2 fields "
                "(200000 values) in the " +
                std::to_string(s_bytes - 16 - 16 - 8 - 16 - names) +
                " bytes left of its element (at least 8 a value); the file "
                "is corrupt");
}

// matio reads a function handle's contents as variables of their own; no
// data set holds one, so a variable of that class is refused.
TEST(SvhnMat, FunctionHandlesAreRefused) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/f.mat";
  std::string bytes = svhn_file_after(path, cell_of("f", {text("ab")}), false);
  ASSERT_EQ(bytes[144], MAT_C_CELL);
  bytes[144] = MAT_C_FUNCTION;
  put_file(path, bytes);
  EXPECT_EQ(error_of([&] { read_svhn_mat(path); }),
            "SVHN file '" + path +
                "': variable 1 ('f') is a MATLAB function "
                "handle; iai reads arrays only (and matio's reader of function "
                "handles trusts the counts in the file)");
}

// This build's matio reads v7.3 (HDF5) files: X and y load from one. A
// dataset declaring more values than the file's bytes hold at deflate's
// best ratio is refused before matio allocates them (HDF5 itself, reading
// the file's structure, is not bounded here).
TEST(SvhnMat, V73FilesLoadAndTheirValueCountsAreBounded) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/v73.mat";
  const auto x = svhn_x(5);
  const std::vector<double> y = {1, 2, 3, 4, 10};
  mat_t* file = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT73);
  ASSERT_NE(file, nullptr) << "matio built without HDF5";
  for (const Var& v : {x_var(x, 5), y_var(y)}) {
    std::vector<size_t> dims = v.dims;
    matvar_t* var = Mat_VarCreate(v.name.c_str(), v.class_type, v.data_type,
                                  static_cast<int>(dims.size()), dims.data(),
                                  const_cast<void*>(v.data), 0);
    ASSERT_EQ(Mat_VarWrite(file, var, MAT_COMPRESSION_NONE), 0);
    Mat_VarFree(var);
  }
  ASSERT_EQ(Mat_Close(file), 0);
  const auto split = read_svhn_mat(path);
  ASSERT_EQ(split.images.size(0), 5);
  EXPECT_EQ(split.labels[4].item<int64_t>(), 0);
  EXPECT_EQ(split.images[3][0].item<int>(), svhn_pixel(0, 0, 0, 3));

  // HDF5 keeps X's dimensions reversed (5, 3, 32, 32) as 8-byte numbers in
  // its dataspace: N becomes 2^40.
  std::string bytes = file_bytes(path);
  std::string dims(32, '\0');
  const uint64_t want[4] = {5, 3, 32, 32};
  std::memcpy(dims.data(), want, 32);
  size_t at = bytes.find(dims);
  ASSERT_NE(at, std::string::npos);
  int patched = 0;
  for (; at != std::string::npos; at = bytes.find(dims, at + 1), ++patched) {
    const uint64_t n = uint64_t{1} << 40;
    std::memcpy(&bytes[at], &n, 8);
  }
  put_file(path, bytes);
  const std::string error = error_of([&] { read_svhn_mat(path); });
  EXPECT_TRUE(contains(error,
                       "variable 'X' declares uint8 32x32x3x1099511627776 "
                       "(3377699720527872 values), more than the file's " +
                           std::to_string(bytes.size()) +
                           " bytes hold compressed"))
      << error << " (" << patched << " places patched)";
}

}  // namespace
