#include "iai/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <vector>

#include "iai/core/error.h"

namespace iai::data {
namespace {

constexpr int kUnsignedByte = 0x08;
constexpr int kMaxDims = 4;
// gzread and gzwrite take an unsigned int length; large payloads go in chunks.
constexpr size_t kChunk = size_t{1} << 24;
// The first read of the payload; later reads double it, up to kChunk.
constexpr size_t kFirstRead = size_t{1} << 16;

struct GzClose {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzClose>;

std::string hex(uint64_t value, int digits) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%0*llX", digits,
                static_cast<unsigned long long>(value));
  return buffer;
}

const char* type_name(int code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown type";
  }
}

// zlib prefixes its messages with the path, which our messages already name.
std::string gz_error_text(gzFile file, const std::string& path) {
  int code = Z_OK;
  const char* text = gzerror(file, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  std::string message = text ? text : "unknown zlib error";
  const std::string prefix = path + ": ";
  if (message.compare(0, prefix.size(), prefix) == 0) {
    message.erase(0, prefix.size());
  }
  return message;
}

// Reads up to `size` bytes, fewer only at the end of the (decompressed) data.
size_t read_some(gzFile file, uint8_t* out, size_t size,
                 const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const auto want = static_cast<unsigned>(std::min(size - done, kChunk));
    const int got = gzread(file, out + done, want);
    IAI_CHECK(got >= 0, "IDX file '", path,
              "': read failed: ", gz_error_text(file, path),
              " (is the file corrupt?)");
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += "x";
    text += std::to_string(dims[i]);
  }
  return text;
}

}  // namespace

namespace {

/// The 4-byte magic number: unsigned-byte data and 1 to kMaxDims
/// dimensions; returns their count.
int read_magic(gzFile in, const std::string& path) {
  std::array<uint8_t, 4> magic{};
  const size_t magic_read = read_some(in, magic.data(), magic.size(), path);
  IAI_CHECK(magic_read > 0, "IDX file '", path,
            "': the file is empty; expected an IDX header");
  IAI_CHECK(magic_read == magic.size(), "IDX file '", path,
            "': truncated: the file ends after ", magic_read,
            " bytes, inside the 4-byte magic number");
  const uint64_t magic_value = (uint64_t{magic[0]} << 24) |
                               (uint64_t{magic[1]} << 16) |
                               (uint64_t{magic[2]} << 8) | magic[3];
  IAI_CHECK(magic[0] == 0 && magic[1] == 0, "IDX file '", path,
            "': bad magic number ", hex(magic_value, 8),
            " (expected 0x0000080N for unsigned-byte data); is this an IDX "
            "file?");
  const int type = magic[2];
  IAI_CHECK(type == kUnsignedByte, "IDX file '", path,
            "': unsupported data type code ", hex(type, 2), " (",
            type_name(type), ") in magic number ", hex(magic_value, 8),
            "; only 0x08 (unsigned byte) is supported");
  const int ndims = magic[3];
  IAI_CHECK(ndims >= 1 && ndims <= kMaxDims, "IDX file '", path,
            "': bad dimension count ", ndims, " in magic number ",
            hex(magic_value, 8), " (expected 1 to ", kMaxDims, ")");

  return ndims;
}

/// The header's dimensions, each a big-endian uint32, each positive, their
/// product within int64_t.
std::vector<int64_t> read_dims(gzFile in, int ndims, const std::string& path) {
  // Each dimension is a big-endian uint32.
  std::array<uint8_t, 4 * kMaxDims> raw_dims{};
  const size_t dims_bytes = 4 * static_cast<size_t>(ndims);
  const size_t dims_read = read_some(in, raw_dims.data(), dims_bytes, path);
  IAI_CHECK(dims_read == dims_bytes, "IDX file '", path,
            "': truncated: the header declares ", ndims, " dimensions (",
            dims_bytes, " bytes of sizes) but the file ends after ", dims_read,
            " of them");
  std::vector<int64_t> dims(ndims);
  int64_t expected = 1;
  for (int i = 0; i < ndims; ++i) {
    const uint8_t* b = raw_dims.data() + 4 * i;
    const int64_t dim = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) |
                        (int64_t{b[2]} << 8) | int64_t{b[3]};
    IAI_CHECK(dim > 0, "IDX file '", path, "': dimension ", i + 1, " of ",
              ndims, " is 0; every dimension must be positive");
    IAI_CHECK(expected <= std::numeric_limits<int64_t>::max() / dim,
              "IDX file '", path,
              "': the header's dimensions are too large "
              "to be real; the header is corrupt");
    dims[i] = dim;
    expected *= dim;
  }
  return dims;
}

/// Where an IDX file's data lies: its shape, its byte count (the product of
/// the dimensions, checked by read_dims), the header before it, and the
/// messages' note on a gzip file.
struct Layout {
  std::vector<int64_t> dims;
  size_t wanted;
  size_t header_bytes;
  const char* after;
};

