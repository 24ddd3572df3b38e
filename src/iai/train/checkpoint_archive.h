#pragma once
// A check of a checkpoint's LibTorch archive (a zip file) before LibTorch
// loads it. LibTorch 1.13's loader compiles the archive's TorchScript source
// records (code/...) and aborts the whole process (std::terminate, not an
// exception) on any error there: a syntax error, or a class whose record is
// missing. iai's own checksum stops a corrupted file, but a file rewritten
// with a correct checksum (fuzz/checkpoint_fuzz.cpp writes them) still
// reached it: one renamed record in the zip's central directory aborted it.

#include <string>

namespace iai::train {

/// Throws iai::Error naming `path` when `archive` (the LibTorch archive of
/// checkpoint `path`) is no zip LibTorch can read, when one of its records
/// other than tensor data (code, pickles, version) does not match the
/// CRC-32 its zip directory stores, or when a TorchScript class that its
/// pickles or code use has no record defining it. It refuses nothing that
/// LibTorch loads, given the zip CRC-32s LibTorch writes: a checkpoint iai
/// wrote always passes.
///
/// Not covered: an archive crafted with matching CRC-32s around broken
/// TorchScript source still aborts inside LibTorch (fuzz/open-findings/).
void check_checkpoint_archive(const std::string& archive,
                              const std::string& path);

}  // namespace iai::train
