#pragma once
// The run folder (--out), checked before any data is loaded or any step is
// taken: a path that is a file, a folder that cannot be created or written
// to is one clear error at the start, not a failure at the first checkpoint
// after an epoch of work.

#include <string>

namespace iai::train {

/// Creates `out` (and its parents) when missing and checks that a file can
/// be created, written and removed in it. Returns whether it created the
/// folder. Throws iai::Error naming `out` and the reason.
bool prepare_run_folder(const std::string& out);

/// The same check for an existing run folder (a resume).
void check_run_folder_writable(const std::string& dir);

}  // namespace iai::train
