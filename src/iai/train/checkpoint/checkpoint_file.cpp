#include "iai/train/checkpoint/checkpoint_file.h"

#include "iai/core/error.h"
#include "iai/core/test_hooks.h"

#include <zlib.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace iai::train {

namespace fs = std::filesystem;

namespace {

// Layout: 8-byte magic, CRC-32 of the payload (4 bytes, little-endian),
// payload size (8 bytes, little-endian), payload. The size catches a
// truncated file before the checksum is even computed.
constexpr char kMagic[8] = {'I', 'A', 'I', 'C', 'K', 'P', 'T', '1'};
constexpr size_t kHeaderSize = 8 + 4 + 8;
// A bare LibTorch archive is a zip file.
constexpr char kZipMagic[4] = {'P', 'K', '\x03', '\x04'};

uint32_t crc_of(const std::string& bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* data = reinterpret_cast<const Bytef*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {  // crc32 takes a uInt length
    const uInt chunk = left > (1u << 30) ? (1u << 30) : uInt(left);
    crc = crc32(crc, data, chunk);
    data += chunk;
    left -= chunk;
  }
  return uint32_t(crc);
}

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(char((value >> (8 * i)) & 0xff));
}

uint64_t get_le(const std::string& in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= uint64_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return value;
}

/// "No space left on device" and the like, for a message.
std::string reason(int error) {
  return std::strerror(error);
}

/// Writes and flushes to disk, pausing half-way for the kill tests. On any
/// failure (a full disk, a file size limit, an I/O error) the partial file is
/// removed, so it neither holds the space nor looks like a checkpoint, and
/// the error names `shown` (the checkpoint the user knows) and the reason.
void write_file(const std::string& path, const std::string& shown,
                const std::string& header, const std::string& payload) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  IAI_CHECK(fd >= 0, "cannot write checkpoint '", shown, "' (to '", path,
            "'): ", reason(errno));
  auto fail = [&](const char* what) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    throw Error(message("cannot ", what, " checkpoint '", shown, "' (to '",
                        path, "'): ", reason(error),
                        "; the previous checkpoint, if any, is untouched"));
  };
  auto write_all = [&](const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      // write() returning 0 for a regular file: treat as out of space.
      if (n == 0) errno = ENOSPC;
      if (n <= 0) fail("write");
      data += n;
      size -= size_t(n);
    }
  };
  write_all(header.data(), header.size());
  const size_t half = payload.size() / 2;
  write_all(payload.data(), half);
  pause_in_write_for_tests();
  write_all(payload.data() + half, payload.size() - half);
  // Durable before the rename makes it the checkpoint (a power cut, not only
  // a killed process, must not leave a renamed but empty file). Delayed
  // allocation can report a full disk only here.
  if (::fsync(fd) != 0) fail("flush to disk");
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(path.c_str());
    throw Error(message("cannot write checkpoint '", shown, "' (to '", path,
                        "'): ", reason(error)));
  }
}

/// After a rename, the directory entry itself must reach the disk, or a
/// power cut can bring back the old name. File systems that cannot sync a
/// directory (EINVAL) have nothing to do.
void sync_directory_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  IAI_CHECK(fd >= 0, "cannot open folder '", dir.string(),
            "' to flush checkpoint '", path, "' to disk: ", reason(errno));
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  IAI_CHECK(synced == 0 || error == EINVAL, "cannot flush folder '",
            dir.string(), "' holding checkpoint '", path,
            "' to disk: ", reason(error));
}

}  // namespace

std::string previous_checkpoint_path(const std::string& path) {
  fs::path p(path);
  return (p.parent_path() /
          (p.stem().string() + ".prev" + p.extension().string()))
      .string();
}

void write_checked_file(const std::string& path, const std::string& payload) {
  std::string header(kMagic, sizeof kMagic);
  put_le(header, crc_of(payload), 4);
  put_le(header, payload.size(), 8);
  const std::string tmp = path + ".tmp";
  write_file(tmp, path, header, payload);
  pause_in_write_for_tests();

  std::error_code ec;
  if (fs::exists(path)) {
    // Keep the current checkpoint as the previous one without ever leaving
    // `path` missing: a hard link renamed over the old .prev (a copy where
    // the file system has no hard links).
    const std::string prev = previous_checkpoint_path(path);
    const std::string prev_tmp = prev + ".tmp";
    fs::remove(prev_tmp, ec);
    fs::create_hard_link(path, prev_tmp, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(path, prev_tmp, fs::copy_options::overwrite_existing, ec);
    }
    if (!ec) fs::rename(prev_tmp, prev, ec);
    if (ec) {
      // A full disk can stop the copy: free what was written, keep `path`.
      std::error_code ignored;
      fs::remove(prev_tmp, ignored);
      fs::remove(tmp, ignored);
      throw Error(message("cannot keep the previous checkpoint as '", prev,
                          "': ", ec.message(), "; checkpoint '", path,
                          "' is untouched"));
    }
  }
  fs::rename(tmp, path, ec);
  IAI_CHECK(!ec, "cannot move checkpoint '", tmp, "' to '", path,
            "': ", ec.message());
  sync_directory_of(path);
}

std::string read_checked_file(const std::string& path) {
  IAI_CHECK(fs::exists(path), "checkpoint '", path, "' does not exist");
  std::ifstream in(path, std::ios::binary);
  IAI_CHECK(in.good(), "cannot read checkpoint '", path, "'");
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  // Checkpoints from before checksums (format version 1) are bare LibTorch
  // archives: they still load, unchecked, as they always did.
  if (bytes.size() >= sizeof kZipMagic &&
      bytes.compare(0, sizeof kZipMagic, kZipMagic, sizeof kZipMagic) == 0) {
    return bytes;
  }
  IAI_CHECK(bytes.size() >= kHeaderSize &&
                bytes.compare(0, sizeof kMagic, kMagic, sizeof kMagic) == 0,
            "checkpoint '", path,
            "' is not an iai checkpoint (unknown header; corrupted or another "
            "kind of file)");
  const uint32_t stored_crc = uint32_t(get_le(bytes, 8, 4));
  const uint64_t size = get_le(bytes, 12, 8);
  IAI_CHECK(size == bytes.size() - kHeaderSize, "checkpoint '", path,
            "' is truncated or corrupted: its header promises ", size,
            " bytes of payload, the file holds ", bytes.size() - kHeaderSize);
  std::string payload = bytes.substr(kHeaderSize);
  const uint32_t crc = crc_of(payload);
  if (crc != stored_crc) {
    char detail[64];
    std::snprintf(detail, sizeof detail, "stored CRC-32 %08x, computed %08x",
                  stored_crc, crc);
    throw Error(message("checkpoint '", path,
                        "' is corrupted: its checksum does not match its "
                        "contents (",
                        detail, "); its weights cannot be trusted"));
  }
  return payload;
}

}  // namespace iai::train
