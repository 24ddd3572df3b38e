#include "iai/train/optim/fused_adam.h"

#include "iai/cpu/own_kernels.h"
#include "iai/train/optim/adam_rows.h"

#include <ATen/Parallel.h>
#include <torch/utils.h>

#include <cmath>
#include <optional>
#include <sstream>
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
    std::ostringstream key;  // as c10::guts::to_string wrote the pointer
    key << p.unsafeGetTensorImpl();
    return key.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

/// A float tensor the multi-tensor kernels take (any device).
bool dense_float(const torch::Tensor& t) {
  return t.layout() == torch::kStrided && t.scalar_type() == torch::kFloat;
}

bool float_array(const torch::Tensor& t) {
  return cpu::own_kernels_on(t.device()) &&
         t.layout() == torch::kStrided &&
         t.scalar_type() == torch::kFloat && t.is_contiguous();
}

/// One array's Adam update (train/optim/adam_rows.h), over LibTorch's threads.
void adam_loop(float* p, const float* g, float* m, float* v, int64_t n,
               const AdamConstants& c) {
  const AdamRowKernels& k = adam_rows();
  // Large grains: the loop is memory-bound, threads help only on big tensors.
  at::parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    k.step(p + begin, g + begin, m + begin, v + begin, end - begin, c);
  });
}

}  // namespace

FusedAdam::Path FusedAdam::path_for_step() {
  auto& states = state();
  bool loop = true, multi = true;
  for (auto& group : param_groups()) {
    auto& options = static_cast<AdamOptions&>(group.options());
    if (options.amsgrad() || options.weight_decay() != 0) {
      return Path::kLibrary;
    }
    std::optional<torch::Device> device;
    std::optional<int64_t> step;
    for (auto& p : group.params()) {
      const torch::Tensor& g = p.grad();
      if (!g.defined()) continue;
      loop = loop && float_array(p) && float_array(g);
      multi = multi && dense_float(p) && dense_float(g) &&
              g.device() == p.device() && (!device || *device == p.device());
      device = p.device();
      auto found = states.find(state_key(states, p));
      const int64_t s =
          found == states.end()
              ? 0
              : static_cast<AdamParamState&>(*found->second).step();
      multi = multi && (!step || *step == s);
      step = s;
      if (found != states.end()) {
        auto& st = static_cast<AdamParamState&>(*found->second);
        loop =
            loop && float_array(st.exp_avg()) && float_array(st.exp_avg_sq());
        multi = multi && dense_float(st.exp_avg()) &&
                dense_float(st.exp_avg_sq()) &&
                st.exp_avg().device() == p.device();
      }
    }
  }
  if (forced_ == Path::kMultiTensor) return multi ? forced_ : Path::kLibrary;
  if (forced_ == Path::kLibrary) return forced_;
  if (loop) return Path::kLoop;
  return multi ? Path::kMultiTensor : Path::kLibrary;
}

AdamParamState& FusedAdam::state_of(const torch::Tensor& p) {
  auto& states = state();
  const auto key = state_key(states, p);
  auto found = states.find(key);
  if (found == states.end()) {
    auto fresh = std::make_unique<AdamParamState>();
    fresh->step(0);
    fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    found = states.emplace(key, std::move(fresh)).first;
  }
  return static_cast<AdamParamState&>(*found->second);
}

void FusedAdam::loop_step() {
  for (auto& group : param_groups()) {
    auto& options = static_cast<AdamOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas());
    const double beta2 = std::get<1>(options.betas());
    for (auto& p : group.params()) {
      const torch::Tensor& grad = p.grad();
      if (!grad.defined()) continue;
      auto& state = state_of(p);
      state.step(state.step() + 1);
      const double bc1 = 1 - std::pow(beta1, state.step());
      const double bc2 = 1 - std::pow(beta2, state.step());
      torch::Tensor m = state.exp_avg();
      torch::Tensor v = state.exp_avg_sq();
      // 1 - beta in double, then rounded, as ATen's alpha is.
      const AdamConstants constants{static_cast<float>(beta1),
                                    static_cast<float>(1 - beta1),
                                    static_cast<float>(beta2),
                                    static_cast<float>(1 - beta2),
                                    static_cast<float>(std::sqrt(bc2)),
                                    static_cast<float>(options.eps()),
                                    static_cast<float>(-options.lr() / bc1)};
      adam_loop(p.data_ptr<float>(), grad.data_ptr<float>(),
                m.data_ptr<float>(), v.data_ptr<float>(), p.numel(), constants);
      // Written through raw pointers: bumped as an in-place op would, so
      // what was made from p and stamped with its version (the iterative
      // encoder's data part, gemm::FrozenWeights) is made again.
      for (torch::Tensor* t : {&p, &m, &v}) {
        t->unsafeGetTensorImpl()->bump_version();
      }
    }
  }
}

void FusedAdam::multi_tensor_step() {
  for (auto& group : param_groups()) {
    auto& options = static_cast<AdamOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas());
    const double beta2 = std::get<1>(options.betas());
    std::vector<torch::Tensor> params, grads, m, v;
    int64_t step = 0;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& state = state_of(p);
      state.step(state.step() + 1);
      step = state.step();  // the same for every tensor (path_for_step)
      params.push_back(p);
      grads.push_back(p.grad());
      m.push_back(state.exp_avg());
      v.push_back(state.exp_avg_sq());
    }
    if (params.empty()) continue;
    const double bc1 = 1 - std::pow(beta1, step);
    const double bc2 = 1 - std::pow(beta2, step);
    // torch::optim::Adam's arithmetic, op for op, over all tensors at once.
    at::_foreach_mul_(m, beta1);
    at::_foreach_add_(m, grads, 1 - beta1);
    at::_foreach_mul_(v, beta2);
    at::_foreach_addcmul_(v, grads, grads, 1 - beta2);
    std::vector<torch::Tensor> denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, std::sqrt(bc2));
    at::_foreach_add_(denom, options.eps());
    at::_foreach_addcdiv_(params, m, denom, -options.lr() / bc1);
  }
}

torch::Tensor FusedAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  last_path_ = path_for_step();
  switch (last_path_) {
    case Path::kLoop:
      loop_step();
      break;
    case Path::kMultiTensor:
      multi_tensor_step();
      break;
    default:
      torch::optim::Adam::step(nullptr);
  }
  return loss;
}

}  // namespace iai::train
