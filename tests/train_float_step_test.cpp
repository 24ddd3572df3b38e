// The float32 training step that `iai train` runs on the CPU, at the paper's
// MNIST shapes (D = 784, Z = 64, 512 units, B = 64; S = 10, T = 5 for the
// iterative models), against the procedure of docs/reference.md written out
// here in plain LibTorch ops, in double precision, with autograd. The reference
// shares nothing with iai but the weights (copied out by name) and the noise
// (the same generator, drawn in the step's order): no iai module, no
// model::elbo, no procedure->update.
//
// Each iteration is compared on its own: the reference's iteration t starts
// from the lambda_{t-1} and grad_{t-1} the step handed its inference model
// (recorded on the way in), and its own lambda_t and grad_t are compared
// with the step's next ones. A trajectory run freely in float32 leaves the
// double one by 1e-4 to 3e-3 (relative) at T = 5, for the reference written
// in float32 as for the step: near the ELBO's optimum grad_lambda is a
// difference of nearly equal terms, and the encoder reads log |g| and
// sign g. One iteration from the same inputs agrees to about 1e-6.
//
// At these shapes and in float32 the single-level iterative step takes
// every fused path, which a double-precision test on a tiny model never
// reaches: the ELBO's gradient by hand (model/elbo_gradient.h, single-level
// Bernoulli), the log-sign input written in one pass and the gated highway
// update (inference/gated_update.h), the highway and ELU row kernels
// (nn/highway_rows.h, nn/elu_rows.h), the encoder's first product split
// into the data's part and the rest (nn::linear_constant_columns) and the
// weight gradients deferred to one product over the T passes
// (nn/deferred_weight_gradients.h).
//
// Mutations seen to fail (applied to the source, run, reverted); SI, SS,
// HI, HS: single-level iterative and standard, hierarchical iterative and
// standard:
//  - model/elbo_gradient.cpp: grad_mu without its -eps_z = -mu term (SI, SS).
//  - inference/gated_update.cpp, log_sign_input: the offset 1e-5 -> 1e-6
//    inside the log (SI).
//  - inference/gated_update.cpp, update_block_backward: the gate's gradient
//    without its factor (1 - g) (SI).
//  - nn/highway_rows.cpp, backward: the carry's gradient d (1 - g) for d g
//    (SI, SS, HI, HS: every encoder is a highway network).
//  - nn/elu_rows.cpp, backward from the output: the slope 1 for y + 1 (SI,
//    SS, HI, HS).
//  - nn/deferred_weight_gradients.cpp: the constant (data) columns' weight
//    gradient without the second pass's delta (SI, HI).
// The hierarchical model is the paper's two-level MNIST model without batch
// normalisation (with it no fused path applies) and with gradient encoding.
// Its ELBO goes through autograd, and each level's lambda and gradient are
// column slices, which the one-pass log-sign input and gated update do not
// take (those two mutations leave HI passing): there the row kernels and
// the deferred weight gradients are what is fused.

#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "iai/inference/inference_procedure.h"
#include "iai/train/config/config.h"
#include "iai/train/config/factory.h"
#include "iai/train/step/training_step.h"
#include "test_support.h"

