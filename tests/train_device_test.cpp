// Runs across devices: a checkpoint whose tensors were saved on another
// device loads, evaluates and resumes with --device cpu (an old config.json
// without a device: train_options_test.cpp); and one training step on the test
// device (the CPU in CI, a GPU under scripts/gpu-check.sh) agrees with the
// CPU's.

#include <gtest/gtest.h>
#include <torch/types.h>

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>
#include <string>

#include "iai/core/device.h"
#include "iai/data/tensor_examples.h"
#include "iai/objectives/evaluation.h"
#include "iai/train/checkpoint/checkpoint_file.h"
#include "iai/train/config/config.h"
#include "iai/train/config/factory.h"
#include "iai/train/step/train_batch.h"
#include "iai/train/step/training_step.h"
#include "run_support.h"
#include "test_device.h"
#include "test_support.h"
#include "tiny_networks.h"

namespace iai {
namespace {

/// Rewrites a checkpoint as a run on `location` would have written it had
/// it saved its tensors where they were: every storage of the archive's
/// pickle says "cuda:0" instead of "cpu" (the bytes stay the same). Returns
/// how many storages it relabelled.
int relabel_storages(const std::string& path, const std::string& location) {
  std::istringstream in(train::read_checked_file(path));
  caffe2::serialize::PyTorchStreamReader reader(&in);
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer(
      [&](const void* data, size_t size) {
        out.append(static_cast<const char*>(data), size);
        return size;
      });
  const std::string from = std::string("X\x03\0\0\0cpu", 8);
  std::string to = "X";
  const uint32_t n = static_cast<uint32_t>(location.size());
  to.append(reinterpret_cast<const char*>(&n), 4);  // little-endian x86
  to += location;
  int relabelled = 0;
  for (const auto& name : reader.getAllRecords()) {
    // The writer adds its own version records (and, in LibTorch 2.x, a
    // serialization id).
    if (name.find("version") != std::string::npos ||
        name.find("serialization_id") != std::string::npos) {
      continue;
    }
    auto [data, size] = reader.getRecord(name);
    std::string bytes(static_cast<const char*>(data.get()), size);
    if (name == "data.pkl") {
      for (size_t at = bytes.find(from); at != std::string::npos;
           at = bytes.find(from, at + to.size())) {
        bytes.replace(at, from.size(), to);
        ++relabelled;
      }
    }
    writer.writeRecord(name, bytes.data(), bytes.size());
  }
  writer.writeEndOfFile();
  train::write_checked_file(path, out);
  return relabelled;
}

class CrossDeviceTest : public testing::TinyRunTest {
 protected:
  CrossDeviceTest() : TinyRunTest("cross-device") {}
};

TEST_F(CrossDeviceTest,
       ACheckpointSavedOnAGpuLoadsEvaluatesAndResumesOnTheCpu) {
  const std::string run = root_ + "/run";
  ASSERT_EQ(testing::run_cli(train_args(run, 1)).code, 0);
  const auto trained = testing::parameters_of(run);
  const std::string path = run + "/checkpoint.pt";
  // The pickle names "cpu" once and refers back to it for every storage.
  ASSERT_GE(relabel_storages(path, "cuda:0"), 1);

  if (!cuda_usable()) {
    // The file really claims GPU storage: read without a target device it
    // cannot load on this machine.
    std::istringstream in(train::read_checked_file(path));
    torch::serialize::InputArchive archive;
    EXPECT_ANY_THROW(archive.load_from(in));
  }
  // Loaded onto the CPU, the parameters are the trained ones.
  const auto loaded = testing::parameters_of(run);
  ASSERT_EQ(loaded.size(), trained.size());
  for (size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(loaded[i].device(), torch::Device(torch::kCPU));
    EXPECT_TRUE(torch::equal(loaded[i], trained[i])) << "parameter " << i;
  }
  EXPECT_EQ(testing::run_cli({"eval", "--checkpoint", run, "--device", "cpu",
                              "--iw-samples", "2", "--threads", "1"})
                .code,
            0);
  // The optimisers' moments are read onto the CPU too.
  const auto r = testing::run_cli({"train", "--resume", run, "--epochs", "2",
                                   "--device", "cpu", "--threads", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(testing::lines_of(run + "/metrics.jsonl").size(), 2u);
}

/// The largest |a - b| relative to the largest |a|.
double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const auto a64 = a.to(torch::kCPU, torch::kDouble);
  const auto b64 = b.to(torch::kCPU, torch::kDouble);
  const double scale = a64.abs().max().item<double>();
  return (a64 - b64).abs().max().item<double>() / std::max(scale, 1e-30);
}

TEST(DeviceAgreement, FirstStepElboAndGradientsMatchTheCpus) {
  const auto device = testing::test_device();
  const auto config = testing::tiny_config();
  const int64_t dim = 30, batch = 8;
  auto build = [&](const torch::Device& on) {
    torch::manual_seed(3);  // the same initial parameters on both
    auto model = train::build_model(config, dim);
    auto procedure = train::build_procedure(config, dim, model);
    model->to(on);
    procedure->to(on);
    return std::make_pair(model, procedure);
  };
  auto [cpu_model, cpu_procedure] = build(torch::kCPU);
  auto [dev_model, dev_procedure] = build(device);
  torch::manual_seed(4);
  const auto x = torch::bernoulli(torch::full({batch, dim}, 0.3));

  // The same noise on both: drawn from the host's generator.
  ::setenv("IAI_TEST_HOST_NOISE", "1", 1);
  torch::manual_seed(11);
  const auto on_cpu = train::accumulate_gradients(
      *cpu_model, *cpu_procedure, x, config.iterations, config.samples, batch);
  torch::manual_seed(11);
  const auto on_device = train::accumulate_gradients(
      *dev_model, *dev_procedure, to_device(x, device), config.iterations,
      config.samples, batch);
  ::unsetenv("IAI_TEST_HOST_NOISE");

  const auto elbo = on_cpu.final_terms.elbo.sum();
  ASSERT_TRUE(std::isfinite(elbo.item<double>()));
  EXPECT_LT(elbo.item<double>(), 0.0);
  EXPECT_LT(relative_difference(elbo, on_device.final_terms.elbo.sum()), 1e-4);
  auto compare = [](const std::vector<torch::Tensor>& a,
                    const std::vector<torch::Tensor>& b, const char* what) {
    ASSERT_EQ(a.size(), b.size());
    int with_gradient = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].grad().defined(), b[i].grad().defined()) << what << i;
      if (!a[i].grad().defined()) continue;
      ++with_gradient;
      EXPECT_LT(relative_difference(a[i].grad(), b[i].grad()), 1e-4)
          << what << " parameter " << i;
    }
    EXPECT_GT(with_gradient, 0) << what;
  };
  compare(cpu_model->parameters(), dev_model->parameters(), "model");
  compare(cpu_procedure->parameters(), dev_procedure->parameters(),
          "procedure");
}

