// Tests of the IDX reader and writer: round trips, files built byte by byte
// in the real format, and each way a file can be broken.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "iai/core/error.h"
#include "iai/data/idx.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::data::read_idx;
using iai::data::write_idx;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::scratch_dir;
using Bytes = std::vector<uint8_t>;

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ASSERT_TRUE(out.good()) << path;
}

void write_gzip_bytes(const std::string& path, const Bytes& bytes) {
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr) << path;
  ASSERT_EQ(gzwrite(out, bytes.data(), bytes.size()),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(out), Z_OK);
}

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// (2,3,4) uint8 holding 0..23, each value distinct so order errors show.
torch::Tensor sample() {
  return torch::arange(24, torch::kByte).reshape({2, 3, 4});
}

TEST(ReadIdx, RoundTripPlain) {
  const std::string path = scratch_dir() + "/sample-idx3-ubyte";
  write_idx(path, sample(), /*gzip=*/false);
  const Bytes raw = read_bytes(path);
  ASSERT_EQ(raw.size(), 4u + 3 * 4 + 24);
  EXPECT_EQ(raw[0], 0);
  EXPECT_EQ(raw[2], 0x08);
  const torch::Tensor back = read_idx(path);
  EXPECT_EQ(back.scalar_type(), torch::kByte);
  EXPECT_EQ(back.sizes(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_TRUE(torch::equal(back, sample()));
}

TEST(ReadIdx, RoundTripGzip) {
  const std::string path = scratch_dir() + "/sample-idx3-ubyte.gz";
  write_idx(path, sample(), /*gzip=*/true);
  const Bytes raw = read_bytes(path);
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(raw[0], 0x1f);  // the gzip magic bytes
  EXPECT_EQ(raw[1], 0x8b);
  const torch::Tensor back = read_idx(path);
  EXPECT_EQ(back.scalar_type(), torch::kByte);
  EXPECT_EQ(back.sizes(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_TRUE(torch::equal(back, sample()));
}

TEST(ReadIdx, RoundTripOneAndFourDimensions) {
  const std::string dir = scratch_dir();
  const torch::Tensor one = torch::tensor({7, 0, 255}, torch::kByte);
  write_idx(dir + "/one", one, false);
  EXPECT_TRUE(torch::equal(read_idx(dir + "/one"), one));
  const torch::Tensor four =
      torch::arange(2 * 1 * 3 * 2, torch::kByte).reshape({2, 1, 3, 2});
  write_idx(dir + "/four.gz", four, true);
  const torch::Tensor back = read_idx(dir + "/four.gz");
  EXPECT_EQ(back.sizes(), (std::vector<int64_t>{2, 1, 3, 2}));
  EXPECT_TRUE(torch::equal(back, four));
}

TEST(ReadIdx, WriteTakesNonContiguousInput) {
  const std::string path = scratch_dir() + "/t";
  const torch::Tensor t = torch::arange(6, torch::kByte).reshape({2, 3}).t();
  write_idx(path, t, false);
  EXPECT_TRUE(torch::equal(read_idx(path), t));
}

TEST(ReadIdx, ReadsHandWrittenFile) {
  const std::string path = scratch_dir() + "/hand-idx3-ubyte";
  // magic 0x00000803, dims 2, 2, 3, then 12 pixel bytes in row-major order.
  write_bytes(path, {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2,  0,  0,
                     0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 200});
  const torch::Tensor t = read_idx(path);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(t.scalar_type(), torch::kByte);
  EXPECT_EQ(t[0][0][0].item<int>(), 1);
  EXPECT_EQ(t[0][0][2].item<int>(), 3);
  EXPECT_EQ(t[0][1][0].item<int>(), 4);
  EXPECT_EQ(t[1][0][0].item<int>(), 7);
  EXPECT_EQ(t[1][1][2].item<int>(), 200);
}

TEST(ReadIdx, DimensionSizesAreBigEndian) {
  // 0x00000102 = 258 elements: a little-endian reader would see 0x02010000.
  Bytes bytes = {0, 0, 8, 1, 0, 0, 1, 2};
  for (int i = 0; i < 258; ++i) bytes.push_back(static_cast<uint8_t>(i));
  const std::string path = scratch_dir() + "/labels-idx1-ubyte";
  write_bytes(path, bytes);
  const torch::Tensor t = read_idx(path);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{258}));
  EXPECT_EQ(t[257].item<int>(), 1);  // 257 mod 256
  EXPECT_EQ(t[200].item<int>(), 200);
}

TEST(ReadIdx, ReadsHandWrittenGzipFile) {
  const std::string path = scratch_dir() + "/hand-idx1-ubyte.gz";
  write_gzip_bytes(path, {0, 0, 8, 1, 0, 0, 0, 4, 9, 8, 7, 6});
  const torch::Tensor t = read_idx(path);
  EXPECT_TRUE(torch::equal(t, torch::tensor({9, 8, 7, 6}, torch::kByte)));
}

TEST(ReadIdx, TruncatedPayload) {
  const std::string path = scratch_dir() + "/short-idx2-ubyte";
  write_bytes(path, {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4});
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, "'" + path + "'"));
  EXPECT_TRUE(contains(msg, "truncated"));
  EXPECT_TRUE(contains(msg, "expected 6 bytes"));
  EXPECT_TRUE(contains(msg, "found 4"));
}

