#include "iai/inference/gated_update.h"

#include "iai/core/torch_compat.h"
#include "iai/cpu/own_kernels.h"
#include "iai/cpu/vector_math.h"
#include "iai/inference/encoder_options.h"
#include "iai/inference/input_encoding.h"

#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace iai::inference {

namespace {

bool plain_float(const torch::Tensor& t) {
  return t.defined() && cpu::own_kernels_on(t.device()) &&
         t.layout() == torch::kStrided &&
         t.scalar_type() == torch::kFloat && t.dim() == 2 &&
         t.is_contiguous() && !t.requires_grad();
}

/// y = g c + (1 - g) p over one block of n, clamped to [lo, hi].
void update_block(const float* __restrict p, const float* __restrict a,
                  const float* __restrict c, float* __restrict y, int64_t n,
                  float lo, float hi) {
  for (int64_t j = 0; j < n; ++j) {
    float g, one_minus_g;
    vmath::sigmoid_pair(a[j], g, one_minus_g);
    const float v = g * c[j] + one_minus_g * p[j];
    y[j] = v < lo ? lo : (v > hi ? hi : v);
  }
}

/// The gradients of update_block for dy: dp = dy (1 - g), da = dy (c - p)
/// g (1 - g), zero where the clamp held v (torch.clamp's: kept at the ends).
void update_block_backward(const float* __restrict dy,
                           const float* __restrict p, const float* __restrict a,
                           const float* __restrict c, float* __restrict dp,
                           float* __restrict da, int64_t n, float lo,
                           float hi) {
  for (int64_t j = 0; j < n; ++j) {
    float g, one_minus_g;
    vmath::sigmoid_pair(a[j], g, one_minus_g);
    const float v = g * c[j] + one_minus_g * p[j];
    const float d = (v < lo || v > hi) ? 0.0f : dy[j];
    dp[j] = d * one_minus_g;
    da[j] = d * (c[j] - p[j]) * (g * one_minus_g);
  }
}

constexpr float kNoClamp = std::numeric_limits<float>::infinity();

/// Both blocks' rows: mu unclamped, logvar clamped.
void update_rows(const torch::Tensor& out, const Posterior& current,
                 const Posterior& next) {
  const int64_t rows = out.size(0), z = current.mu.size(1);
  const float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = o + i * 4 * z;
    update_block(row, row + z, current.mu.data_ptr<float>() + i * z,
                 next.mu.data_ptr<float>() + i * z, z, -kNoClamp, kNoClamp);
    update_block(
        row + 2 * z, row + 3 * z, current.logvar.data_ptr<float>() + i * z,
        next.logvar.data_ptr<float>() + i * z, z,
        static_cast<float>(kMinLogvar), static_cast<float>(kMaxLogvar));
  }
}

struct GatedUpdate : torch::autograd::Function<GatedUpdate> {
  static torch::autograd::variable_list forward(
      torch::autograd::AutogradContext* ctx, const torch::Tensor& out,
      const torch::Tensor& mu, const torch::Tensor& logvar) {
    const Posterior current{mu, logvar};
    Posterior next{torch::empty_like(mu), torch::empty_like(logvar)};
    update_rows(out, current, next);
    ctx->save_for_backward({out, mu, logvar});
    return {next.mu, next.logvar};
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& out = saved[0];
    const int64_t rows = out.size(0), z = saved[1].size(1);
    torch::Tensor d_out = torch::empty_like(out);
    const torch::Tensor d_mu =
        grad[0].defined() ? grad[0].contiguous() : torch::zeros_like(saved[1]);
    const torch::Tensor d_logvar =
        grad[1].defined() ? grad[1].contiguous() : torch::zeros_like(saved[2]);
    if (torch::GradMode::is_enabled()) {
      // A graph of this backward pass: the formula, differentiable.
      auto parts = out.chunk(4, 1);
      auto block = [](const torch::Tensor& dy, const torch::Tensor& p,
                      const torch::Tensor& a, const torch::Tensor& c, double lo,
                      double hi) {
        auto g = torch::sigmoid(a);
        auto v = g * c + (1 - g) * p;
        auto d = dy * ((v >= lo) & (v <= hi)).to(dy.scalar_type());
        return std::vector<torch::Tensor>{d * (1 - g),
                                          d * (c - p) * g * (1 - g)};
      };
      auto m = block(d_mu, parts[0], parts[1], saved[1], -kNoClamp, kNoClamp);
      auto l =
          block(d_logvar, parts[2], parts[3], saved[2], kMinLogvar, kMaxLogvar);
      return {torch::cat({m[0], m[1], l[0], l[1]}, 1), torch::Tensor(),
              torch::Tensor()};
    }
    const float* o = out.data_ptr<float>();
    float* d = d_out.data_ptr<float>();
    for (int64_t i = 0; i < rows; ++i) {
      const float* row = o + i * 4 * z;
      float* drow = d + i * 4 * z;
      update_block_backward(d_mu.data_ptr<float>() + i * z, row, row + z,
                            saved[1].data_ptr<float>() + i * z, drow, drow + z,
                            z, -kNoClamp, kNoClamp);
      update_block_backward(
          d_logvar.data_ptr<float>() + i * z, row + 2 * z, row + 3 * z,
          saved[2].data_ptr<float>() + i * z, drow + 2 * z, drow + 3 * z, z,
          static_cast<float>(kMinLogvar), static_cast<float>(kMaxLogvar));
    }
    return {d_out, torch::Tensor(), torch::Tensor()};
  }
};

