// What CudaGraph needs on any LibTorch (the capture itself lives in
// cuda_graph_cuda.cpp or cuda_graph_none.cpp).
#include "iai/core/cuda_graph.h"

#include "iai/core/test_hooks.h"

namespace iai {

const char* CudaGraph::why_not(const c10::Device& device) {
  if (!device.is_cuda()) return "not on a GPU";
  if (!available()) return "this LibTorch has no CUDA";
  if (host_noise_for_tests()) return "IAI_TEST_HOST_NOISE is set";
  return nullptr;
}

}  // namespace iai