namespace {

using iai::train::TrainConfig;
using Float32StepTest = iai::testing::Seeded;

constexpr int64_t kD = 784, kB = 64;
/// Relative error allowed (per parameter, in the L2 norm): float32 rounding
/// of the step against a double reference.
constexpr double kTolerance = 1e-4;

/// A module's parameters, by name, as double leaves.
using Weights = std::map<std::string, torch::Tensor>;

Weights copy_weights(torch::nn::Module& module) {
  Weights out;
  for (const auto& item : module.named_parameters()) {
    out[item.key()] = item.value().detach().to(torch::kDouble).requires_grad_();
  }
  return out;
}

const torch::Tensor& at(const Weights& w, const std::string& name) {
  auto it = w.find(name);
  if (it == w.end()) throw std::runtime_error("no parameter " + name);
  return it->second;
}

torch::Tensor dense(const Weights& w, const std::string& layer,
                    const torch::Tensor& x) {
  return torch::matmul(x, at(w, layer + ".linear.weight").t()) +
         at(w, layer + ".linear.bias");
}

/// ELU with alpha 1, written out.
torch::Tensor elu_of(const torch::Tensor& y) {
  return torch::where(y > 0, y, torch::exp(torch::clamp_max(y, 0.0)) - 1.0);
}

/// A highway network: h <- g c + (1 - g) ELU(W h), g = sigmoid(V h), the
/// carry c the layer's input, or W'_0 x at the first layer; the layer's
/// product is [W h, V h (, W'_0 h)].
torch::Tensor highway_net(const Weights& w, const std::string& net,
                          torch::Tensor h, int64_t layers) {
  for (int64_t k = 0; k < layers; ++k) {
    auto y = dense(w, net + ".layers." + std::to_string(k), h);
    auto parts = y.chunk(k == 0 ? 3 : 2, 1);
    auto g = torch::sigmoid(parts[1]);
    auto carry = k == 0 ? parts[2] : h;
    h = g * carry + (1 - g) * elu_of(parts[0]);
  }
  return h;
}

torch::Tensor sequential_net(const Weights& w, const std::string& net,
                             torch::Tensor h, int64_t layers) {
  for (int64_t k = 0; k < layers; ++k) {
    h = elu_of(dense(w, net + ".layers." + std::to_string(k), h));
  }
  return h;
}

const double kLog2Pi = std::log(2 * M_PI);

torch::Tensor gaussian_log_density(const torch::Tensor& z,
                                   const torch::Tensor& mu,
                                   const torch::Tensor& logvar) {
  return -0.5 *
         (kLog2Pi + logvar + (z - mu).pow(2) * torch::exp(-logvar)).sum(-1);
}

/// The model under test, one of four.
struct Case {
  bool hierarchical;
  bool iterative;
};

TrainConfig config_of(const Case& c) {
  TrainConfig config;  // the paper's MNIST defaults: Z 64, 2 x 512, B 64
  config.inference = c.iterative ? "iterative" : "standard";
  if (c.hierarchical) {
    // The paper's two-level MNIST model (configs/mnist-hierarchical-*.toml)
    // without batch normalisation, with gradient encoding.
    config.model = "hierarchical";
    config.upper_latent = {32};
    config.deterministic = 64;
    config.decoder_kind = "highway";
  }
  return iai::train::resolve(config);
}

/// The reference's decoder and ELBO for one case.
struct Reference {
  Case c;
  TrainConfig config;
  Weights theta, phi;
  torch::Tensor x;  // (B,D) double

  int64_t z1() const { return config.latent; }
  int64_t z_all() const {
    return c.hierarchical ? config.latent + 32 : config.latent;
  }

  struct Generated {
    torch::Tensor logits, prior_mu, prior_logvar;
  };
  Generated generate(const torch::Tensor& z, bool with_output = true) const {
    const int64_t layers = config.decoder_layers;
    if (!c.hierarchical) {
      return {dense(theta, "head", sequential_net(theta, "body", z, layers)),
              {},
              {}};
    }
    auto z1 = z.narrow(1, 0, this->z1()), z2 = z.narrow(1, this->z1(), 32);
    auto h = highway_net(theta, "upper_bodies.0", z2, layers);
    auto p = dense(theta, "prior_heads.0", h).chunk(2, 1);
    Generated out{{}, p[0], p[1].clamp(-15, 15)};
    if (!with_output) return out;
    auto units = elu_of(dense(theta, "deterministic_heads.0", h));
    out.logits =
        dense(theta, "head",
              highway_net(theta, "body", torch::cat({z1, units}, 1), layers));
    return out;
  }

  /// L_b (B) at q = N(mu, exp(logvar)) from eps (S,B,Z).
  torch::Tensor elbo(const torch::Tensor& mu, const torch::Tensor& logvar,
                     const torch::Tensor& eps) const {
    const int64_t samples = eps.size(0);
    auto z = (mu.unsqueeze(0) + torch::exp(0.5 * logvar).unsqueeze(0) * eps)
                 .reshape({-1, mu.size(1)});
    auto g = generate(z);
    auto logits = g.logits.view({samples, kB, kD});
    // log Bernoulli(x; sigmoid(l)) = x l - log(1 + e^l).
    auto reconstruction =
        (x.unsqueeze(0) * logits - torch::softplus(logits)).sum(-1).mean(0);
    auto kl_top = [](const torch::Tensor& m, const torch::Tensor& lv) {
      return 0.5 * (torch::exp(lv) + m * m - 1 - lv).sum(-1);
    };
    if (!c.hierarchical) return reconstruction - kl_top(mu, logvar);
    auto per_sample = [&](const torch::Tensor& t) {
      return t.view({samples, kB, -1});
    };
    auto z1 = per_sample(z.narrow(1, 0, z1_width()));
    auto kl1 = (gaussian_log_density(z1, mu.narrow(1, 0, z1_width()),
                                     logvar.narrow(1, 0, z1_width())) -
                gaussian_log_density(z1, per_sample(g.prior_mu),
                                     per_sample(g.prior_logvar)))
                   .mean(0);
    return reconstruction - kl1 -
           kl_top(mu.narrow(1, z1_width(), 32),
                  logvar.narrow(1, z1_width(), 32));
  }
  int64_t z1_width() const { return z1(); }

