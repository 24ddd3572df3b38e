#include "iai/nn/deferred_weight_gradients.h"

#include "iai/core/error.h"
#include "iai/cpu/gemm.h"
#include "iai/cpu/known_finite.h"
#include "iai/cpu/own_kernels.h"

#include <torch/autograd.h>

#include <algorithm>

namespace iai::nn {

namespace {

thread_local DeferredWeightGradients* t_active = nullptr;

/// grad += value (grad undefined: value becomes it).
void accumulate(const torch::Tensor& parameter, torch::Tensor value) {
  auto& grad = const_cast<torch::Tensor&>(parameter).mutable_grad();
  if (grad.defined()) {
    grad.add_(value);
  } else {
    grad = std::move(value);
  }
}

/// dst[j * ld + i] = src[i * ld_src + j] for a (rows, cols) block, in
/// tiles of 16 x 16 that stay in cache on both sides. A transposing copy_
/// into gt's column block took 3-8x as long (alone, on a Zen 4: 26 against
/// 77 us for a (64, 256) block, 111 against 906 us for (64, 1024)).
void transpose_into(float* dst, int64_t ld, const float* src, int64_t ld_src,
                    int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 16;
  for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
    const int64_t j1 = std::min(cols, j0 + kTile);
    for (int64_t i0 = 0; i0 < rows; i0 += kTile) {
      const int64_t i1 = std::min(rows, i0 + kTile);
      // Reading src's rows in order: a (64, 1024) source's rows are 4 KiB
      // apart, and a tile's column walk down them missed the cache.
      for (int64_t i = i0; i < i1; ++i) {
        const float* in = src + i * ld_src;
        for (int64_t j = j0; j < j1; ++j) dst[j * ld + i] = in[j];
      }
    }
  }
}

/// The passes' output gradients (rows_t, out) stacked along the rows and
/// transposed: (out, sum_t rows_t), contiguous.
torch::Tensor stacked_transposed(const std::vector<torch::Tensor>& grads) {
  int64_t rows = 0;
  for (const auto& g : grads) rows += g.size(0);
  torch::Tensor gt = torch::empty({grads[0].size(1), rows}, grads[0].options());
  int64_t at = 0;
  for (const auto& g : grads) {
    if (g.scalar_type() == torch::kFloat && g.dim() == 2 && g.stride(1) == 1 &&
        gt.scalar_type() == torch::kFloat) {
      transpose_into(gt.data_ptr<float>() + at, rows, g.data_ptr<float>(),
                     g.stride(0), g.size(0), g.size(1));
    } else {
      gt.narrow(1, at, g.size(0)).copy_(g.t());
    }
    at += g.size(0);
  }
  return gt;
}

}  // namespace

DeferredWeightGradients::DeferredWeightGradients(
    const std::vector<torch::Tensor>& parameters)
    : previous_(t_active) {
  for (const auto& p : parameters) covered_.push_back(p.unsafeGetTensorImpl());
  std::sort(covered_.begin(), covered_.end());
  t_active = this;
}

DeferredWeightGradients::~DeferredWeightGradients() {
  t_active = previous_;
}

DeferredWeightGradients* DeferredWeightGradients::active() {
  return t_active;
}

bool DeferredWeightGradients::covers(const torch::Tensor& weight) const {
  return std::binary_search(covered_.begin(), covered_.end(),
                            weight.unsafeGetTensorImpl());
}

void DeferredWeightGradients::add(const torch::Tensor& weight,
                                  const torch::Tensor& bias,
                                  const torch::Tensor& output_grad,
                                  const torch::Tensor& input) {
  Pending& p = entry(weight);
  // (An entry same_input_columns made has no bias yet.)
  if (!p.bias.defined()) p.bias = bias;
  p.output_grads.push_back(output_grad);
  p.inputs.push_back(input);
}

DeferredWeightGradients::Pending& DeferredWeightGradients::entry(
    const torch::Tensor& weight) {
  const void* key = weight.unsafeGetTensorImpl();
  auto [it, fresh] = pending_.try_emplace(key);
  if (fresh) {
    it->second.weight = weight;
    order_.push_back(key);
  }
  return it->second;
}

