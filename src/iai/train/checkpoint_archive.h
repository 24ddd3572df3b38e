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
/// checkpoint `path`) is no zip LibTorch can read, when one of the records
/// other than tensor data that LibTorch's loader reads (code, pickles,
/// version) has no single entry in the zip directory or does not match the
/// CRC-32 stored there, or when a TorchScript class that its pickles or
/// code use has no record defining it. A checkpoint iai wrote always
/// passes: LibTorch writes each record once, with its CRC-32, and a record
/// for every class it uses. Only the small records are read: the check
/// costs no more than a few kB of reading and hashing, whatever the model.
///
/// Not covered: an archive crafted with matching CRC-32s around broken
/// TorchScript source still aborts inside LibTorch (fuzz/open-findings/).
void check_checkpoint_archive(const std::string& archive,
                              const std::string& path);

}  // namespace iai::train