  /// lambda_0: the prior; level 1's from 10 samples of level 2's N(0, I).
  std::pair<torch::Tensor, torch::Tensor> initial(
      const torch::Tensor& prior_eps) const {
    auto mu = torch::zeros({kB, z_all()}, torch::kDouble);
    auto logvar = torch::zeros({kB, z_all()}, torch::kDouble);
    if (!c.hierarchical) return {mu, logvar};
    torch::NoGradGuard no_grad;
    // z = 0 + exp(0) eps.
    auto g = generate(prior_eps.reshape({-1, z_all()}), false);
    mu.narrow(1, 0, z1()).copy_(g.prior_mu.view({-1, kB, z1()}).mean(0));
    logvar.narrow(1, 0, z1())
        .copy_(g.prior_logvar.view({-1, kB, z1()}).mean(0));
    return {mu, logvar};
  }

  /// The encoder: lambda_{t+1} from (x, lambda_t, grad_t), all detached.
  std::pair<torch::Tensor, torch::Tensor> encode(
      const torch::Tensor& mu, const torch::Tensor& logvar,
      const torch::Tensor& g_mu, const torch::Tensor& g_logvar) const {
    const int64_t layers = config.encoder_layers;
    auto data = x - 0.5;
    if (!c.iterative) {
      auto h = highway_net(phi, "body", data, layers);
      auto out = dense(phi, "head", h).chunk(2, 1);
      if (!c.hierarchical) return {out[0], out[1].clamp(-15, 15)};
      auto up = dense(phi, "upper_heads.0",
                      highway_net(phi, "upper_bodies.0", h, layers))
                    .chunk(2, 1);
      return {torch::cat({out[0], up[0]}, 1),
              torch::cat({out[1].clamp(-15, 15), up[1].clamp(-15, 15)}, 1)};
    }
    auto code = [](const torch::Tensor& g) {
      return std::vector<torch::Tensor>{torch::log(g.abs() + 1e-5),
                                        torch::sign(g)};
    };
    std::vector<int64_t> widths{z1()};
    if (c.hierarchical) widths.push_back(32);
    std::vector<torch::Tensor> mus, logvars;
    int64_t from = 0;
    for (size_t l = 0; l < widths.size(); ++l) {
      const auto cut = [&](const torch::Tensor& t) {
        return t.narrow(1, from, widths[l]);
      };
      std::vector<torch::Tensor> in = code(cut(g_mu));
      for (auto& part : code(cut(g_logvar))) in.push_back(part);
      in.push_back(cut(mu));
      in.push_back(cut(logvar));
      in.push_back(data);
      const std::string prefix =
          c.hierarchical ? "levels." + std::to_string(l) + "." : "";
      auto h = highway_net(phi, prefix + "body", torch::cat(in, 1), layers);
      auto out = dense(phi, prefix + "head", h).chunk(4, 1);
      auto gate_mu = torch::sigmoid(out[1]),
           gate_logvar = torch::sigmoid(out[3]);
      mus.push_back(gate_mu * cut(mu) + (1 - gate_mu) * out[0]);
      logvars.push_back((gate_logvar * cut(logvar) + (1 - gate_logvar) * out[2])
                            .clamp(-15, 15));
      from += widths[l];
    }
    return {torch::cat(mus, 1), torch::cat(logvars, 1)};
  }
};

/// What the step handed its inference model at one iteration: lambda_{t-1}
/// and grad_{t-1} (undefined where the model reads no feedback).
struct Inputs {
  torch::Tensor mu, logvar, g_mu, g_logvar;
};

/// The step's inference model, recording its inputs on the way in.
class Recorder : public iai::inference::InferenceProcedureImpl {
 public:
  explicit Recorder(iai::inference::InferenceProcedure inner)
      : inner(register_module("inner", std::move(inner))) {}
  iai::inference::Posterior update(
      const torch::Tensor& x, const iai::inference::Posterior& current,
      const iai::inference::Feedback& feedback) override {
    auto copy = [](const torch::Tensor& t) {
      return t.defined() ? t.detach().to(torch::kDouble) : t;
    };
    inputs.push_back({copy(current.mu), copy(current.logvar),
                      copy(feedback.gradient.mu),
                      copy(feedback.gradient.logvar)});
    return inner->update(x, current, feedback);
  }
  iai::inference::FeedbackKind feedback_kind() const override {
    return inner->feedback_kind();
  }
  void begin_batch(int64_t batch) override { inner->begin_batch(batch); }
  std::string label() const override { return "recorder"; }

