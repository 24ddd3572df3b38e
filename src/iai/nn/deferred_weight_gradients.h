#pragma once
// The iterative training step runs the encoder's backward pass once per
// inference iteration (train/step/training_step.cpp), over B = 64 rows each
// time. Its inputs are detached, so a Dense layer's weight gradient is
// sum_t delta_t^T x_t: T thin products (K = 64), each written over a zeroed
// buffer and then added into .grad. While a DeferredWeightGradients is
// active on this thread, the covered Dense layers' backward passes keep
// (delta_t, x_t) instead and flush() takes the sum as one product over the
// T B stacked rows: one write of each gradient, at a depth OpenBLAS runs
// near its peak. Inputs' gradients are computed at once, as before. A
// covered weight's tensor hooks (register_hook) are not run: its gradient
// never passes through autograd's accumulation. nn::linear (nn/linear.h)
// is what hands it the passes. On a GPU (LibTorch's operators) the same
// sum is a handful of kernels at the flush where each pass launched a
// product, a reduction and two additions for every layer.

#include <torch/types.h>

#include <unordered_map>
#include <vector>

namespace iai::nn {

class DeferredWeightGradients {
 public:
  /// Defers the weight (and bias) gradients of Dense layers whose weight is
  /// among `parameters`, created on this thread until destruction.
  explicit DeferredWeightGradients(
      const std::vector<torch::Tensor>& parameters);
  ~DeferredWeightGradients();
  DeferredWeightGradients(const DeferredWeightGradients&) = delete;
  DeferredWeightGradients& operator=(const DeferredWeightGradients&) = delete;

  /// Adds sum_t delta_t^T x_t to each deferred weight's .grad and
  /// sum_t,rows delta_t to its bias's (as autograd would have accumulated
  /// them), and forgets them.
  void flush();

  /// The collector active on this thread, or null.
  static DeferredWeightGradients* active();
  /// Whether `weight`'s gradient is deferred.
  bool covers(const torch::Tensor& weight) const;
  /// One backward pass's output gradient and input of a covered layer.
  void add(const torch::Tensor& weight, const torch::Tensor& bias,
           const torch::Tensor& output_grad, const torch::Tensor& input);
  /// The same for a layer whose input is [input, constant], the constant
  /// columns the same at every pass (nn::linear_constant_columns): they are
  /// declared so (same_input_columns) and kept once.
  void add(const torch::Tensor& weight, const torch::Tensor& bias,
           const torch::Tensor& output_grad, const torch::Tensor& input,
           const torch::Tensor& constant);
  /// Declares that the covered layer of `weight` reads the same values in
  /// its input columns [first, in) at every pass (an iterative encoder's
  /// data, beside the feedback and lambda that change). flush() then takes
  /// their weight gradient as (sum_t delta_t)^T x_[first, in): one product
  /// over B rows instead of T B. Ignored for a weight not covered.
  void same_input_columns(const torch::Tensor& weight, int64_t first);

 private:
  struct Pending {
    torch::Tensor weight, bias;
    std::vector<torch::Tensor> output_grads, inputs;
    int64_t constant_from = -1;  // -1: no constant input columns declared
    // The constant columns themselves, when the passes' inputs hold only
    // the columns before them (add with a constant).
    torch::Tensor constant;
  };
  /// weight's entry, made (and put in the flush order) on first use.
  Pending& entry(const torch::Tensor& weight);
  /// sum_t delta_t^T x_t, the constant columns' part from the summed deltas.
  static torch::Tensor weight_gradient(const Pending& p,
                                       const torch::Tensor& deltas_t);
  /// flush() for p on LibTorch's operators (a GPU): few launches.
  static void flush_with_operators(const Pending& p);
  /// Notes p's new gradients finite where gt and the inputs prove it.
  static void note_finite_gradients(const Pending& p, const torch::Tensor& gt);
  std::unordered_map<const void*, Pending> pending_;
  std::vector<const void*> order_;  // flush in a fixed order
  std::vector<const void*> covered_;
  DeferredWeightGradients* previous_;
};

}  // namespace iai::nn
