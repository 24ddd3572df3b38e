#include "iai/nn/highway.h"

#include "iai/core/torch_compat.h"
#include "iai/cpu/own_kernels.h"
#include "iai/cpu/parallel_rows.h"
#include "iai/nn/elu.h"
#include "iai/nn/highway_rows.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

namespace iai::nn {

namespace {

/// The formula in LibTorch ops: the reference, and the path for what the
/// row kernels do not take.
torch::Tensor formula(const torch::Tensor& y, const torch::Tensor& carry) {
  const auto parts = y.chunk(carry.defined() ? 2 : 3, /*dim=*/-1);
  const auto g = torch::sigmoid(parts[1]);
  const auto& c = carry.defined() ? carry : parts[2];
  // g c + (1 - g) elu(a) as one operator (one kernel on a GPU, where the
  // four of the formula are four).
  return torch::lerp(nn::elu(parts[0]), c, g);
}

/// Whether the row kernels take y and carry: float32 CPU, contiguous, the
/// carry's rows y's.
bool takes(const torch::Tensor& y, const torch::Tensor& carry) {
  const auto fits = [](const torch::Tensor& t) {
    return cpu::own_kernels_on(t.device()) &&
           t.layout() == torch::kStrided &&
           t.scalar_type() == torch::kFloat && t.is_contiguous() &&
           t.dim() >= 1;
  };
  if (!fits(y) || y.numel() == 0) return false;
  const int64_t parts = carry.defined() ? 2 : 3;
  if (y.size(-1) % parts != 0) return false;
  if (!carry.defined()) return true;
  return fits(carry) && carry.size(-1) * parts == y.size(-1) &&
         carry.numel() * parts == y.numel();
}

torch::Tensor forward_rows(const torch::Tensor& y, const torch::Tensor& carry) {
  const int64_t width = y.size(-1), h = width / (carry.defined() ? 2 : 3);
  const int64_t rows = y.numel() / width;
  auto sizes = y.sizes().vec();
  sizes.back() = h;
  torch::Tensor out = torch::empty(sizes, y.options());
  const float* yp = y.data_ptr<float>();
  const float* cp = carry.defined() ? carry.data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  const auto& k = highway_rows();
  for_each_row(rows, width, [&](int64_t i) {
    const float* row = yp + i * width;
    const float* c = cp != nullptr ? cp + i * h : row + 2 * h;
    k.forward(row, row + h, c, op + i * h, h);
  });
  return out;
}

/// The backward pass in LibTorch's operators without a graph (a GPU):
/// dc = dh g, da = dh (1 - g) ELU'(a), ds = dh (c - e) g (1 - g), e =
/// ELU(a), each written into its block of dy (or dcarry): six kernels,
/// where autograd's pass through the formula (sigmoid, ELU, lerp, chunk)
/// launches eight or nine.
void backward_ops(const torch::Tensor& dh, const torch::Tensor& y,
                  const torch::Tensor& carry, const torch::Tensor& g,
                  const torch::Tensor& e, const torch::Tensor& dy,
                  const torch::Tensor& dcarry) {
  const int64_t h = g.size(-1);
  const torch::Tensor c = carry.defined() ? carry : y.narrow(-1, 2 * h, h);
  torch::Tensor dc = carry.defined() ? dcarry : dy.narrow(-1, 2 * h, h);
  torch::Tensor da = dy.narrow(-1, 0, h), ds = dy.narrow(-1, h, h);
  at::mul_out(dc, dh, g);
  at::sub_out(da, dh, dc);
  at::elu_backward_out(da, da, /*alpha=*/1, /*scale=*/1, /*input_scale=*/1,
                       /*is_result=*/true, e);
  at::sub_out(ds, c, e);
  ds.mul_(dh);
  at::sigmoid_backward_out(ds, ds, g);
}

/// `carry` is y itself when y's third block is the carry: autograd takes no
/// undefined input (and the gradient returned for it is then undefined).
/// The row kernels where they take y and carry (float32 CPU), LibTorch's
/// operators elsewhere.
struct Highway : torch::autograd::Function<Highway> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& y,
                               const torch::Tensor& carry_or_y,
                               bool has_carry) {
    const torch::Tensor carry = has_carry ? carry_or_y : torch::Tensor();
    ctx->save_for_backward({y, carry});
    if (takes(y, carry)) {
      RECORD_FUNCTION("iai::highway_rows", std::vector<c10::IValue>());
      return forward_rows(y, carry);
    }
    // The gate and the ELU are kept for the backward pass.
    const int64_t h = y.size(-1) / (has_carry ? 2 : 3);
    const torch::Tensor g = torch::sigmoid(y.narrow(-1, h, h));
    const torch::Tensor e = torch::elu(y.narrow(-1, 0, h));
    ctx->saved_data["g"] = g;
    ctx->saved_data["e"] = e;
    return torch::lerp(e, has_carry ? carry : y.narrow(-1, 2 * h, h), g);
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &y = saved[0], &carry = saved[1];
    const int64_t width = y.size(-1), h = width / (carry.defined() ? 2 : 3);
    if (torch::GradMode::is_enabled()) {
      // The graph of the gradient itself: differentiable ops.
      const torch::Tensor& dh = grad[0];
      const auto a = y.narrow(-1, 0, h), s = y.narrow(-1, h, h);
      const auto c = carry.defined() ? carry : y.narrow(-1, 2 * h, h);
      const auto g = torch::sigmoid(s);
      const auto slope =
          torch::where(a > 0, torch::ones_like(a), torch::exp(a));
      const auto da = dh * (1 - g) * slope;
      const auto ds = dh * (c - torch::elu(a)) * g * (1 - g);
      const auto dc = dh * g;
      if (carry.defined())
        return {torch::cat({da, ds}, -1), dc, torch::Tensor()};
      return {torch::cat({da, ds, dc}, -1), torch::Tensor(), torch::Tensor()};
    }
    torch::Tensor dy = torch::empty_like(y);
    torch::Tensor dcarry =
        carry.defined() ? torch::empty_like(carry) : torch::Tensor();
    if (!takes(y, carry)) {
      backward_ops(grad[0], y, carry, ctx->saved_data["g"].toTensor(),
                   ctx->saved_data["e"].toTensor(), dy, dcarry);
      return {dy, dcarry, torch::Tensor()};
    }
    RECORD_FUNCTION("iai::highway_rows_backward", std::vector<c10::IValue>());
    const torch::Tensor dh = grad[0].contiguous();
    const int64_t rows = y.numel() / width;
    const float* gp = dh.data_ptr<float>();
    const float* yp = y.data_ptr<float>();
    const float* cp = carry.defined() ? carry.data_ptr<float>() : nullptr;
    float* dyp = dy.data_ptr<float>();
    float* dcp = carry.defined() ? dcarry.data_ptr<float>() : nullptr;
    const auto& k = highway_rows();
    for_each_row(rows, width, [&](int64_t i) {
      const float* row = yp + i * width;
      float* drow = dyp + i * width;
      const float* c = cp != nullptr ? cp + i * h : row + 2 * h;
      float* dc = dcp != nullptr ? dcp + i * h : drow + 2 * h;
      k.backward(gp + i * h, row, row + h, c, drow, drow + h, dc, h);
    });
    return {dy, dcarry, torch::Tensor()};
  }
};

