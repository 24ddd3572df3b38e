#include "iai/nn/linear.h"

#include "iai/core/error.h"
#include "iai/core/torch_compat.h"
#include "iai/cpu/gemm.h"
#include "iai/cpu/own_kernels.h"
#include "iai/nn/deferred_weight_gradients.h"
#include "iai/nn/elu.h"

#include <torch/autograd.h>

namespace iai::nn {

namespace {

/// A product's inputs for its backward pass, and the collector (or null)
/// that takes W's and b's gradients there.
void keep_for_backward(torch::autograd::AutogradContext* ctx,
                       const torch::autograd::variable_list& tensors,
                       DeferredWeightGradients* collector) {
  ctx->save_for_backward(tensors);
  ctx->saved_data["collector"] = reinterpret_cast<int64_t>(collector);
}

DeferredWeightGradients* collector_of(torch::autograd::AutogradContext* ctx) {
  return reinterpret_cast<DeferredWeightGradients*>(
      ctx->saved_data["collector"].toInt());
}

/// The gradients of y = x W^T + b for the gradient g of y: dx = g W,
/// dW = g^T x, db = sum_rows g, those autograd asks for; W's and b's go to
/// `collector` when there is one. The inputs' order is Linear's and
/// LinearElu's: x, W, b (or W again), has_bias, collector.
torch::autograd::variable_list linear_backward(
    torch::autograd::AutogradContext* ctx, const torch::Tensor& g,
    const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  DeferredWeightGradients* collector = collector_of(ctx);
  // Grad mode is on here only when the pass builds a graph: then the
  // products must be differentiable (gemm::mm is at::mm then anyway).
  torch::Tensor dx, dw, db;
  if (ctx->needs_input_grad(0)) dx = gemm::mm(g, w);
  if (collector != nullptr) {
    collector->add(w, b, g, x);
  } else {
    if (ctx->needs_input_grad(1)) dw = gemm::mm(g.t(), x);
    if (b.defined() && ctx->needs_input_grad(2)) db = g.sum(0);
  }
  return {dx, dw, db, torch::Tensor(), torch::Tensor()};
}

/// x [rows, in] W^T + b; the backward pass hands W's and b's gradients to
/// `collector` when there is one. Without a bias `b_or_w` is W (autograd
/// takes no undefined input; the gradient returned for it is undefined).
struct Linear : torch::autograd::Function<Linear> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b_or_w, bool has_bias,
                               DeferredWeightGradients* collector) {
    const torch::Tensor b = has_bias ? b_or_w : torch::Tensor();
    keep_for_backward(ctx, {x, w, b}, collector);
    return gemm::addmm(b, x, w.t());
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    return linear_backward(ctx, grad[0], saved[0], saved[1], saved[2]);
  }
};

/// ELU(bias + x W^T): oneDNN's product with the ELU as its post-op, or
/// where oneDNN has no fused kernel for the shape, the product then the
/// ELU. Not differentiable.
torch::Tensor product_elu(const torch::Tensor& bias, const torch::Tensor& x,
                          const torch::Tensor& w) {
  torch::Tensor y = gemm::addmm_elu(bias, x, w.t());
  return y.defined() ? y : nn::elu(gemm::addmm(bias, x, w.t()));
}

/// ELU(x W^T + b) as one oneDNN product with the ELU as its post-op: the
/// pre-activation is never written, so the backward pass takes ELU's slope
/// from the output (nn::elu_backward_from_output) and is then Linear's.
struct LinearElu : torch::autograd::Function<LinearElu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b_or_w, bool has_bias,
                               DeferredWeightGradients* collector) {
    const torch::Tensor b = has_bias ? b_or_w : torch::Tensor();
    torch::Tensor y = product_elu(b, x, w);
    keep_for_backward(ctx, {x, w, b, y}, collector);
    return y;
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor g = elu_backward_from_output(grad[0], saved[3]);
    return linear_backward(ctx, g, saved[0], saved[1], saved[2]);
  }
};

/// x as [rows, in] (the decoder's [S, B, in] samples are one product), and
/// back: a product's [rows, out] as x's leading dimensions and out.
torch::Tensor as_rows(const torch::Tensor& x) {
  return x.dim() == 2 ? x : x.reshape({-1, x.size(-1)});
}
torch::Tensor like_input(const torch::Tensor& y, const torch::Tensor& x) {
  if (x.dim() == 2) return y;
  auto sizes = x.sizes().vec();
  sizes.back() = y.size(-1);
  return y.view(sizes);
}

bool float_cpu(const torch::Tensor& x, const torch::Tensor& weight,
               const torch::Tensor& bias) {
  return x.dim() >= 2 && cpu::own_kernels_on(x.device()) &&
         x.scalar_type() == torch::kFloat &&
         weight.scalar_type() == torch::kFloat && weight.device().is_cpu() &&
         (!bias.defined() || bias.scalar_type() == torch::kFloat) &&
         !autocast_enabled(x.device().type());
}

/// Any other device or dtype (a GPU; CPU tensors under IAI_KERNELS=libtorch):
/// x, W and b of one dtype and device, no autocast. Linear's autograd
/// function then runs on LibTorch's products, so that a collector can take
/// W's gradient there too.
bool same_kind(const torch::Tensor& x, const torch::Tensor& weight,
               const torch::Tensor& bias) {
  const auto same = [&](const torch::Tensor& t) {
    return t.scalar_type() == x.scalar_type() && t.device() == x.device();
  };
  return x.dim() >= 2 && same(weight) && (!bias.defined() || same(bias)) &&
         !autocast_enabled(x.device().type());
}

