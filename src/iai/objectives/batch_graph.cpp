#include "iai/objectives/batch_graph.h"

#include "iai/core/cuda_graph.h"
#include "iai/core/device.h"
#include "iai/core/error.h"

#include <cstdio>

namespace iai::objectives {

BatchGraph::BatchGraph(bool enabled) : enabled_(enabled) {}

BatchGraph::~BatchGraph() = default;

std::string BatchGraph::describe() const {
  if (!enabled_) return "off";
  if (!failure_.empty()) return "eager (" + failure_ + ")";
  if (graph_ && graph_->captured()) {
    return message("captured (batches of ", shape_[0], ")");
  }
  if (!why_eager_.empty()) return "eager (" + why_eager_ + ")";
  return "auto (nothing run yet)";
}

const std::vector<torch::Tensor>* BatchGraph::run(const torch::Tensor& host_x,
                                                  const torch::Device& device,
                                                  const Compute& compute) {
  if (!enabled_ || !failure_.empty()) return nullptr;
  if (const char* eager = CudaGraph::why_not(device)) {
    why_eager_ = eager;
    return nullptr;
  }
  if (!graph_) {
    shape_ = host_x.sizes().vec();
    static_x_ = to_device(host_x, device).clone();
    graph_ = std::make_unique<CudaGraph>();
    try {
      graph_->capture([&] { outputs_ = compute(static_x_); }, device);
    } catch (const std::exception& e) {
      failure_ = e.what();
      graph_.reset();
      outputs_.clear();
      std::fprintf(stderr, "iai: warning: %s; evaluation runs eagerly\n",
                   failure_.c_str());
      return nullptr;
    }
  } else if (host_x.sizes().vec() != shape_) {
    why_eager_ = "a batch of another size";
    return nullptr;
  }
  {
    torch::NoGradGuard no_grad;
    static_x_.copy_(to_device(host_x, device), /*non_blocking=*/true);
  }
  graph_->replay();
  return &outputs_;
}

}  // namespace iai::objectives
