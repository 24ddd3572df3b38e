#pragma once
// An evaluation batch's whole computation, the T inference iterations and
// the importance-weighted bound, as one CUDA graph (docs/gpu.md): captured
// at the first batch of a shape and replayed for every later batch of that
// shape, as train/step/step_graph.h does for the training step. On a GPU
// a batch of inference is thousands of small kernels (each iteration a
// decoder pass forward and back and an encoder pass), and importance
// sampling a few more per chunk of K; replayed, they cost one launch. A
// batch of another shape (the last, partial one) runs eagerly, and so does
// everything where the graph cannot be captured (said once on stderr).
// Replays compute what the eager batch would: the capture leaves the
// generator where it found it, and each replay draws the next noise.

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace iai {
class CudaGraph;
}

namespace iai::objectives {

class BatchGraph {
 public:
  /// What a batch computes from its rows on the device: its tensors are
  /// the graph's outputs, overwritten by each replay.
  using Compute =
      std::function<std::vector<torch::Tensor>(const torch::Tensor& device_x)>;

  /// enabled = false: every batch runs eagerly ("off").
  explicit BatchGraph(bool enabled);
  ~BatchGraph();
  BatchGraph(const BatchGraph&) = delete;
  BatchGraph& operator=(const BatchGraph&) = delete;

  /// compute's outputs for host batch x from a replay of the graph
  /// (captured at the first call); nullptr where this batch must run
  /// eagerly: off, not on a GPU, a LibTorch without CUDA, a batch shape
  /// other than the captured one, the host-noise test hook, or a capture
  /// that failed. The outputs stay valid until the next call.
  const std::vector<torch::Tensor>* run(const torch::Tensor& host_x,
                                        const torch::Device& device,
                                        const Compute& compute);

  /// "off", "captured (batches of 250)", "eager (not on a GPU)", ...
  std::string describe() const;

 private:
  bool enabled_;
  std::string failure_;    // why the capture failed (eager from then on)
  std::string why_eager_;  // why the last batch did not use the graph
  std::unique_ptr<CudaGraph> graph_;
  torch::Tensor static_x_;
  std::vector<int64_t> shape_;
  std::vector<torch::Tensor> outputs_;
};

}  // namespace iai::objectives