/// The same update on LibTorch's operators (a GPU), both blocks at once:
/// out viewed as (B, 2, 2, Z) holds the proposals p and gate inputs a of
/// mu and logvar, lambda stacked as c (B, 2, Z), v = lerp(p, c, sigmoid(a)).
/// The forward pass is five kernels, as the formula's; the backward pass
/// writes dp = d (1 - g) and da = d (c - p) g (1 - g) into out's gradient in
/// eight, where autograd's pass through the formula launches about twenty.
struct GatedUpdateOps : torch::autograd::Function<GatedUpdateOps> {
  static torch::autograd::variable_list forward(
      torch::autograd::AutogradContext* ctx, const torch::Tensor& out,
      const torch::Tensor& mu, const torch::Tensor& logvar) {
    const int64_t rows = mu.size(0), z = mu.size(1);
    const torch::Tensor blocks = out.reshape({rows, 2, 2, z});
    const torch::Tensor p = blocks.select(2, 0), a = blocks.select(2, 1);
    const torch::Tensor c = torch::stack({mu, logvar}, 1);
    const torch::Tensor g = torch::sigmoid(a);
    const torch::Tensor v = torch::lerp(p, c, g);
    const torch::Tensor next_logvar =
        torch::clamp(v.select(1, 1), kMinLogvar, kMaxLogvar);
    ctx->save_for_backward({out, c, g, v, next_logvar});
    return {v.select(1, 0).contiguous(), next_logvar};
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &out = saved[0], &c = saved[1], &g = saved[2],
                        &v = saved[3], &next_logvar = saved[4];
    const int64_t rows = c.size(0), z = c.size(2);
    const torch::Tensor d_mu =
        grad[0].defined() ? grad[0] : torch::zeros_like(next_logvar);
    const torch::Tensor d_logvar =
        grad[1].defined() ? grad[1] : torch::zeros_like(next_logvar);
    if (torch::GradMode::is_enabled()) {
      // A graph of this backward pass: the formula, differentiable (the
      // clamp's gradient kept at its ends, as torch.clamp's).
      const torch::Tensor v_logvar = v.select(1, 1);
      const torch::Tensor inside =
          ((v_logvar >= kMinLogvar) & (v_logvar <= kMaxLogvar))
              .to(d_logvar.scalar_type());
      const torch::Tensor d = torch::stack({d_mu, d_logvar * inside}, 1);
      // The gate again from out: the saved one carries no graph to it.
      const torch::Tensor blocks = out.reshape({rows, 2, 2, z});
      const torch::Tensor p = blocks.select(2, 0);
      const torch::Tensor s = torch::sigmoid(blocks.select(2, 1));
      const torch::Tensor dp = d * (1 - s), da = d * (c - p) * s * (1 - s);
      return {torch::stack({dp, da}, 2).reshape({rows, 4 * z}),
              torch::Tensor(), torch::Tensor()};
    }
    // The clamp passes the gradient where it kept v (v == clamp(v): inside
    // [lo, hi], its ends included; never at a NaN).
    const torch::Tensor d_kept =
        at::where(v.select(1, 1) == next_logvar, d_logvar, 0.0);
    const torch::Tensor d = torch::stack({d_mu, d_kept}, 1);
    torch::Tensor d_out = torch::empty({rows, 2, 2, z}, out.options());
    torch::Tensor dp = d_out.select(2, 0), da = d_out.select(2, 1);
    const torch::Tensor p = out.reshape({rows, 2, 2, z}).select(2, 0);
    const torch::Tensor dg = d * g;
    at::sub_out(dp, d, dg);
    at::sub_out(da, c, p);
    da.mul_(d);
    at::sigmoid_backward_out(da, da, g);
    return {d_out.view({rows, 4 * z}), torch::Tensor(), torch::Tensor()};
  }
};

