#pragma once
// Thread control. Debian's LibTorch runs its GEMMs on OpenBLAS (OpenMP build);
// the thread count is set explicitly, never left to the environment's guess.

namespace iai {

/// Sets the intra-op thread count (OpenMP, hence OpenBLAS too). `threads` = 0
/// means one per hardware core. Returns the count in force afterwards.
int set_threads(int threads);

}  // namespace iai
