#pragma once
// Reading and writing IDX files, the format MNIST and its relatives ship in:
// a 4-byte magic number (two zero bytes, a type code, a dimension count), one
// big-endian uint32 per dimension, then the data in row-major order.

#include <torch/types.h>

#include <string>

namespace iai::data {

/// Reads an IDX file of unsigned bytes (type code 0x08), plain or
/// gzip-compressed (detected from the content, not the name), into a uint8
/// tensor with the file's 1 to 4 dimensions.
///
/// Throws iai::Error naming the file when it cannot be opened, is not an IDX
/// file, holds another data type, has a zero dimension, or its payload is
/// shorter or longer than its header says.
torch::Tensor read_idx(const std::string& path);

/// Writes `data`, a uint8 tensor of 1 to 4 non-zero dimensions, as an IDX
/// file at `path`: gzip-compressed when `gzip` is true, plain otherwise.
/// Throws iai::Error naming the file when it cannot be written.
void write_idx(const std::string& path, const torch::Tensor& data, bool gzip);

}  // namespace iai::data
