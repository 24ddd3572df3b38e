#pragma once
// How freed memory is kept. A training step allocates and frees the same
// tensors, megabytes each, every step; glibc hands blocks above its mmap
// threshold back to the kernel when they are freed, and the next step's
// first touch of every page is then a page fault and the kernel zeroing it.
// On the paper's standard MNIST step (1 thread) that was a quarter of the
// step: 13.9-14.7 ms against 10.9-11.6 ms with the settings below.

namespace iai {

/// Blocks up to 32 MiB (glibc's largest mmap threshold) come from the heap,
/// and up to 1 GiB of freed memory at the heap's top stays with the process
/// for the next step. Called once at the start of main (the CLI, the
/// benchmarks); a no-op where the C library is not glibc. The environment's
/// own choice (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or
/// GLIBC_TUNABLES) is left alone.
void keep_freed_memory();

}  // namespace iai
