#include "iai/train/step/step_graph.h"

#include "iai/core/cuda_graph.h"
#include "iai/core/device.h"
#include "iai/core/error.h"

#include <cstdio>

namespace iai::train {

const char* const kCudaGraphHelp =
    "Training on a GPU: capture the training step in a CUDA graph (auto) "
    "and replay it for every full batch, or run every kernel eagerly (off)";

void check_cuda_graph_mode(const std::string& mode) {
  IAI_CHECK(mode == "auto" || mode == "off",
            "--cuda-graph must be auto or off; got '", mode, "'");
}

StepGraph::StepGraph(std::string mode) : mode_(std::move(mode)) {
  check_cuda_graph_mode(mode_);
}

StepGraph::~StepGraph() = default;

bool StepGraph::captured() const {
  return graph_ && graph_->captured();
}

std::string StepGraph::describe() const {
  if (mode_ == "off") return "off";
  if (!failure_.empty()) return "eager (" + failure_ + ")";
  if (captured()) return message("captured (batches of ", shape_[0], ")");
  if (!why_eager_.empty()) return "eager (" + why_eager_ + ")";
  return "auto (nothing run yet)";
}

const StepValues* StepGraph::run(const torch::Tensor& host_x,
                                 const torch::Device& device,
                                 const std::vector<torch::Tensor>& parameters,
                                 const std::vector<torch::Tensor>& buffers,
                                 const Compute& compute) {
  if (mode_ == "off" || !failure_.empty()) return nullptr;
  if (const char* eager = CudaGraph::why_not(device)) {
    why_eager_ = eager;
    return nullptr;
  }
  if (!graph_) {
    shape_ = host_x.sizes().vec();
    static_x_ = to_device(host_x, device).clone();
    // The warm-up and the capture run the step: what they change of the
    // modules' buffers (batch-norm statistics) is put back.
    std::vector<torch::Tensor> saved;
    {
      torch::NoGradGuard no_grad;
      for (const auto& b : buffers) saved.push_back(b.clone());
    }
    auto restore = [&] {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
    };
    graph_ = std::make_unique<CudaGraph>();
    try {
      graph_->capture([&] { values_ = compute(static_x_); }, device);
    } catch (const std::exception& e) {
      failure_ = e.what();
      graph_.reset();
      restore();
      std::fprintf(stderr, "iai: warning: %s; the training step runs eagerly\n",
                   failure_.c_str());
      return nullptr;
    }
    restore();
    grads_.clear();
    for (const auto& p : parameters) grads_.push_back(p.grad());
  } else if (host_x.sizes().vec() != shape_) {
    return nullptr;
  }
  {
    torch::NoGradGuard no_grad;
    static_x_.copy_(to_device(host_x, device), /*non_blocking=*/true);
  }
  graph_->replay();
  // An eager step in between (a last partial batch) may have given the
  // parameters other gradient tensors; the graph writes these.
  for (size_t i = 0; i < parameters.size(); ++i) {
    auto p = parameters[i];
    p.mutable_grad() = grads_[i];
  }
  return &values_;
}

}  // namespace iai::train
