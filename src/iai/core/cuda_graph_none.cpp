// CudaGraph on a LibTorch without CUDA: nothing can be captured.
#include "iai/core/cuda_graph.h"

#include "iai/core/error.h"

namespace iai {

struct CudaGraph::Impl {};

bool CudaGraph::available() {
  return false;
}
CudaGraph::CudaGraph() = default;
CudaGraph::~CudaGraph() = default;

void CudaGraph::capture(const std::function<void()>&, const c10::Device&) {
  throw Error("CUDA graphs need a LibTorch built with CUDA");
}

void CudaGraph::replay() {
  throw Error("internal: CudaGraph::replay without a CUDA LibTorch");
}

bool CudaGraph::captured() const {
  return false;
}

}  // namespace iai
