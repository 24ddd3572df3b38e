// A job of one process through the same process group a job of several
// uses: on the test device (the CPU in CI, through Gloo; a GPU under
// scripts/gpu-check.sh, through NCCL). The bucket of a sum is made on the
// group's device from tensors on the host and on the device, and every
// value comes back to its own tensor; a training step through the group is
// the step alone.

#include <gtest/gtest.h>
#include <torch/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "iai/parallel/launch.h"
#include "iai/parallel/process_group.h"
#include "iai/train/step/train_batch.h"
#include "test_device.h"
#include "tiny_networks.h"

namespace iai {
namespace {

/// A port on 127.0.0.1 that was free a moment ago (the kernel picked it).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class GroupOfOne : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = testing::test_device();
    const bool can = device_.is_cuda() ? parallel::nccl_available()
                                       : parallel::gloo_available();
    if (!can) {
      GTEST_SKIP() << "this build has no process group for " << device_.str();
    }
    parallel::LaunchEnv env;
    env.rank = 0;
    env.world_size = 1;
    env.master_addr = "127.0.0.1";
    env.master_port = free_port();
    env.source = "torchrun";
    group_ = parallel::ProcessGroup::connect(env, 60);
  }
  void TearDown() override { parallel::set_world(nullptr); }

  torch::Device device_{torch::kCPU};
  std::unique_ptr<parallel::ProcessGroup> group_;
};

TEST_F(GroupOfOne, SumsAndBroadcastsGiveEachTensorItsOwnValuesBack) {
  group_->compute_on(device_);
  EXPECT_EQ(group_->backend(), device_.is_cuda() ? "nccl" : "gloo");
  // Gradients on the device, the step's values on the host: one bucket.
  const auto on_device =
      torch::arange(6, torch::TensorOptions(torch::kFloat).device(device_))
          .view({2, 3});
  const auto on_host = torch::tensor({7.5f, -8.25f});
  const auto scalar = torch::full({1}, 3.0f).to(device_);
  const auto a = on_device.clone(), b = on_host.clone(), c = scalar.clone();
  group_->sum({a, b, c}, "a test sum");
  // A sum over one rank is each value itself, in its own tensor, where
  // the tensor was.
  EXPECT_TRUE(torch::equal(a.cpu(), on_device.cpu()));
  EXPECT_TRUE(torch::equal(b, on_host));
  EXPECT_TRUE(torch::equal(c.cpu(), scalar.cpu()));
  EXPECT_EQ(a.device(), device_);
  EXPECT_TRUE(b.device().is_cpu());
  EXPECT_EQ(group_->bytes_communicated(), 9 * 4);
  group_->broadcast({b, a}, "a test broadcast");
  EXPECT_TRUE(torch::equal(a.cpu(), on_device.cpu()));
  EXPECT_TRUE(torch::equal(b, on_host));
  EXPECT_EQ(group_->bytes_communicated(), (9 + 8) * 4);
  const auto rows = torch::rand({3, 2});
  EXPECT_TRUE(torch::equal(group_->gather_rows(rows, "a test gather"), rows));
}

/// train_batch through the group (its gradients and the step's sums, flags
/// and requests all-reduced) against the same step without one: the same
/// ELBO, the same parameters after it.
TEST_F(GroupOfOne, AStepThroughTheGroupIsTheStepAlone) {
  const train::TrainConfig config = testing::tiny_config();
  const int64_t dim = 30, batch = 8;
  using Run = testing::TinyNetworks;
  auto build = [&] { return testing::tiny_networks(config, dim, device_); };
  torch::manual_seed(4);
  const auto x = torch::bernoulli(torch::full({batch, dim}, 0.3));
  auto step = [&](Run& r, parallel::ProcessGroup* group) {
    const train::BatchSettings settings{
        config.iterations, config.samples, false, batch, device_, group};
    torch::manual_seed(11);
    train::StepRequests requests;
    requests.checkpoint = true;
    return train::train_batch(*r.model, *r.procedure, *r.optimizers, x,
                              settings, requests);
  };
  group_->compute_on(device_);
  Run alone = build(), grouped = build();
  const auto a = step(alone, nullptr);
  const int64_t before = group_->bytes_communicated();
  const auto g = step(grouped, group_.get());
  EXPECT_GT(group_->bytes_communicated(), before);
  ASSERT_TRUE(a.updated);
  ASSERT_TRUE(g.updated);
  EXPECT_EQ(g.sums.elbo, a.sums.elbo);
  EXPECT_EQ(g.sums.reconstruction, a.sums.reconstruction);
  EXPECT_EQ(g.sums.kl, a.sums.kl);
  EXPECT_EQ(g.examples, a.examples);
  // The rank's request came back from the all-reduce.
  EXPECT_TRUE(g.requests.checkpoint);
  EXPECT_FALSE(g.requests.stop);
  const auto pa = alone.model->parameters(), pg = grouped.model->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].cpu(), pg[i].cpu())) << "model " << i;
  }
  const auto qa = alone.procedure->parameters(),
             qg = grouped.procedure->parameters();
  for (size_t i = 0; i < qa.size(); ++i) {
    EXPECT_TRUE(torch::equal(qa[i].cpu(), qg[i].cpu())) << "procedure " << i;
  }
}

/// In a job, job_device gives the process its device (the GPU of its
/// LOCAL_RANK, 0 here) and makes the group for it; outside one it is the
/// resolved device alone.
TEST_F(GroupOfOne, JobDeviceMakesTheGroupForTheProcesssDevice) {
  ASSERT_EQ(parallel::world(), nullptr);
  EXPECT_EQ(parallel::job_device(testing::test_device_name()), device_);
  parallel::set_world(std::move(group_));
  EXPECT_EQ(parallel::world()->backend(), "");
  const torch::Device device =
      parallel::job_device(testing::test_device_name());
  EXPECT_EQ(device, device_);
  EXPECT_EQ(parallel::world()->backend(), device_.is_cuda() ? "nccl" : "gloo");
}

}  // namespace
}  // namespace iai
