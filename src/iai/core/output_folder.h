#pragma once
// An output folder (a command's --out), checked before any work and without
// creating anything: a file in the way or a folder that cannot be written
// is one clear error at the start, not after the computing, and a command
// that fails leaves no folder behind.

#include <string>

namespace iai {

/// Throws iai::Error (one line naming `flag` and the path) unless folder
/// `dir` can hold the command's files: no file in the way on its path, and
/// it, or where it will be made (its nearest existing ancestor), takes a
/// file (a real write: root passes every permission check).
void check_output_folder(const std::string& dir, const std::string& flag);

}  // namespace iai