void DeferredWeightGradients::add(const torch::Tensor& weight,
                                  const torch::Tensor& bias,
                                  const torch::Tensor& output_grad,
                                  const torch::Tensor& input,
                                  const torch::Tensor& constant) {
  add(weight, bias, output_grad, input);
  Pending& p = entry(weight);
  p.constant = constant;
  p.constant_from = weight.size(1) - constant.size(1);
}

void DeferredWeightGradients::same_input_columns(const torch::Tensor& weight,
                                                 int64_t first) {
  if (covers(weight)) entry(weight).constant_from = first;
}

torch::Tensor DeferredWeightGradients::weight_gradient(
    const Pending& p, const torch::Tensor& deltas_t) {
  const int64_t in = p.weight.size(1), first = p.constant_from;
  const int64_t rows = p.inputs[0].size(0);
  // With the constant kept apart, the inputs are only the columns before it.
  const bool apart = p.constant.defined();
  bool same_rows = true;
  for (const auto& x : p.inputs) same_rows = same_rows && x.size(0) == rows;
  IAI_CHECK(!apart || same_rows,
            "deferred weight gradients: constant input columns need passes "
            "of one batch size");
  const bool split =
      apart || (same_rows && p.inputs.size() > 1 && first >= 0 && first < in);
  if (!split) {
    const torch::Tensor x =
        p.inputs.size() == 1 ? p.inputs[0] : torch::cat(p.inputs);
    return gemm::mm(deltas_t, x);
  }
  // Columns [0, first): every pass's own inputs, as above. Columns [first,
  // in): sum_t delta_t^T c = (sum_t delta_t)^T c for the constant c, one
  // product over B rows (the iterative encoder's data: 67% of its first
  // layer's weight gradient on MNIST, T times fewer FLOPs).
  const torch::Tensor right =
      apart ? p.constant : p.inputs[0].narrow(1, first, in - first);
  torch::Tensor delta_sum = p.output_grads[0];
  for (size_t t = 1; t < p.output_grads.size(); ++t) {
    delta_sum = delta_sum + p.output_grads[t];
  }
  torch::Tensor dw = torch::empty({p.weight.size(0), in}, deltas_t.options());
  if (first > 0) {
    std::vector<torch::Tensor> left;
    for (const auto& x : p.inputs)
      left.push_back(apart ? x : x.narrow(1, 0, first));
    gemm::mm_into(dw.narrow(1, 0, first), deltas_t,
                  left.size() == 1 ? left[0] : torch::cat(left));
  }
  gemm::mm_into(dw.narrow(1, first, in - first), delta_sum.t(), right);
  return dw;
}

/// The flushed gradients of p, sums over gt's R columns (every pass's
/// rows) of products with the inputs (or the constant columns) and of gt
/// alone, noted finite where their factors prove it (cpu/known_finite.h):
/// the training step then need not read them back. The constant columns'
/// part, (sum_t delta_t)^T c, is the same sum of R products.
void DeferredWeightGradients::note_finite_gradients(const Pending& p,
                                                    const torch::Tensor& gt) {
  cpu::KnownFinite* known = cpu::KnownFinite::active();
  if (known == nullptr) return;
  const int64_t rows = gt.size(1);
  const cpu::Magnitude of_gt = cpu::magnitude(gt);
  cpu::Magnitude of_inputs = cpu::magnitude(p.inputs[0]);
  for (size_t t = 1; t < p.inputs.size(); ++t) {
    of_inputs = of_inputs | cpu::magnitude(p.inputs[t]);
  }
  if (p.constant.defined()) of_inputs = of_inputs | cpu::magnitude(p.constant);
  // The constant columns' part sums the deltas before its product: that
  // sum must not overflow either.
  const bool deltas_sum = cpu::sum_finite(rows, of_gt);
  if (deltas_sum && cpu::sum_of_products_finite(rows, of_gt, of_inputs)) {
    known->note(p.weight.grad());
  }
  if (p.bias.defined() && deltas_sum) known->note(p.bias.grad());
}