bool needs_graph(const torch::Tensor& x, const torch::Tensor& weight,
                 const torch::Tensor& bias) {
  return torch::GradMode::is_enabled() &&
         (x.requires_grad() || weight.requires_grad() ||
          (bias.defined() && bias.requires_grad()));
}

/// The active DeferredWeightGradients when it takes W's gradient: a graph
/// is built and W is one of its parameters; else null.
DeferredWeightGradients* collector_for(const torch::Tensor& weight,
                                       bool graph) {
  DeferredWeightGradients* collector = DeferredWeightGradients::active();
  if (collector != nullptr &&
      !(graph && weight.requires_grad() && collector->covers(weight))) {
    return nullptr;
  }
  return collector;
}

/// a W[:, :F]^T + part; the backward pass hands W's and b's gradients to
/// `collector` as a pass over [a, c] with c's columns constant.
struct LinearConstantColumns
    : torch::autograd::Function<LinearConstantColumns> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& a, const torch::Tensor& w,
                               const torch::Tensor& b_or_w, bool has_bias,
                               const torch::Tensor& c,
                               const torch::Tensor& part,
                               DeferredWeightGradients* collector) {
    keep_for_backward(ctx, {a, w, has_bias ? b_or_w : torch::Tensor(), c},
                      collector);
    return product_plus(a, w, part);
  }
  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    collector_of(ctx)->add(saved[1], saved[2], grad[0], saved[0], saved[3]);
    return {torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
  /// a W[:, :F]^T + part, F = a's columns. Off the CPU's own kernels one
  /// addmm with part as its matrix bias (one launch on a GPU, not two).
  static torch::Tensor product_plus(const torch::Tensor& a,
                                    const torch::Tensor& w,
                                    const torch::Tensor& part) {
    const torch::Tensor left = w.narrow(1, 0, a.size(1)).t();
    if (!cpu::own_kernels_on(a.device())) return at::addmm(part, a, left);
    torch::Tensor y = gemm::mm(a, left);
    y.add_(part);
    return y;
  }
};

}  // namespace

torch::Tensor constant_columns_part(const torch::Tensor& c,
                                    const torch::Tensor& weight,
                                    const torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  const int64_t first = weight.size(1) - c.size(1);
  return gemm::addmm(bias, c, weight.narrow(1, first, c.size(1)).t());
}

torch::Tensor linear_constant_columns(const torch::Tensor& a,
                                      const torch::Tensor& c,
                                      const torch::Tensor& part,
                                      const torch::Tensor& weight,
                                      const torch::Tensor& bias) {
  IAI_CHECK((float_cpu(a, weight, bias) ||
             (!cpu::own_kernels_on(a.device()) && same_kind(a, weight, bias))) &&
                a.dim() == 2 && c.dim() == 2 &&
                a.size(1) + c.size(1) == weight.size(1) && !a.requires_grad(),
            "linear_constant_columns: [a, c] of the layer's dtype and device, "
            "without autocast and without a gradient to a");
  if (!needs_graph(a, weight, bias)) {
    torch::NoGradGuard no_grad;
    return LinearConstantColumns::product_plus(a, weight, part);
  }
  DeferredWeightGradients* collector = DeferredWeightGradients::active();
  IAI_CHECK(
      collector != nullptr && collector->covers(weight),
      "linear_constant_columns: a gradient needs a DeferredWeightGradients "
      "covering the layer");
  return LinearConstantColumns::apply(a, weight, bias.defined() ? bias : weight,
                                      bias.defined(), c, part, collector);
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias) {
  const bool graph = needs_graph(x, weight, bias);
  DeferredWeightGradients* collector = collector_for(weight, graph);
  if (!float_cpu(x, weight, bias)) {
    // Off the CPU's own kernels only a collector's layer leaves LibTorch's
    // linear: its T weight gradients become one product at the flush.
    if (collector == nullptr || cpu::own_kernels_on(x.device()) ||
        !same_kind(x, weight, bias)) {
      return torch::linear(x, weight, bias);
    }
    return like_input(Linear::apply(as_rows(x), weight,
                                    bias.defined() ? bias : weight,
                                    bias.defined(), collector),
                      x);
  }
  if (collector == nullptr && !gemm::uses_onednn()) {
    return torch::linear(x, weight, bias);
  }
  const torch::Tensor rows = as_rows(x);
  return like_input(
      graph ? Linear::apply(rows, weight, bias.defined() ? bias : weight,
                            bias.defined(), collector)
            : gemm::addmm(bias, rows, weight.t()),
      x);
}

torch::Tensor linear_elu(const torch::Tensor& x, const torch::Tensor& weight,
                         const torch::Tensor& bias) {
  // Without oneDNN the product and the ELU stay apart, the slope from x.
  if (!float_cpu(x, weight, bias) || !gemm::uses_onednn()) {
    return nn::elu(linear(x, weight, bias));
  }
  const torch::Tensor rows = as_rows(x);
  return like_input(
      needs_graph(x, weight, bias)
          ? LinearElu::apply(rows, weight, bias.defined() ? bias : weight,
                             bias.defined(), collector_for(weight, true))
          : product_elu(bias, rows, weight),
      x);
}

}  // namespace iai::nn