/// Whether GatedUpdateOps takes out and lambda: float32 or float64 on one
/// device, lambda detached (the training step's detached iterations and
/// inference; unrolled training's graph through lambda keeps the formula).
bool takes_with_operators(const torch::Tensor& out, const Posterior& current) {
  if (current.point() || !out.defined() || out.dim() != 2 ||
      (out.scalar_type() != torch::kFloat &&
       out.scalar_type() != torch::kDouble) ||
      autocast_enabled(out.device().type())) {
    return false;
  }
  for (const auto* t : {&current.mu, &current.logvar}) {
    if (t->dim() != 2 || t->requires_grad() ||
        t->scalar_type() != out.scalar_type() || t->device() != out.device() ||
        t->size(0) != out.size(0) || t->size(1) * 4 != out.size(1)) {
      return false;
    }
  }
  return true;
}

}  // namespace

torch::Tensor log_sign_input(const Posterior& gradient,
                             const Posterior& lambda) {
  if (gradient.point() || lambda.point() || !plain_float(gradient.mu) ||
      !plain_float(gradient.logvar) || !plain_float(lambda.mu) ||
      !plain_float(lambda.logvar)) {
    return torch::Tensor();
  }
  const int64_t rows = lambda.mu.size(0), z = lambda.mu.size(1);
  for (const auto* t : {&gradient.mu, &gradient.logvar, &lambda.logvar}) {
    if (t->size(0) != rows || t->size(1) != z) return torch::Tensor();
  }
  torch::Tensor in = torch::empty({rows, 6 * z}, lambda.mu.options());
  float* dst = in.data_ptr<float>();
  const float offset = static_cast<float>(kEncodingOffset);
  for (int64_t i = 0; i < rows; ++i) {
    float* row = dst + i * 6 * z;
    int64_t block = 0;
    for (const auto* g : {&gradient.mu, &gradient.logvar}) {
      const float* src = g->data_ptr<float>() + i * z;
      float* logs = row + block * z;
      float* signs = logs + z;
      for (int64_t j = 0; j < z; ++j) {
        const float v = src[j];
        logs[j] = std::log(std::fabs(v) + offset);
        signs[j] = static_cast<float>((v > 0.0f) - (v < 0.0f));  // torch.sign
      }
      block += 2;
    }
    std::copy_n(lambda.mu.data_ptr<float>() + i * z, z, row + 4 * z);
    std::copy_n(lambda.logvar.data_ptr<float>() + i * z, z, row + 5 * z);
  }
  return in;
}

std::optional<Posterior> gated_update(const torch::Tensor& out,
                                      const Posterior& current) {
  if (!cpu::own_kernels_on(out.device()) &&
      takes_with_operators(out, current)) {
    const auto next = GatedUpdateOps::apply(out, current.mu, current.logvar);
    return Posterior{next[0], next[1]};
  }
  if (current.point() || !plain_float(current.mu) ||
      !plain_float(current.logvar) || !out.defined() ||
      !cpu::own_kernels_on(out.device()) || out.scalar_type() != torch::kFloat ||
      out.dim() != 2 || !out.is_contiguous()) {
    return std::nullopt;
  }
  const int64_t rows = current.mu.size(0), z = current.mu.size(1);
  if (current.logvar.sizes() != current.mu.sizes() || out.size(0) != rows ||
      out.size(1) != 4 * z) {
    return std::nullopt;
  }
  if (torch::GradMode::is_enabled() && out.requires_grad()) {
    auto next = GatedUpdate::apply(out, current.mu, current.logvar);
    return Posterior{next[0], next[1]};
  }
  Posterior next{torch::empty_like(current.mu),
                 torch::empty_like(current.logvar)};
  update_rows(out, current, next);
  return next;
}

}  // namespace iai::inference
