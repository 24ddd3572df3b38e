#include "iai/train/fused_adam.h"

#include <ATen/Parallel.h>
#include <c10/util/string_utils.h>
#include <torch/utils.h>

#include <cmath>
#include <string>
#include <type_traits>

namespace iai::train {

namespace {

using torch::optim::AdamOptions;
using torch::optim::AdamParamState;

/// The optimizer's state map is keyed by the parameter's TensorImpl: as a
/// string in LibTorch 1.x, as the pointer itself in later versions.
template <class StateMap>
auto state_key(const StateMap&, const torch::Tensor& p) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    return c10::guts::to_string(p.unsafeGetTensorImpl());
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

bool float_array(const torch::Tensor& t) {
  return t.device().is_cpu() && t.layout() == torch::kStrided &&
         t.scalar_type() == torch::kFloat && t.is_contiguous();
}

/// exp_avg     = beta1 exp_avg + (1 - beta1) g
/// exp_avg_sq  = beta2 exp_avg_sq + (1 - beta2) g^2
/// p          -= step_size exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps)
/// as torch::optim::Adam computes it, in float, one element at a time.
void adam_loop(float* p, const float* g, float* m, float* v, int64_t n,
               float beta1, float c1, float beta2, float c2, float sqrt_bc2,
               float eps, float neg_step) {
  // Large grains: the loop is memory-bound, threads help only on big tensors.
  at::parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i];
      const float mi = m[i] * beta1 + c1 * gi;
      const float vi = v[i] * beta2 + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] += neg_step * mi / (__builtin_sqrtf(vi) / sqrt_bc2 + eps);
    }
  });
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  auto& states = state();
  // What the loop does not cover (amsgrad, weight decay, other dtypes,
  // layouts or devices) is stepped by the library's Adam, all of it.
  for (auto& group : param_groups()) {
    auto& options = static_cast<AdamOptions&>(group.options());
    bool covered = !options.amsgrad() && options.weight_decay() == 0;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      covered = covered && float_array(p) && float_array(p.grad());
      auto found = states.find(state_key(states, p));
      if (found != states.end()) {
        auto& s = static_cast<AdamParamState&>(*found->second);
        covered = covered && float_array(s.exp_avg()) &&
                  float_array(s.exp_avg_sq());
      }
    }
    if (!covered) {
      torch::optim::Adam::step(nullptr);
      return loss;
    }
  }
  for (auto& group : param_groups()) {
    auto& options = static_cast<AdamOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas());
    const double beta2 = std::get<1>(options.betas());
    for (auto& p : group.params()) {
      const torch::Tensor& grad = p.grad();
      if (!grad.defined()) continue;
      const auto key = state_key(states, p);
      auto found = states.find(key);
      if (found == states.end()) {
        auto fresh = std::make_unique<AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        found = states.emplace(key, std::move(fresh)).first;
      }
      auto& state = static_cast<AdamParamState&>(*found->second);
      state.step(state.step() + 1);
      const double bc1 = 1 - std::pow(beta1, state.step());
      const double bc2 = 1 - std::pow(beta2, state.step());
      torch::Tensor m = state.exp_avg();
      torch::Tensor v = state.exp_avg_sq();
      adam_loop(p.data_ptr<float>(), grad.data_ptr<float>(), m.data_ptr<float>(),
                v.data_ptr<float>(), p.numel(), static_cast<float>(beta1),
                // 1 - beta in double, then rounded, as ATen's alpha is.
                static_cast<float>(1 - beta1), static_cast<float>(beta2),
                static_cast<float>(1 - beta2),
                static_cast<float>(std::sqrt(bc2)),
                static_cast<float>(options.eps()),
                static_cast<float>(-options.lr() / bc1));
    }
  }
  return loss;
}

}  // namespace iai::train
