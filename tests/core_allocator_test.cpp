// keep_freed_memory: a step's multi-megabyte tensors come from the heap, not
// from mmap blocks that go back to the kernel when freed.

#include "iai/cpu/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

#if defined(__GLIBC__)
TEST(Allocator, StepSizedBlocksComeFromTheHeap) {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("GLIBC_TUNABLES")) {
    GTEST_SKIP() << "the environment sets the allocator's thresholds";
  }
  iai::keep_freed_memory();
  const size_t before = mallinfo2().hblkhd;  // bytes in mmap'ed blocks
  // A 640 x 784 float tensor (the MNIST decoder's output at S = 10) and a
  // 16 MiB one: both under the 32 MiB threshold.
  for (size_t bytes : {size_t{640 * 784 * 4}, size_t{16} << 20}) {
    void* p = std::malloc(bytes);
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, bytes);
    EXPECT_EQ(mallinfo2().hblkhd, before) << bytes << " bytes were mmap'ed";
    std::free(p);
  }
}
#endif

}  // namespace
