#include "iai/nn/elu.h"

#include "iai/core/error.h"
#include "iai/cpu/own_kernels.h"
#include "iai/cpu/parallel_rows.h"
#include "iai/nn/elu_rows.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

#include <optional>

namespace iai::nn {

namespace {

/// Rows of a float32 CPU tensor: (rows, columns, row stride) when its last
/// dimension is contiguous and the rows are evenly spaced.
struct Rows {
  int64_t rows = 0, columns = 0, stride = 0;
};

std::optional<Rows> rows_of(const torch::Tensor& x) {
  if (!cpu::own_kernels_on(x.device()) || x.scalar_type() != torch::kFloat ||
      x.layout() != torch::kStrided || x.dim() == 0 || x.numel() == 0) {
    return std::nullopt;
  }
  if (x.is_contiguous()) {
    const int64_t c = x.size(-1);
    return Rows{x.numel() / c, c, c};
  }
  if (x.dim() == 2 && x.stride(1) == 1 && x.stride(0) >= x.size(1)) {
    return Rows{x.size(0), x.size(1), x.stride(0)};
  }
  return std::nullopt;
}

/// ELU(x) as a new contiguous tensor of x's shape.
torch::Tensor forward_rows(const torch::Tensor& x, const Rows& r) {
  torch::Tensor y = torch::empty({r.rows, r.columns}, x.options());
  const float* in = x.data_ptr<float>();
  float* out = y.data_ptr<float>();
  const auto& k = elu_rows();
  for_each_row(r.rows, r.columns, [&](int64_t i) {
    k.forward(in + i * r.stride, out + i * r.columns, r.columns);
  });
  return y.view(x.sizes());
}

/// dELU/dx = 1 for x > 0, else exp(x), from the saved input. A backward
/// pass that builds a graph (unrolled training differentiates it again)
/// computes it with LibTorch's differentiable ops instead.
struct Elu : torch::autograd::Function<Elu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& x) {
    RECORD_FUNCTION("iai::elu_rows", std::vector<c10::IValue>());
    ctx->save_for_backward({x});
    return forward_rows(x, *rows_of(x));
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    if (torch::GradMode::is_enabled()) {
      return {grad[0] *
              torch::where(x > 0, torch::ones_like(x), torch::exp(x))};
    }
    RECORD_FUNCTION("iai::elu_rows_backward", std::vector<c10::IValue>());
    const Rows r = *rows_of(x);
    const torch::Tensor g = grad[0].contiguous();
    torch::Tensor dx = torch::empty({r.rows, r.columns}, g.options());
    const float* gp = g.data_ptr<float>();
    const float* xp = x.data_ptr<float>();
    float* dp = dx.data_ptr<float>();
    const auto& k = elu_rows();
    for_each_row(r.rows, r.columns, [&](int64_t i) {
      k.backward(gp + i * r.columns, xp + i * r.stride, dp + i * r.columns,
                 r.columns);
    });
    return {dx.view(x.sizes())};
  }
};

/// dx = g * ELU'(x) from ELU's output y, row by row; dx may be g.
void slope_from_output(const torch::Tensor& g, const torch::Tensor& y,
                       const torch::Tensor& dx, const Rows& r) {
  RECORD_FUNCTION("iai::elu_rows_backward", std::vector<c10::IValue>());
  const float* gp = g.data_ptr<float>();
  const float* yp = y.data_ptr<float>();
  float* dp = dx.data_ptr<float>();
  const auto& k = elu_rows();
  const int64_t n = r.columns;
  for_each_row(r.rows, n, [&](int64_t i) {
    k.backward_from_output(gp + i * n, yp + i * n, dp + i * n, n);
  });
}

}  // namespace

torch::Tensor elu_backward_from_output(const torch::Tensor& g,
                                       const torch::Tensor& y) {
  const auto r = rows_of(y);
  if (torch::GradMode::is_enabled() || !r || !y.is_contiguous() ||
      g.scalar_type() != torch::kFloat || g.sizes() != y.sizes()) {
    return g * torch::where(y > 0, torch::ones_like(y), y + 1);
  }
  const torch::Tensor gc = g.contiguous();
  torch::Tensor dx = torch::empty_like(gc);
  slope_from_output(gc, y, dx, *r);
  return dx;
}

void elu_backward_from_output_(const torch::Tensor& g, const torch::Tensor& y) {
  IAI_CHECK(g.sizes() == y.sizes(),
            "elu_backward_from_output_: g and y differ in shape");
  const auto r = rows_of(y);
  if (r && y.is_contiguous() && g.is_contiguous() &&
      g.scalar_type() == torch::kFloat && g.device().is_cpu()) {
    slope_from_output(g, y, g, *r);
    return;
  }
  // Anywhere else (a GPU): the same slope, 1 where y > 0, else y + 1, by
  // ATen's ELU backward from the output (is_result), written over g: one
  // kernel, where g * min(y + 1, 1) is three.
  torch::NoGradGuard no_grad;
  auto& out = const_cast<torch::Tensor&>(g);
  at::elu_backward_out(out, g, /*alpha=*/1, /*scale=*/1, /*input_scale=*/1,
                       /*is_result=*/true, y);
}

torch::Tensor elu(const torch::Tensor& x) {
  const auto r = rows_of(x);
  if (!r) return torch::elu(x);
  if (torch::GradMode::is_enabled() && x.requires_grad()) {
    return Elu::apply(x);
  }
  RECORD_FUNCTION("iai::elu_rows", std::vector<c10::IValue>());
  return forward_rows(x, *r);
}

}  // namespace iai::nn