/// train_batch with the step captured in a CUDA graph (on a GPU) against
/// the same batches stepped eagerly: every step's ELBO and the parameters
/// after them agree, through a partial batch (eager) between graph replays.
/// On the CPU nothing is captured, and the graph says why.
TEST(DeviceGraph, GraphedStepsMatchEagerSteps) {
  const auto device = testing::test_device();
  const auto config = testing::tiny_config();
  const int64_t dim = 30, batch = 8;
  using Run = testing::TinyNetworks;
  auto build = [&] { return testing::tiny_networks(config, dim, device); };
  torch::manual_seed(4);
  std::vector<torch::Tensor> batches;
  for (int64_t rows : {batch, batch, int64_t{5}, batch, batch}) {
    batches.push_back(torch::bernoulli(torch::full({rows, dim}, 0.3)));
  }
  train::StepGraph graph("auto");
  auto train = [&](Run& r, train::StepGraph* g) {
    const train::BatchSettings settings{
        config.iterations, config.samples, false, batch, device, nullptr, g};
    torch::manual_seed(11);
    std::vector<double> elbos;
    for (const auto& x : batches) {
      const auto result = train::train_batch(*r.model, *r.procedure,
                                             *r.optimizers, x, settings);
      EXPECT_TRUE(result.updated);
      elbos.push_back(result.sums.elbo);
    }
    return elbos;
  };
  Run graphed = build(), eager = build();
  const auto with_graph = train(graphed, &graph);
  const auto without = train(eager, nullptr);
  if (device.is_cuda()) {
    EXPECT_TRUE(graph.captured()) << graph.describe();
    EXPECT_EQ(graph.describe(), "captured (batches of 8)");
  } else {
    EXPECT_FALSE(graph.captured());
    EXPECT_EQ(graph.describe(), "eager (not on a GPU)");
  }
  ASSERT_EQ(with_graph.size(), without.size());
  for (size_t i = 0; i < without.size(); ++i) {
    EXPECT_NEAR(with_graph[i], without[i], 1e-4 * std::abs(without[i]))
        << "step " << i;
  }
  const auto a = graphed.procedure->parameters();
  const auto b = eager.procedure->parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT(relative_difference(a[i], b[i]), 1e-4)
        << "procedure parameter " << i;
  }
  const auto ma = graphed.model->parameters();
  const auto mb = eager.model->parameters();
  for (size_t i = 0; i < ma.size(); ++i) {
    EXPECT_LT(relative_difference(ma[i], mb[i]), 1e-4)
        << "model parameter " << i;
  }
}