/// Whether the autograd function takes y and carry on LibTorch's operators:
/// float32 or float64 tensors on one device, y's width in whole blocks.
bool takes_with_operators(const torch::Tensor& y, const torch::Tensor& carry) {
  const auto fits = [&](const torch::Tensor& t) {
    return t.layout() == torch::kStrided && t.device() == y.device() &&
           (t.scalar_type() == torch::kFloat ||
            t.scalar_type() == torch::kDouble) &&
           t.scalar_type() == y.scalar_type() && t.dim() >= 1;
  };
  if (!fits(y) || y.numel() == 0 || autocast_enabled(y.device().type())) {
    return false;
  }
  const int64_t parts = carry.defined() ? 2 : 3;
  if (y.size(-1) % parts != 0) return false;
  if (!carry.defined()) return true;
  if (!fits(carry) || carry.dim() != y.dim() ||
      carry.size(-1) * parts != y.size(-1)) {
    return false;
  }
  for (int64_t i = 0; i + 1 < y.dim(); ++i) {
    if (carry.size(i) != y.size(i)) return false;
  }
  return true;
}

}  // namespace

torch::Tensor highway(const torch::Tensor& y, const torch::Tensor& carry) {
  const bool graph =
      torch::GradMode::is_enabled() &&
      (y.requires_grad() || (carry.defined() && carry.requires_grad()));
  if (graph && (takes(y, carry) || takes_with_operators(y, carry))) {
    return Highway::apply(y, carry.defined() ? carry : y, carry.defined());
  }
  if (!takes(y, carry)) return formula(y, carry);
  RECORD_FUNCTION("iai::highway_rows", std::vector<c10::IValue>());
  return forward_rows(y, carry);
}

}  // namespace iai::nn