  iai::inference::InferenceProcedure inner;
  std::vector<Inputs> inputs;
};

/// ||a - b|| / ||b|| (absolute where b is 0).
double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const double scale = want.norm().item<double>();
  const double off = (got.to(torch::kDouble) - want).norm().item<double>();
  return scale > 0 ? off / scale : off;
}

struct StepResult {
  torch::Tensor elbo;  // L_T (B)
  Weights theta_grad, phi_grad;
  /// The largest relative differences between the step's lambda_t and
  /// grad_t (t < T) and the reference's, from the same inputs.
  double lambda_error = 0, feedback_error = 0;
};

/// docs/reference.md's step: lambda_0 the prior; for t = 1..T lambda_t =
/// f(x, lambda_{t-1}, grad_{t-1}) with its inputs detached; the encoder's
/// gradient the mean over t of grad_phi(-L_t), the decoder's that of -L_T;
/// every L the batch mean (sum / B), grad_t = grad_lambda of it. Iteration
/// t reads `recorded[t - 1]`, the step's inputs, after comparing them with
/// its own.
StepResult reference_step(const Reference& r,
                          const std::vector<torch::Tensor>& eps,
                          const torch::Tensor& prior_eps,
                          const std::vector<Inputs>& recorded) {
  const int64_t T = r.config.iterations;
  std::vector<std::string> phi_names, theta_names;
  std::vector<torch::Tensor> phi, theta;
  for (const auto& [name, w] : r.phi)
    phi_names.push_back(name), phi.push_back(w);
  for (const auto& [name, w] : r.theta)
    theta_names.push_back(name), theta.push_back(w);
  StepResult out;
  for (const auto& [name, w] : r.phi) out.phi_grad[name] = torch::zeros_like(w);

  auto [mu, logvar] = r.initial(prior_eps);
  size_t draw = 0;
  torch::Tensor g_mu, g_logvar;
  if (r.c.iterative) {
    auto m = mu.clone().requires_grad_(), lv = logvar.clone().requires_grad_();
    auto g =
        torch::autograd::grad({r.elbo(m, lv, eps[draw++]).sum() / kB}, {m, lv});
    g_mu = g[0];
    g_logvar = g[1];
  }
  EXPECT_EQ(recorded.size(), static_cast<size_t>(T));
  for (int64_t t = 1; t <= T && t <= static_cast<int64_t>(recorded.size());
       ++t) {
    const Inputs& in = recorded[t - 1];
    out.lambda_error = std::max({out.lambda_error, relative_error(in.mu, mu),
                                 relative_error(in.logvar, logvar)});
    if (g_mu.defined()) {
      EXPECT_TRUE(in.g_mu.defined() && in.g_logvar.defined());
      out.feedback_error =
          std::max({out.feedback_error, relative_error(in.g_mu, g_mu),
                    relative_error(in.g_logvar, g_logvar)});
    }
    auto [next_mu, next_logvar] =
        r.encode(in.mu, in.logvar, in.g_mu, in.g_logvar);
    auto L = r.elbo(next_mu, next_logvar, eps[draw++]);
    std::vector<torch::Tensor> wrt{next_mu, next_logvar};
    wrt.insert(wrt.end(), phi.begin(), phi.end());
    if (t == T) wrt.insert(wrt.end(), theta.begin(), theta.end());
    auto g = torch::autograd::grad({-L.sum() / kB}, wrt, {}, false, false,
                                   /*allow_unused=*/true);
    g_mu = -g[0];
    g_logvar = -g[1];
    for (size_t i = 0; i < phi.size(); ++i) {
      if (g[2 + i].defined()) out.phi_grad[phi_names[i]] += g[2 + i] / T;
    }
    if (t == T) {
      for (size_t i = 0; i < theta.size(); ++i) {
        const auto& gi = g[2 + phi.size() + i];
        out.theta_grad[theta_names[i]] =
            gi.defined() ? gi : torch::zeros_like(theta[i]);
      }
      out.elbo = L.detach();
    }
    mu = next_mu.detach();
    logvar = next_logvar.detach();
  }
  EXPECT_EQ(draw, eps.size());
  return out;
}

