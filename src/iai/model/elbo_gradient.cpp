#include "iai/model/elbo_gradient.h"

#include "iai/core/error.h"
#include "iai/core/torch_compat.h"
#include "iai/cpu/gemm.h"
#include "iai/cpu/known_finite.h"
#include "iai/cpu/own_kernels.h"
#include "iai/dist/bernoulli.h"
#include "iai/dist/gaussian.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/nn/elu.h"
#include "iai/nn/linear.h"

#include <vector>

namespace iai::model {

namespace {

/// The decoder's Dense layers, input to output: the body's, then the head.
std::vector<nn::DenseImpl*> decoder_layers(LatentGaussianModelImpl& model) {
  std::vector<nn::DenseImpl*> layers;
  for (const auto& layer : *model.body->layers) {
    layers.push_back(layer->as<nn::DenseImpl>());
  }
  layers.push_back(model.head.get());
  return layers;
}

/// A float32 tensor on `device`.
bool float_on(const torch::Tensor& t, const torch::Device& device) {
  return t.defined() && t.device() == device &&
         t.scalar_type() == torch::kFloat && t.layout() == torch::kStrided;
}

/// The paper's MLP model with its own decoder, or null.
LatentGaussianModelImpl* mlp_model(GenerativeModelImpl& model) {
  auto* mlp = dynamic_cast<LatentGaussianModelImpl*>(&model);
  return mlp != nullptr && mlp->body ? mlp : nullptr;
}

}  // namespace

bool has_elbo_gradient(GenerativeModelImpl& generative, const torch::Tensor& x,
                       const torch::Tensor& mu, const torch::Tensor& logvar) {
  LatentGaussianModelImpl* mlp = mlp_model(generative);
  if (mlp == nullptr) return false;
  LatentGaussianModelImpl& model = *mlp;
  const auto& o = model.options;
  if (model.levels() != 1 || o.likelihood() != Likelihood::kBernoulli ||
      o.kind() != nn::MlpKind::kSequential || o.batch_norm()) {
    return false;
  }
  // On the CPU with oneDNN's products (whose fused ELU the backward pass
  // takes its slope from), or on a GPU (LibTorch's products and
  // operators: fewer kernels than autograd's pass, and no graph); never
  // under autocast, whose products this pass would not follow.
  const torch::Device device = x.device();
  if (cpu::own_kernels_on(device)
          ? !gemm::uses_onednn() || autocast_enabled(torch::kCPU)
          : !(device.is_cuda() || device.is_cpu()) ||
                autocast_enabled(device.type())) {
    return false;
  }
  // An undefined logvar (a point estimate) is not float_on.
  if (!float_on(x, device) || !float_on(mu, device) ||
      !float_on(logvar, device) || x.dim() != 2 || mu.dim() != 2 ||
      x.size(1) != o.data_dim() || mu.sizes() != logvar.sizes() ||
      mu.size(0) != x.size(0) || x.requires_grad()) {
    return false;
  }
  for (nn::DenseImpl* layer : decoder_layers(model)) {
    if (!layer->options.bias() || !float_on(layer->linear->weight, device) ||
        !float_on(layer->linear->bias, device)) {
      return false;
    }
  }
  return true;
}

namespace {

/// A layer's gradients, sums over g's rows of g^T inputs and of g, noted
/// finite where their factors prove it (cpu/known_finite.h): the training
/// step then need not read them back.
void note_finite_gradients(const torch::nn::LinearImpl& l,
                           const torch::Tensor& g,
                           const torch::Tensor& inputs) {
  cpu::KnownFinite* known = cpu::KnownFinite::active();
  if (known == nullptr) return;
  const int64_t rows = g.size(0);
  const cpu::Magnitude of_g = cpu::magnitude(g);
  if (cpu::sum_of_products_finite(rows, of_g, cpu::magnitude(inputs))) {
    known->note(l.weight.grad());
  }
  if (cpu::sum_finite(rows, of_g)) known->note(l.bias.grad());
}

}  // namespace

ElboGradient elbo_gradient(GenerativeModelImpl& generative,
                           const torch::Tensor& x, const torch::Tensor& mu,
                           const torch::Tensor& logvar, int64_t samples,
                           double scale, double parameter_scale) {
  IAI_CHECK(samples >= 1, "elbo_gradient: samples must be >= 1, got ", samples);
  LatentGaussianModelImpl* mlp = mlp_model(generative);
  IAI_CHECK(mlp != nullptr,
            "elbo_gradient: the model is not the paper's MLP model "
            "(has_elbo_gradient is false)");
  LatentGaussianModelImpl& model = *mlp;
  torch::NoGradGuard no_grad;
  const int64_t batch = x.size(0), latent = mu.size(1);
  const torch::Tensor m = mu.detach(), lv = logvar.detach();
  const torch::Tensor xs = x.contiguous();

  // z = mu + exp(logvar / 2) eps from dist::rsample's draws and operations,
  // so L matches model::elbo's bit for bit; eps is kept for the gradient.
  const torch::Tensor eps = dist::standard_noise(m, samples);  // (S,B,Z)
  const torch::Tensor sd = torch::exp(0.5 * lv);
  const torch::Tensor z = dist::reparameterise_sd(m, sd, eps);

  // Forward: inputs[k] is layer k's input; the body's outputs are ELUs.
  const std::vector<nn::DenseImpl*> layers = decoder_layers(model);
  std::vector<torch::Tensor> inputs{z};
  for (size_t k = 0; k + 1 < layers.size(); ++k) {
    const auto& l = *layers[k]->linear;
    inputs.push_back(nn::linear_elu(inputs.back(), l.weight, l.bias));
  }
  const auto& head = *layers.back()->linear;
  const torch::Tensor logits =
      nn::linear(inputs.back(), head.weight, head.bias).contiguous();

  // log p(x | z_s) per row and its gradient in the logits, eps_x = x -
  // sigmoid(logits), in one pass.
  const torch::Tensor residual = torch::empty_like(logits);
  const torch::Tensor log_px =
      dist::bernoulli_log_prob_and_residual(xs, logits, residual);
  ElboGradient out;
  out.terms.reconstruction = log_px.view({samples, batch}).mean(0);
  out.terms.kl = dist::kl_standard_normal(m, lv);
  out.terms.kl_levels = {out.terms.kl};
  out.terms.elbo = out.terms.reconstruction - out.terms.kl;

  // Backward. d(sum_b L_b)/d logits = eps_x / S (L averages the samples).
  // It is carried through the products unscaled and the scale applied to
  // the Z-wide result; with parameter gradients the residual is scaled
  // once instead, so every parameter's gradient comes out scaled.
  const bool parameters = parameter_scale != 0.0;
  double carried = 1.0;  // the factor the products carry
  if (parameters) {
    carried = parameter_scale / static_cast<double>(samples);
    residual.mul_(carried);
  }
  torch::Tensor g = residual;  // gradient at layer k's output
  for (size_t k = layers.size(); k-- > 0;) {
    auto& l = *layers[k]->linear;
    if (parameters) {
      l.weight.mutable_grad() = gemm::mm(g.t(), inputs[k]);
      l.bias.mutable_grad() = g.sum(0);
      note_finite_gradients(l, g, inputs[k]);
    }
    torch::Tensor below = gemm::mm(g, l.weight);  // at layer k's input
    // Layer k - 1's ELU, its slope from its output (y + 1 = exp(x), x <= 0).
    if (k > 0) nn::elu_backward_from_output_(below, inputs[k]);
    g = below;
  }

  // eq. 9: grad_mu L = J^T eps_x - eps_z, eps_z = mu (prior N(0, I)); and
  // through z = mu + exp(logvar / 2) eps, grad_logvar = (J^T eps_x) eps sd
  // / 2 - (exp(logvar) - 1) / 2 (the KL's gradient).
  const double factor = scale / (carried * static_cast<double>(samples));
  const torch::Tensor dz = g.view({samples, batch, latent});
  // In as few operators as the formulas allow (each a kernel on a GPU).
  out.mu = torch::sub(dz.sum(0).mul_(factor), m, scale);
  out.logvar = torch::addcmul(torch::expm1(lv).mul_(-0.5 * scale),
                              (dz * eps).sum(0), sd, 0.5 * factor);
  return out;
}

}  // namespace iai::model
