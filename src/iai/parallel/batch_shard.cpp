#include "iai/parallel/batch_shard.h"

#include "iai/core/error.h"

namespace iai {

namespace {
thread_local BatchShard shard;
}

BatchShard share_of(int64_t global_rows, int rank, int world) {
  const int64_t begin = global_rows * rank / world;
  const int64_t end = global_rows * (rank + 1) / world;
  return {begin, end - begin, global_rows};
}

const BatchShard& current_batch_shard() {
  return shard;
}

ScopedBatchShard::ScopedBatchShard(const BatchShard& s) : previous_(shard) {
  shard = s;
}
ScopedBatchShard::~ScopedBatchShard() {
  shard = previous_;
}

int64_t rows_to_draw(int64_t local_rows) {
  if (!shard.active()) return local_rows;
  IAI_CHECK(local_rows == shard.rows, "internal: noise drawn for ", local_rows,
            " rows inside a batch shard of ", shard.rows);
  return shard.global_rows;
}

torch::Tensor own_rows(const torch::Tensor& drawn, int64_t dim) {
  if (!shard.active()) return drawn;
  return drawn.narrow(dim, shard.offset, shard.rows);
}

torch::Tensor padded_to_global(const torch::Tensor& local) {
  const int64_t rows = rows_to_draw(local.size(0));
  if (rows == local.size(0)) return local;
  std::vector<int64_t> shape = local.sizes().vec();
  shape[0] = rows;
  torch::Tensor global = torch::zeros(shape, local.options());
  global.narrow(0, shard.offset, shard.rows).copy_(local);
  return global;
}

}  // namespace iai