/// The data the dimensions declare, read in growing chunks rather than one
/// allocation the header asks for.
std::unique_ptr<std::vector<uint8_t>> read_payload(gzFile in,
                                                   const Layout& layout,
                                                   const std::string& path) {
  const auto& [dims, wanted, header_bytes, after] = layout;
  // Grow the buffer as data arrives rather than trusting the header with one
  // huge allocation: a corrupt header must give an error, not bad_alloc.
  // Doubling from 64 KiB: a header claiming gigabytes over a few bytes of
  // data costs a 64 KiB buffer, not a 16 MiB zero-filled one (which held
  // the IDX fuzzer to ~150 inputs a second).
  auto payload = std::make_unique<std::vector<uint8_t>>();
  while (payload->size() < wanted) {
    const size_t old = payload->size();
    const size_t step =
        std::min({wanted - old, std::max(old, kFirstRead), kChunk});
    payload->resize(old + step);
    const size_t got = read_some(in, payload->data() + old, step, path);
    payload->resize(old + got);
    if (got < step) break;
  }
  IAI_CHECK(payload->size() == wanted, "IDX file '", path,
            "': truncated: expected ", wanted, " bytes of data (",
            shape_text(dims), ") after the ", header_bytes,
            "-byte header, found ", payload->size(), after);
  return payload;
}

/// Nothing after the data, and a gzip stream that ends where it should.
void check_nothing_follows(gzFile in, const Layout& layout,
                           const std::string& path) {
  const auto& [dims, wanted, header_bytes, after] = layout;
  std::vector<uint8_t> scratch(1 << 16);
  size_t extra = 0;
  while (size_t got = read_some(in, scratch.data(), scratch.size(), path)) {
    extra += got;
  }
  IAI_CHECK(extra == 0, "IDX file '", path, "': ", extra,
            " trailing bytes after the expected ", wanted, " bytes of data (",
            shape_text(dims), ") and ", header_bytes, "-byte header", after,
            "; the header does not match the data");
  // zlib reports a gzip stream cut short as a soft end of file.
  int code = Z_OK;
  gzerror(in, &code);
  IAI_CHECK(code != Z_BUF_ERROR, "IDX file '", path,
            "': truncated: the gzip stream ends early (",
            gz_error_text(in, path), ")");
}

}  // namespace

torch::Tensor read_idx(const std::string& path) {
  // returns (d1,...,dk) uint8, k = 1..4, as the header declares
  std::error_code ec;
  IAI_CHECK(!std::filesystem::is_directory(path, ec), "cannot open IDX file '",
            path, "': it is a folder, not a file");
  errno = 0;
  GzHandle file(gzopen(path.c_str(), "rb"));
  IAI_CHECK(file, "cannot open IDX file '", path,
            "': ", errno ? std::strerror(errno) : "unknown error");
  gzFile in = file.get();
  const int ndims = read_magic(in, path);
  Layout layout;
  layout.dims = read_dims(in, ndims, path);
  layout.wanted = static_cast<size_t>(std::accumulate(
      layout.dims.begin(), layout.dims.end(), int64_t{1}, std::multiplies<>()));
  layout.header_bytes = 4 + 4 * static_cast<size_t>(ndims);
  layout.after = gzdirect(in) ? "" : " (after gzip decompression)";
  auto payload = read_payload(in, layout, path);
  check_nothing_follows(in, layout, path);
  auto* owner = payload.release();
  return torch::from_blob(
      owner->data(), layout.dims, [owner](void*) { delete owner; },
      torch::kByte);
}

void write_idx(const std::string& path, const torch::Tensor& data, bool gzip) {
  // data is any 1-4 dims, uint8
  IAI_CHECK(data.defined(), "cannot write IDX file '", path,
            "': the tensor is undefined");
  IAI_CHECK(data.scalar_type() == torch::kByte, "cannot write IDX file '", path,
            "': only uint8 data is supported, got ", data.scalar_type());
  IAI_CHECK(data.dim() >= 1 && data.dim() <= kMaxDims,
            "cannot write IDX file '", path, "': IDX holds 1 to ", kMaxDims,
            " dimensions, the tensor has ", data.dim());
  std::vector<uint8_t> header = {0, 0, kUnsignedByte,
                                 static_cast<uint8_t>(data.dim())};
  for (int64_t dim : data.sizes()) {
    IAI_CHECK(dim > 0 && dim <= std::numeric_limits<uint32_t>::max(),
              "cannot write IDX file '", path, "': dimension size ", dim,
              " does not fit IDX (1 to 2^32-1)");
    for (int shift = 24; shift >= 0; shift -= 8) {
      header.push_back(static_cast<uint8_t>(dim >> shift));
    }
  }
  const torch::Tensor bytes = data.to(torch::kCPU).contiguous();

  errno = 0;
  // "T" writes the bytes as they are, without gzip framing.
  gzFile out = gzopen(path.c_str(), gzip ? "wb" : "wbT");
  IAI_CHECK(out, "cannot create IDX file '", path,
            "': ", errno ? std::strerror(errno) : "unknown error");
  auto write = [&](const uint8_t* p, size_t size) {
    for (size_t done = 0; done < size;) {
      const auto len = static_cast<unsigned>(std::min(size - done, kChunk));
      if (gzwrite(out, p + done, len) != static_cast<int>(len)) {
        const std::string why = gz_error_text(out, path);
        gzclose(out);
        throw Error(message("cannot write IDX file '", path, "': ", why));
      }
      done += len;
    }
  };
  write(header.data(), header.size());
  write(bytes.data_ptr<uint8_t>(), static_cast<size_t>(bytes.numel()));
  // Buffered data reaches the disk only here, so this can fail too.
  errno = 0;
  const int rc = gzclose(out);
  IAI_CHECK(rc == Z_OK, "cannot finish writing IDX file '", path,
            "': ", rc == Z_ERRNO && errno ? std::strerror(errno) : zError(rc));
}

}  // namespace iai::data