TEST(ReadIdx, TruncatedGzipPayload) {
  const std::string path = scratch_dir() + "/short.gz";
  write_gzip_bytes(path, {0, 0, 8, 1, 0, 0, 0, 9, 1, 2, 3});
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, path));
  EXPECT_TRUE(contains(msg, "expected 9 bytes"));
  EXPECT_TRUE(contains(msg, "found 3"));
}

TEST(ReadIdx, CutGzipStream) {
  const std::string dir = scratch_dir();
  const torch::Tensor big = torch::randint(0, 256, {50, 28, 28}, torch::kByte);
  write_idx(dir + "/full.gz", big, true);
  Bytes raw = read_bytes(dir + "/full.gz");
  // Cut inside the compressed data, near its start and in its middle. (zlib
  // does not flag a stream cut only in its 8-byte CRC trailer, and then all
  // data is there, so that case is not tested.)
  for (size_t keep : {size_t{30}, raw.size() / 2}) {
    const std::string path = dir + "/cut" + std::to_string(keep) + ".gz";
    write_bytes(path, Bytes(raw.begin(), raw.begin() + keep));
    const std::string msg = error_of([&] { read_idx(path); });
    EXPECT_TRUE(contains(msg, path));
    EXPECT_TRUE(contains(msg, "truncated"));
  }
}

TEST(ReadIdx, TruncatedHeader) {
  const std::string dir = scratch_dir();
  write_bytes(dir + "/a", {0, 0, 8, 2, 0, 0, 0, 2, 0, 0});
  std::string msg = error_of([&] { read_idx(dir + "/a"); });
  EXPECT_TRUE(contains(msg, dir + "/a"));
  EXPECT_TRUE(contains(msg, "truncated"));
  write_bytes(dir + "/b", {0, 0});
  msg = error_of([&] { read_idx(dir + "/b"); });
  EXPECT_TRUE(contains(msg, dir + "/b"));
  EXPECT_TRUE(contains(msg, "magic number"));
}

TEST(ReadIdx, EmptyFile) {
  const std::string path = scratch_dir() + "/empty";
  write_bytes(path, {});
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, path));
  EXPECT_TRUE(contains(msg, "empty"));
}

TEST(ReadIdx, WrongMagic) {
  const std::string path = scratch_dir() + "/notidx.png";
  write_bytes(path, {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 5});
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, path));
  EXPECT_TRUE(contains(msg, "bad magic number 0x12345678"));
  EXPECT_TRUE(contains(msg, "is this an IDX file?"));
}

TEST(ReadIdx, WrongTypeCode) {
  const std::string path = scratch_dir() + "/float-idx1";
  write_bytes(path, {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0x80, 0x3f});
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, path));
  EXPECT_TRUE(contains(msg, "type code 0x0D"));
  EXPECT_TRUE(contains(msg, "float32"));
  EXPECT_TRUE(contains(msg, "only 0x08"));
}

