#pragma once
// The bytes of a checkpoint on disk: a LibTorch archive behind a small
// header holding its CRC-32, so a flipped or lost byte is an error naming the
// file, never silently wrong weights. Writes go to a temporary file that is
// renamed over the old one, and the old one is kept as `<name>.prev.pt`, so
// a process killed at any moment leaves a complete checkpoint behind.

#include <string>

namespace iai::train {

/// `dir/checkpoint.pt` -> `dir/checkpoint.prev.pt`.
std::string previous_checkpoint_path(const std::string& path);

/// Writes `payload` with its checksum to `path` through `path`.tmp (flushed
/// to disk, then the folder after the rename), keeping the file it replaces
/// as previous_checkpoint_path(path). Throws iai::Error naming the file and
/// the reason (e.g. a full disk) on failure; `path` is then untouched and no
/// partial temporary file is left.
void write_checked_file(const std::string& path, const std::string& payload);

/// The payload of a file written by write_checked_file, checked against its
/// checksum; a file from before checksums (a bare LibTorch archive) is
/// returned as it is. Throws iai::Error naming the file when it is missing,
/// truncated, corrupted or not a checkpoint.
std::string read_checked_file(const std::string& path);

}  // namespace iai::train