void expect_step_matches_reference(const Case& c) {
  const TrainConfig config = config_of(c);
  ASSERT_EQ(config.batch_size, kB);
  auto model = iai::train::build_model(config, kD);
  auto procedure = iai::train::build_procedure(config, kD, model);
  {
    // Biases away from their zero start, so a path that drops one shows.
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (p.key().find("bias") != std::string::npos)
        p.value().uniform_(-0.1, 0.1);
    }
    for (auto& p : procedure->named_parameters()) {
      if (p.key().find("bias") != std::string::npos)
        p.value().uniform_(-0.1, 0.1);
    }
  }
  // Binary images with structure: strokes of low-resolution noise.
  auto probabilities =
      torch::upsample_bilinear2d(torch::rand({kB, 1, 7, 7}), {28, 28},
                                 /*align_corners=*/false);
  const auto x = torch::bernoulli(probabilities).view({kB, kD});

  Reference r{c, config, copy_weights(*model), copy_weights(*procedure),
              x.to(torch::kDouble)};
  const int64_t S = config.samples, T = config.iterations;
  const int64_t z = r.z_all();
  // The step's draws, in its order: lambda_0's 10 samples (hierarchical),
  // the feedback at lambda_0 (iterative), then L_1 .. L_T.
  constexpr uint64_t kSeed = 7;
  torch::manual_seed(kSeed);
  torch::Tensor prior_eps;
  if (c.hierarchical) prior_eps = torch::randn({10, kB, z}).to(torch::kDouble);
  std::vector<torch::Tensor> eps;
  for (int64_t i = 0; i < T + (c.iterative ? 1 : 0); ++i) {
    eps.push_back(torch::randn({S, kB, z}).to(torch::kDouble));
  }

  torch::manual_seed(kSeed);
  model->zero_grad();
  procedure->zero_grad();
  Recorder recorder(procedure);
  const auto outcome = iai::train::accumulate_gradients(*model, recorder, x, T,
                                                        S, config.batch_size);
  const StepResult want = reference_step(r, eps, prior_eps, recorder.inputs);
  EXPECT_LT(want.lambda_error, kTolerance) << "lambda_t from the same inputs";
  EXPECT_LT(want.feedback_error, kTolerance) << "grad_t from the same inputs";

  const auto& elbo = outcome.final_terms.elbo;
  EXPECT_EQ(elbo.scalar_type(), torch::kFloat);
  EXPECT_LT(relative_error(elbo, want.elbo), kTolerance);
  double worst = 0;
  std::string worst_name;
  auto check = [&](torch::nn::Module& module, const Weights& wanted,
                   const char* side) {
    ASSERT_EQ(module.named_parameters().size(), wanted.size());
    for (const auto& item : module.named_parameters()) {
      const auto& grad = item.value().grad();
      ASSERT_TRUE(grad.defined()) << side << " " << item.key();
      const auto& expected = at(wanted, item.key());
      ASSERT_GT(expected.norm().item<double>(), 0) << side << " " << item.key();
      const double e = relative_error(grad, expected);
      EXPECT_LT(e, kTolerance) << side << " " << item.key();
      if (e > worst)
        worst = e, worst_name = std::string(side) + " " + item.key();
    }
  };
  check(*model, want.theta_grad, "decoder");
  check(*procedure, want.phi_grad, "encoder");
  std::cout << "largest relative error of a gradient: " << worst << " ("
            << worst_name
            << "); of the ELBO: " << relative_error(elbo, want.elbo)
            << "; of lambda_t: " << want.lambda_error
            << "; of grad_t: " << want.feedback_error << "\n";
}

TEST_F(Float32StepTest, SingleLevelIterativeMatchesTheReference) {
  expect_step_matches_reference({/*hierarchical=*/false, /*iterative=*/true});
}

TEST_F(Float32StepTest, SingleLevelStandardMatchesTheReference) {
  expect_step_matches_reference({false, false});
}

TEST_F(Float32StepTest, HierarchicalIterativeMatchesTheReference) {
  expect_step_matches_reference({true, true});
}

TEST_F(Float32StepTest, HierarchicalStandardMatchesTheReference) {
  expect_step_matches_reference({true, false});
}

}  // namespace