TEST(DeviceGraph, GraphedEvaluationMatchesEagerEvaluation) {
  // Evaluation of an iterative model with importance sampling, every
  // example kept, on the test device: each full batch replayed from a CUDA
  // graph on a GPU, the last (partial) one eager; the same numbers as an
  // all-eager evaluation. On the CPU both run eagerly, through the same
  // flat list of a batch's outputs a graph replays.
  const torch::Device device = testing::test_device();
  const auto config = testing::tiny_config();  // iterative, T = 2, S = 3
  const int64_t dim = 12;
  torch::manual_seed(3);
  auto model = train::build_model(config, dim);
  auto procedure = train::build_procedure(config, dim, model);
  model->to(device);
  procedure->to(device);
  const auto examples = data::tensor_examples(
      torch::bernoulli(torch::full({4 * 8 + 5, dim}, 0.3)));
  auto evaluate = [&](bool graph) {
    objectives::EvaluationOptions options;
    options.iterations = config.iterations;
    options.samples = config.samples;
    options.batch_size = 8;
    options.iw_samples = 20;
    options.iw_rows = 64;  // several chunks of K a batch
    options.keep_per_example = true;
    options.cuda_graph = graph;
    torch::manual_seed(11);
    return objectives::evaluate(*model, *procedure, *examples, options);
  };
  const auto with_graph = evaluate(true);
  const auto without = evaluate(false);
  EXPECT_EQ(without.cuda_graph, "off");
  EXPECT_EQ(with_graph.cuda_graph, device.is_cuda() ? "captured (batches of 8)"
                                                    : "eager (not on a GPU)");
  ASSERT_EQ(with_graph.per_iteration.size(), 2u);
  for (size_t t = 0; t < 2; ++t) {
    const auto& a = with_graph.per_iteration[t];
    const auto& b = without.per_iteration[t];
    EXPECT_NEAR(a.elbo, b.elbo, 1e-4 * std::abs(b.elbo)) << "t = " << t;
    EXPECT_NEAR(a.kl, b.kl, 1e-4 * std::abs(b.kl)) << "t = " << t;
    // Each term in its own place: the ELBO is reconstruction - KL.
    EXPECT_NEAR(a.elbo, a.reconstruction - a.kl, 1e-4 * std::abs(a.elbo));
  }
  // The importance-weighted bound lies above the ELBO.
  EXPECT_GT(with_graph.log_px, with_graph.per_iteration.back().elbo);
  EXPECT_NEAR(with_graph.log_px, without.log_px,
              1e-4 * std::abs(without.log_px));
  // Kept per example, every batch's own rows (not the last replay's).
  ASSERT_EQ(with_graph.mu.size(0), 37);
  EXPECT_LT(relative_difference(with_graph.mu, without.mu), 1e-4);
  EXPECT_LT(relative_difference(with_graph.logvar, without.logvar), 1e-4);
  EXPECT_LT(relative_difference(with_graph.log_px_per_example,
                                without.log_px_per_example),
            1e-4);
  EXPECT_LT(relative_difference(with_graph.elbo_per_iteration,
                                without.elbo_per_iteration),
            1e-4);
  EXPECT_GT((with_graph.mu[0] - with_graph.mu[8]).abs().max().item<float>(),
            0.0f);
}

TEST(DeviceGraph, OffOrABadModeNeverCaptures) {
  train::StepGraph off("off");
  EXPECT_EQ(off.describe(), "off");
  EXPECT_EQ(off.run(torch::zeros({2, 3}), testing::test_device(), {}, {},
                    [](const torch::Tensor&) -> train::StepValues {
                      ADD_FAILURE() << "computed with --cuda-graph off";
                      return {};
                    }),
            nullptr);
  EXPECT_TRUE(
      testing::contains(testing::error_of([] { train::StepGraph bad("on"); }),
                        "--cuda-graph must be auto or off; got 'on'"));
}

}  // namespace
}  // namespace iai
