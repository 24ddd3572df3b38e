#pragma once
// A CUDA graph of a piece of work with fixed shapes (docs/gpu.md): at
// the paper's sizes a training step is a few thousand small kernels, and on
// a GPU their launches, not their arithmetic, set its speed. Captured once,
// the whole step replays as one launch. The CUDA part lives in
// cuda_graph_cuda.cpp, built only against a CUDA LibTorch; elsewhere
// (cuda_graph_none.cpp) available() is false and capture() says why.

#include <c10/core/Device.h>

#include <functional>
#include <memory>

namespace iai {

class CudaGraph {
 public:
  /// True when this build's LibTorch has CUDA (graphs can be captured).
  static bool available();
  /// Why work on `device` cannot be captured ("not on a GPU", "this
  /// LibTorch has no CUDA", "IAI_TEST_HOST_NOISE is set": the tests' host
  /// noise, which a graph would not redraw), or nullptr when it can.
  static const char* why_not(const c10::Device& device);

  CudaGraph();
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  /// Runs `work` once on a side stream of `device` (the warm-up that makes
  /// the libraries' lazy set-up happen outside the graph), then captures a
  /// second call of it. Tensors the capture allocates stay valid, holding
  /// each replay's results. The default generator's state on `device` is
  /// the same afterwards as before, so replays draw the noise an eager run
  /// would have drawn. Throws iai::Error with the reason when the work
  /// cannot be captured (then nothing is captured and eager work on the
  /// default stream goes on as before).
  void capture(const std::function<void()>& work, const c10::Device& device);

  /// Replays the captured work on the current stream of the device.
  void replay();

  bool captured() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iai
