#pragma once
// A check of a checkpoint's LibTorch archive (a zip file) before LibTorch
// loads it, for what a file rewritten with a correct iai checksum (only a
// crafted one; fuzz/checkpoint_fuzz.cpp writes them) can still hold.
// LibTorch 1.13 checks no zip CRC-32, so a changed code or pickle record
// reaches its TorchScript importer and unpickler; it allocates the size a
// record's directory entry states before inflating it (2 GB for a 38 kB
// file); and a class record missing from the directory fails deep in the
// importer. Whatever LibTorch throws then is turned into iai::Error by
// checkpoint.cpp (its importer throws types other than c10::Error, which
// once escaped iai and ended the process); this check names the record.

#include <string>

namespace iai::train {

/// Throws iai::Error naming `path` when `archive` (the LibTorch archive of
/// checkpoint `path`) is no zip LibTorch can read, when one of the records
/// other than tensor data that LibTorch's loader reads (code, pickles,
/// version) has no single entry in the zip directory, states more bytes
/// than its compressed ones can hold, or does not match the CRC-32 stored
/// there, or when a TorchScript class that its pickles or
/// code use has no record defining it. A checkpoint iai wrote always
/// passes: LibTorch writes each record once, with its CRC-32, and a record
/// for every class it uses. Only the small records are read: the check
/// costs no more than a few kB of reading and hashing, whatever the model.
///
/// An archive crafted with matching CRC-32s around broken TorchScript
/// source passes; LibTorch's importer then reports it.
void check_checkpoint_archive(const std::string& archive,
                              const std::string& path);

}  // namespace iai::train
