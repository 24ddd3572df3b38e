#pragma once
// This process's share of a batch spread over several processes, so that
// every example gets the same random numbers whatever the number of
// processes: while a shard is set, the code that draws per-example noise
// (binarisation, dequantisation, the reparameterised samples) draws it for
// the whole global batch from the shared seeded generator and keeps its own
// rows. Every process thus advances the generator identically, and an
// example's noise is the one a single process would draw for it.

#include <torch/types.h>

#include <cstdint>

namespace iai {

struct BatchShard {
  int64_t offset = 0;       // first global row of this process's rows
  int64_t rows = 0;         // this process's rows
  int64_t global_rows = 0;  // the whole batch's (0 = no shard set)
  bool active() const { return global_rows > 0; }
};

/// Rank `rank` of `world` processes' share of a batch of `global_rows`
/// rows: consecutive rows, the shares differing by at most one row.
BatchShard share_of(int64_t global_rows, int rank, int world);

/// The shard set on this thread (inactive by default).
const BatchShard& current_batch_shard();

/// Sets a shard for its lifetime (the training step of one batch).
class ScopedBatchShard {
 public:
  explicit ScopedBatchShard(const BatchShard& shard);
  ~ScopedBatchShard();
  ScopedBatchShard(const ScopedBatchShard&) = delete;
  ScopedBatchShard& operator=(const ScopedBatchShard&) = delete;

 private:
  BatchShard previous_;
};

/// Rows to draw noise for when this process holds `local_rows` rows of the
/// batch: the global batch's while a shard is set, else local_rows.
int64_t rows_to_draw(int64_t local_rows);

/// This process's rows (along `dim`) of noise drawn for rows_to_draw rows.
torch::Tensor own_rows(const torch::Tensor& drawn, int64_t dim);

/// `local` (local_rows along dim 0) placed at this process's rows of a
/// zero tensor of the global batch's rows (itself when no shard is set):
/// element-wise draws over it consume the generator as the global batch's.
torch::Tensor padded_to_global(const torch::Tensor& local);

}  // namespace iai
