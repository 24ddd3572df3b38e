#pragma once
// The training step's computation as one CUDA graph (docs/gpu.md).
// On a GPU, a batch-64 MNIST step is launch-bound: thousands of small
// kernels (T inference iterations, each a forward and two backward passes).
// StepGraph captures everything train_batch computes before its optimiser
// steps (zeroing, the T iterations, the gradients, the finiteness flags and
// the ELBO sums) once, at the first batch of a run's batch shape, and
// replays it for every later batch of that shape; the optimisers then step
// eagerly, as they must read the flags first. A batch of another shape
// (an epoch's last, partial one) runs eagerly. Replays compute the same
// numbers as the eager step: same kernels, same noise (the capture leaves
// the generator where it found it).

#include "iai/train/step/finiteness.h"

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace iai {
class CudaGraph;
}

namespace iai::train {

/// What one step computes before its optimisers step, on the device.
struct StepValues {
  /// double: the ELBO terms' n_sums sums, then checks' flags (if any), then
  /// the gradient record's n_record sums (StepOutcome::mu_gradient_sums).
  torch::Tensor values;
  int64_t n_sums = 0;
  int64_t n_record = 0;
  int64_t mu_columns = 0;
  /// Where each flag was taken.
  FiniteChecks checks;
};

/// --cuda-graph's help and its values.
extern const char* const kCudaGraphHelp;
void check_cuda_graph_mode(const std::string& mode);

class StepGraph {
 public:
  using Compute = std::function<StepValues(const torch::Tensor& device_x)>;

  /// mode: "auto" (capture when training on a GPU) or "off".
  explicit StepGraph(std::string mode = "auto");
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  /// The step's values for host batch x, from a replay of the graph
  /// (captured at the first call); nullptr when this step must run
  /// eagerly: mode off, not on a GPU, a LibTorch without CUDA, a batch
  /// shape other than the captured one, the host-noise test hook, or a
  /// capture that failed (said once on stderr; eager from then on).
  /// `parameters` are those whose gradients the step defines (their .grad
  /// is pointed back at the graph's after each replay); `buffers` are
  /// restored after the warm-up and capture, which also run the step.
  const StepValues* run(const torch::Tensor& host_x,
                        const torch::Device& device,
                        const std::vector<torch::Tensor>& parameters,
                        const std::vector<torch::Tensor>& buffers,
                        const Compute& compute);

  /// "off", "captured (batches of 64)", "eager (not on a GPU)", ...
  std::string describe() const;
  bool captured() const;

 private:
  std::string mode_;
  std::string failure_;    // why capture failed (eager from then on)
  std::string why_eager_;  // why the last step did not use the graph
  std::unique_ptr<CudaGraph> graph_;
  torch::Tensor static_x_;
  std::vector<int64_t> shape_;
  StepValues values_;
  std::vector<torch::Tensor> grads_;  // each parameter's .grad in the graph
};

}  // namespace iai::train
