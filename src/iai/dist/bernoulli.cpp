#include "iai/dist/bernoulli.h"

#include "iai/core/error.h"
#include "iai/cpu/own_kernels.h"
#include "iai/cpu/parallel_rows.h"
#include "iai/dist/bernoulli_rows.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

namespace iai::dist {

namespace {

/// The fused path applies to float32 CPU logits of shape (..., D), with x
/// (..., D) broadcast over leading dimensions only (the decoder's (S, B, D)
/// against the data's (1, B, D)) and not itself differentiated.
bool fusable(const torch::Tensor& x, const torch::Tensor& logits) {
  if (!cpu::own_kernels_on(logits.device()) ||
      logits.scalar_type() != torch::kFloat ||
      x.scalar_type() != torch::kFloat || !x.device().is_cpu() ||
      x.requires_grad() || logits.dim() == 0 || x.dim() > logits.dim()) {
    return false;
  }
  // Leading 1s of x broadcast; every other size must equal logits'.
  const int64_t offset = logits.dim() - x.dim();
  bool leading = true;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (leading && x.size(i) == 1 && i + offset < logits.dim() - 1) continue;
    leading = false;
    if (x.size(i) != logits.size(i + offset)) return false;
  }
  return true;
}

/// sum_d x l - softplus(l) per row, the rows in parallel; residual (same
/// shape as logits) receives x - sigmoid(l) when defined.
torch::Tensor row_sums(const torch::Tensor& x, const torch::Tensor& logits,
                       const torch::Tensor& residual) {
  // Named in profiles (iai_device_bench --profile) beside LibTorch's ops.
  RECORD_FUNCTION("iai::bernoulli_rows", std::vector<c10::IValue>());
  const int64_t d = logits.size(-1);
  const int64_t rows = d == 0 ? 0 : logits.numel() / d;
  const int64_t x_rows = d == 0 ? 0 : x.numel() / d;
  auto sizes = logits.sizes().vec();
  sizes.pop_back();
  torch::Tensor out = torch::empty(sizes, logits.options());
  const float* l = logits.data_ptr<float>();
  const float* xs = x.data_ptr<float>();
  float* r = residual.defined() ? residual.data_ptr<float>() : nullptr;
  float* o = out.data_ptr<float>();
  // Rows of logits cycle through the rows of x (x broadcast over leading
  // dimensions).
  for_each_row(rows, d, [&](int64_t i) {
    o[i] = bernoulli_row(l + i * d, xs + (i % x_rows) * d,
                         r == nullptr ? nullptr : r + i * d, d);
  });
  return out;
}

/// d/dlogits of sum_d x l - softplus(l) is x - sigmoid(l): kept from the
/// forward pass, so the backward pass is one multiply. A backward pass that
/// builds a graph (create_graph: unrolled training differentiates this
/// gradient again) recomputes it from the saved logits, differentiably.
struct BernoulliLogProb : torch::autograd::Function<BernoulliLogProb> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& logits,
                               const torch::Tensor& x) {
    torch::Tensor residual = torch::empty_like(logits);
    torch::Tensor out = row_sums(x, logits, residual);
    ctx->save_for_backward({residual, logits, x});
    return out;
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor g = grad[0].unsqueeze(-1);
    if (torch::GradMode::is_enabled()) {
      return {g * (saved[2] - torch::sigmoid(saved[1])), torch::Tensor()};
    }
    return {g * saved[0], torch::Tensor()};
  }
};

}  // namespace

torch::Tensor bernoulli_log_prob(const torch::Tensor& x,
                                 const torch::Tensor& logits) {
  if (!fusable(x, logits)) {
    return (x * logits - torch::softplus(logits)).sum(-1);
  }
  const torch::Tensor l = logits.contiguous();
  const torch::Tensor xs = x.contiguous();
  if (torch::GradMode::is_enabled() && l.requires_grad()) {
    return BernoulliLogProb::apply(l, xs);
  }
  return row_sums(xs, l, torch::Tensor());
}

torch::Tensor bernoulli_log_prob_and_residual(const torch::Tensor& x,
                                              const torch::Tensor& logits,
                                              const torch::Tensor& residual) {
  IAI_CHECK(logits.dim() == 2 && x.dim() == 2 && x.size(1) == logits.size(1) &&
                x.size(0) > 0 && logits.size(0) % x.size(0) == 0 &&
                residual.sizes() == logits.sizes(),
            "bernoulli_log_prob_and_residual: unexpected shapes");
  const auto float_cpu = [](const torch::Tensor& t) {
    return cpu::own_kernels_on(t.device()) &&
           t.scalar_type() == torch::kFloat &&
           t.is_contiguous();
  };
  if (float_cpu(x) && float_cpu(logits) && float_cpu(residual)) {
    return row_sums(x, logits, residual);
  }
  // Anywhere else (a GPU): LibTorch's operators, the rows of logits as
  // (N / B, B, D) against x (1, B, D).
  torch::NoGradGuard no_grad;
  const int64_t b = x.size(0), d = x.size(1);
  const torch::Tensor l = logits.reshape({-1, b, d});
  const torch::Tensor xs = x.unsqueeze(0);
  torch::Tensor r = residual.view({-1, b, d});
  torch::sub_out(r, xs, torch::sigmoid(l));
  return (xs * l - torch::softplus(l)).sum(-1).reshape({-1});
}

}  // namespace iai::dist
