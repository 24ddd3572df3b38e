// CudaGraph on a CUDA LibTorch: at::cuda::CUDAGraph, captured on a side
// stream as PyTorch's torch.cuda.graph does (a warm-up there first, the
// device synchronised around both).
#include "iai/core/cuda_graph.h"

#include "iai/core/error.h"

#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include <mutex>
#include <optional>
#include <string>

namespace iai {

struct CudaGraph::Impl {
  std::optional<at::cuda::CUDAGraph> graph;
  bool captured = false;
};

namespace {

/// The default generator's state on `device`, and setting it back.
at::Tensor generator_state(const c10::Device& device) {
  at::Generator gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_generator_state(const c10::Device& device, const at::Tensor& s) {
  at::Generator gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(s);
}

/// A c10::Error's message without LibTorch's backtrace.
std::string first_line(const char* what) {
  const std::string s = what;
  return s.substr(0, s.find('\n'));
}

/// After a failed capture: ends the stream's capture if it is still
/// capturing, so that the stream and the device stay usable.
void abandon_capture(cudaStream_t stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &status) == cudaSuccess &&
      status != cudaStreamCaptureStatusNone) {
    cudaGraph_t partial = nullptr;
    cudaStreamEndCapture(stream, &partial);
    if (partial != nullptr) cudaGraphDestroy(partial);
  }
  cudaGetLastError();  // clears the error the failed capture left
}

}  // namespace

bool CudaGraph::available() {
  return true;
}
CudaGraph::CudaGraph() : impl_(std::make_unique<Impl>()) {}
CudaGraph::~CudaGraph() = default;

void CudaGraph::capture(const std::function<void()>& work,
                        const c10::Device& device) {
  IAI_CHECK(device.is_cuda(), "internal: CUDA graph capture on ", device.str());
  IAI_CHECK(!impl_->captured, "internal: CudaGraph captured twice");
  c10::cuda::CUDAGuard device_guard(device);
  const at::Tensor rng = generator_state(device);
  at::cuda::CUDAStream side = at::cuda::getStreamFromPool(
      /*isHighPriority=*/false, device_guard.current_device().index());
  c10::cuda::device_synchronize();
  {
    c10::cuda::CUDAStreamGuard on_side(side);
    work();  // warm-up: cuBLAS handles, autograd's streams, workspaces
  }
  c10::cuda::device_synchronize();
  impl_->graph.emplace();
  try {
    c10::cuda::CUDAStreamGuard on_side(side);
    impl_->graph->capture_begin();
    work();
    impl_->graph->capture_end();
  } catch (const std::exception& e) {
    abandon_capture(side.stream());
    impl_->graph.reset();
    set_generator_state(device, rng);
    throw Error(message("CUDA graph capture failed: ", first_line(e.what())));
  }
  c10::cuda::device_synchronize();
  set_generator_state(device, rng);
  impl_->captured = true;
}

void CudaGraph::replay() {
  IAI_CHECK(impl_->captured, "internal: CudaGraph::replay before capture");
  impl_->graph->replay();
}

bool CudaGraph::captured() const {
  return impl_->captured;
}

}  // namespace iai