TEST(ReadIdx, BadDimensionCount) {
  const std::string dir = scratch_dir();
  write_bytes(dir + "/zero", {0, 0, 8, 0, 1});
  std::string msg = error_of([&] { read_idx(dir + "/zero"); });
  EXPECT_TRUE(contains(msg, dir + "/zero"));
  EXPECT_TRUE(contains(msg, "dimension count 0"));
  write_bytes(dir + "/five", {0, 0, 8, 5, 0, 0, 0, 1, 0, 0, 0, 1, 0,
                              0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7});
  msg = error_of([&] { read_idx(dir + "/five"); });
  EXPECT_TRUE(contains(msg, dir + "/five"));
  EXPECT_TRUE(contains(msg, "dimension count 5"));
}

TEST(ReadIdx, ZeroDimension) {
  const std::string path = scratch_dir() + "/zero-dim";
  write_bytes(path, {0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 0});
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, path));
  EXPECT_TRUE(contains(msg, "dimension 2 of 2 is 0"));
}

TEST(ReadIdx, TrailingBytes) {
  const std::string dir = scratch_dir();
  const Bytes bytes = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3, 4, 5};
  write_bytes(dir + "/plain", bytes);
  std::string msg = error_of([&] { read_idx(dir + "/plain"); });
  EXPECT_TRUE(contains(msg, dir + "/plain"));
  EXPECT_TRUE(contains(msg, "2 trailing bytes"));
  write_gzip_bytes(dir + "/packed.gz", bytes);
  msg = error_of([&] { read_idx(dir + "/packed.gz"); });
  EXPECT_TRUE(contains(msg, dir + "/packed.gz"));
  EXPECT_TRUE(contains(msg, "2 trailing bytes"));
}

TEST(ReadIdx, HugeHeaderGivesErrorNotBadAlloc) {
  // 4 dims of 0xFFFFFFFF: no allocation may trust this.
  const std::string path = scratch_dir() + "/huge";
  Bytes bytes = {0, 0, 8, 4};
  for (int i = 0; i < 16; ++i) bytes.push_back(0xFF);
  bytes.push_back(1);
  write_bytes(path, bytes);
  EXPECT_TRUE(contains(error_of([&] { read_idx(path); }), path));
  // 2^31 bytes declared, 1 present: reports truncation without allocating.
  write_bytes(path, {0, 0, 8, 1, 0x80, 0, 0, 0, 1});
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, "expected 2147483648 bytes"));
  EXPECT_TRUE(contains(msg, "found 1"));
}

TEST(ReadIdx, MissingFile) {
  const std::string path = scratch_dir() + "/no-such-file";
  const std::string msg = error_of([&] { read_idx(path); });
  EXPECT_TRUE(contains(msg, "cannot open IDX file '" + path + "'"));
  EXPECT_TRUE(contains(msg, "No such file or directory"));
}

TEST(ReadIdx, FolderIsNotAFile) {
  const std::string dir = scratch_dir();
  const std::string msg = error_of([&] { read_idx(dir); });
  EXPECT_TRUE(contains(msg, dir));
  EXPECT_TRUE(contains(msg, "folder"));
}

TEST(WriteIdx, RejectsWhatIdxCannotHold) {
  const std::string path = scratch_dir() + "/out";
  std::string msg = error_of([&] {
    write_idx(path, torch::zeros({2, 2}), false);
  });
  EXPECT_TRUE(contains(msg, path));
  EXPECT_TRUE(contains(msg, "uint8"));
  msg = error_of([&] {
    write_idx(path, torch::zeros({1, 1, 1, 1, 1}, torch::kByte), false);
  });
  EXPECT_TRUE(contains(msg, "1 to 4 dimensions"));
  msg =
      error_of([&] { write_idx(path, torch::zeros({}, torch::kByte), false); });
  EXPECT_TRUE(contains(msg, "1 to 4 dimensions"));
  msg = error_of([&] {
    write_idx(path, torch::zeros({3, 0}, torch::kByte), false);
  });
  EXPECT_TRUE(contains(msg, "dimension size 0"));
}

TEST(WriteIdx, UnwritablePath) {
  const std::string path = scratch_dir() + "/missing-folder/out";
  const std::string msg = error_of([&] { write_idx(path, sample(), true); });
  EXPECT_TRUE(contains(msg, "cannot create IDX file '" + path + "'"));
  EXPECT_TRUE(contains(msg, "No such file or directory"));
}

}  // namespace
