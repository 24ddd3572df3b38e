#pragma once
// The row loop of iai's own kernels (nn/elu.cpp, nn/highway.cpp,
// dist/bernoulli.cpp, cpu/magnitude.cpp) over LibTorch's threads.
//
// at::parallel_for is a header template: it splits its loop only in a file
// compiled with OpenMP (ATen/ParallelOpenMP.h tests _OPENMP) and runs it on
// one thread elsewhere. A file that includes this header belongs in
// IAI_PARALLEL_LOOP_SOURCES (src/CMakeLists.txt), which compiles it so.

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>

namespace iai {

/// f(row) for every row in [0, rows), about 32k floats (rows of `columns`
/// floats) a task: below that a second thread costs more than it brings.
template <typename F>
void for_each_row(int64_t rows, int64_t columns, const F& f) {
  const int64_t grain =
      std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(columns, 1));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) f(i);
  });
}

}  // namespace iai