/// flush() off the CPU's own kernels (a GPU): few launches. The passes'
/// output gradients are joined in one concatenation and read transposed
/// (the GPU's products take a transposed operand as it is), the constant
/// columns' summed deltas are one reduction, and a gradient that exists
/// already (zeroed by the optimiser) takes each product in place, as
/// addmm_'s accumulation, not as a product and an addition.
void DeferredWeightGradients::flush_with_operators(const Pending& p) {
  const torch::Tensor stacked =
      p.output_grads.size() == 1 ? p.output_grads[0] : torch::cat(p.output_grads);
  const torch::Tensor gt = stacked.t();  // (out, T B), a view
  const int64_t in = p.weight.size(1);
  const int64_t first = p.constant_from;
  const int64_t rows = p.inputs[0].size(0);
  bool same_rows = true;
  for (const auto& x : p.inputs) same_rows = same_rows && x.size(0) == rows;
  IAI_CHECK(!p.constant.defined() || same_rows,
            "deferred weight gradients: constant input columns need passes "
            "of one batch size");
  const bool split =
      p.constant.defined() ||
      (same_rows && p.inputs.size() > 1 && first >= 0 && first < in);
  std::vector<std::pair<int64_t, int64_t>> blocks;  // columns [from, to)
  std::vector<std::pair<torch::Tensor, torch::Tensor>> factors;
  const auto joined = [](const std::vector<torch::Tensor>& parts) {
    return parts.size() == 1 ? parts[0] : torch::cat(parts);
  };
  if (!split) {
    blocks.emplace_back(0, in);
    factors.emplace_back(gt, joined(p.inputs));
  } else {
    if (first > 0) {
      std::vector<torch::Tensor> left;
      for (const auto& x : p.inputs) {
        left.push_back(p.constant.defined() ? x : x.narrow(1, 0, first));
      }
      blocks.emplace_back(0, first);
      factors.emplace_back(gt, joined(left));
    }
    // sum_t delta_t^T c = (sum_t delta_t)^T c: the T passes' rows summed
    // in one reduction over the (out, T, B) view.
    const auto t = static_cast<int64_t>(p.output_grads.size());
    const torch::Tensor delta_sum_t = gt.reshape({gt.size(0), t, rows}).sum(1);
    blocks.emplace_back(first, in);
    factors.emplace_back(delta_sum_t,
                         p.constant.defined()
                             ? p.constant
                             : p.inputs[0].narrow(1, first, in - first));
  }
  auto& grad = const_cast<torch::Tensor&>(p.weight).mutable_grad();
  if (grad.defined()) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      const auto [from, to] = blocks[i];
      grad.narrow(1, from, to - from)
          .addmm_(factors[i].first, factors[i].second);
    }
  } else if (blocks.size() == 1) {
    grad = at::mm(factors[0].first, factors[0].second);
  } else {
    grad = torch::cat({at::mm(factors[0].first, factors[0].second),
                       at::mm(factors[1].first, factors[1].second)},
                      1);
  }
  if (p.bias.defined()) accumulate(p.bias, stacked.sum(0));
}

void DeferredWeightGradients::flush() {
  torch::NoGradGuard no_grad;
  for (const void* key : order_) {
    Pending& p = pending_.at(key);
    if (p.output_grads.empty()) continue;  // declared, never passed back
    if (!cpu::own_kernels_on(p.weight.device())) {
      flush_with_operators(p);
      continue;
    }
    // One product over all the passes' rows: (out, T B) x (T B, in). The
    // output gradients are laid out transposed, (out, T B) row-major, as
    // they are stacked: oneDNN runs the product with a row-major left
    // operand at 175 GFLOP/s where a transposed view of (T B, out) ran at
    // 130-147 (the encoder's first layer, 1536 x 320 x 1168, one thread, on
    // an Intel CPU with AMX). On an AMD EPYC (Zen 4) the view ran within 4%
    // of the row-major product and this copy cost more than that (0.23 ms
    // of the standard step's 13): which wins depends on the CPU.
    const torch::Tensor gt = stacked_transposed(p.output_grads);
    // Whether the gradients are new this step (not added to earlier ones),
    // for note_finite_gradients.
    const bool fresh = !p.weight.grad().defined() &&
                       (!p.bias.defined() || !p.bias.grad().defined());
    accumulate(p.weight, weight_gradient(p, gt));
    if (p.bias.defined()) accumulate(p.bias, gt.sum(1));
    if (fresh) note_finite_gradients(p, gt);
  }
  pending_.clear();
  order_.clear();
}

}  // namespace iai::nn
