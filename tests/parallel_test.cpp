// Several processes (docs/distributed.md): the launch environment is
// checked before
// any work; a run's numbers do not depend on how many processes computed
// them (2 processes on 127.0.0.1 against 1, standard and iterative, and a
// 2-process run resumed on 1; the raw gradients of one step, the gradient
// records, an odd last batch), nor do eval's, compare's and gap's; a
// batch's shares (share_of); SIGTERM and SIGINT through the launcher; a
// killed or hung worker ends the job with one message naming it; a port in
// use or an unreachable master is one clear error. Nothing here is timed:
// every wait is for a condition. A build without c10d skips the processes.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "iai/core/error.h"
#include "iai/parallel/batch_shard.h"
#include "iai/parallel/launch.h"
#include "iai/parallel/local_workers.h"
#include "iai/parallel/process_group.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/config/factory.h"
#include "iai/train/optim/optimizers.h"
#include "run_support.h"
#include "scripted_decoders.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::parallel::LaunchEnv;
using iai::parallel::read_launch_env;
using iai::testing::bytes_of;
using iai::testing::contains;
using iai::testing::lines_of;
using iai::testing::parameters_of;
using Clock = std::chrono::steady_clock;

LaunchEnv env_of(const std::map<std::string, std::string>& vars) {
  return read_launch_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string launch_error(const std::map<std::string, std::string>& vars) {
  try {
    env_of(vars);
  } catch (const iai::Error& e) {
    return e.what();
  }
  return "";
}

TEST(LaunchEnv, ReadsTorchrunAndSlurmVariables) {
  EXPECT_FALSE(env_of({}).distributed());
  auto t = env_of({{"RANK", "1"},
                   {"WORLD_SIZE", "4"},
                   {"LOCAL_RANK", "0"},
                   {"MASTER_ADDR", "node7"},
                   {"MASTER_PORT", "29511"}});
  EXPECT_EQ(t.rank, 1);
  EXPECT_EQ(t.world_size, 4);
  EXPECT_EQ(t.local_rank, 0);
  EXPECT_EQ(t.master_addr, "node7");
  EXPECT_EQ(t.master_port, 29511);
  EXPECT_EQ(t.source, "torchrun");
  auto s = env_of({{"SLURM_PROCID", "3"},
                   {"SLURM_NTASKS", "8"},
                   {"SLURM_LOCALID", "1"},
                   {"MASTER_ADDR", "n1"},
                   {"MASTER_PORT", "1234"}});
  EXPECT_EQ(s.rank, 3);
  EXPECT_EQ(s.world_size, 8);
  EXPECT_EQ(s.local_rank, 1);
  EXPECT_EQ(s.source, "slurm");
  // torchrun's variables win over Slurm's; one Slurm task is one process.
  EXPECT_EQ(env_of({{"RANK", "0"},
                    {"WORLD_SIZE", "1"},
                    {"SLURM_PROCID", "2"},
                    {"SLURM_NTASKS", "4"}})
                .world_size,
            1);
  EXPECT_FALSE(
      env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).distributed());
}

TEST(LaunchEnv, BadValuesNameTheVariable) {
  const std::map<std::string, std::string> master = {
      {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto with = [&](std::map<std::string, std::string> v) {
    v.insert(master.begin(), master.end());
    return launch_error(v);
  };
  EXPECT_TRUE(contains(with({{"RANK", "2"}, {"WORLD_SIZE", "2"}}),
                       "RANK='2' must be an integer from 0 to 1"));
  EXPECT_TRUE(contains(with({{"RANK", "0"}, {"WORLD_SIZE", "two"}}),
                       "WORLD_SIZE='two'"));
  EXPECT_TRUE(contains(with({{"RANK", "0"}, {"WORLD_SIZE", "0"}}),
                       "WORLD_SIZE='0' must be an integer of at least 1"));
  EXPECT_TRUE(
      contains(with({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}), "RANK='-1'"));
  EXPECT_TRUE(contains(with({{"WORLD_SIZE", "2"}}), "RANK is not set"));
  EXPECT_TRUE(contains(with({{"RANK", "0"}}), "WORLD_SIZE is not set"));
  EXPECT_TRUE(contains(launch_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}}),
                       "needs MASTER_ADDR"));
  EXPECT_TRUE(contains(launch_error({{"RANK", "0"},
                                     {"WORLD_SIZE", "2"},
                                     {"MASTER_ADDR", "h"},
                                     {"MASTER_PORT", "70000"}}),
                       "MASTER_PORT='70000'"));
}

// A batch's rows over the processes: consecutive, covering it once, the
// shares differing by at most one row (an odd batch's extra rows go to the
// later ranks).
TEST(BatchShard, SharesAreConsecutiveAndCoverTheBatchOnce) {
  EXPECT_EQ(iai::share_of(7, 0, 2).offset, 0);
  EXPECT_EQ(iai::share_of(7, 0, 2).rows, 3);
  EXPECT_EQ(iai::share_of(7, 1, 2).offset, 3);
  EXPECT_EQ(iai::share_of(7, 1, 2).rows, 4);
  for (int world = 1; world <= 5; ++world) {
    for (int64_t rows = 0; rows <= 23; ++rows) {
      int64_t next = 0, fewest = rows, most = 0;
      for (int rank = 0; rank < world; ++rank) {
        const auto s = iai::share_of(rows, rank, world);
        EXPECT_EQ(s.offset, next)
            << rows << " rows, rank " << rank << " of " << world;
        EXPECT_EQ(s.global_rows, rows);
        next = s.offset + s.rows;
        fewest = std::min(fewest, s.rows);
        most = std::max(most, s.rows);
      }
      EXPECT_EQ(next, rows) << rows << " rows over " << world;
      EXPECT_LE(most - fewest, 1) << rows << " rows over " << world;
    }
  }
}

// While a shard is set, noise is drawn for the whole batch and each process
// keeps its rows: the two shares of a draw are the one-process draw's rows.
TEST(BatchShard, EachShareDrawsTheOneProcessNoiseOfItsRows) {
  torch::manual_seed(3);
  const auto whole =
      iai::own_rows(torch::randn({2, iai::rows_to_draw(7), 3}), 1);
  ASSERT_EQ(whole.size(1), 7);
  std::vector<torch::Tensor> parts;
  for (int rank = 0; rank < 2; ++rank) {
    const iai::ScopedBatchShard shard(iai::share_of(7, rank, 2));
    torch::manual_seed(3);
    const int64_t local = iai::current_batch_shard().rows;
    EXPECT_EQ(iai::rows_to_draw(local), 7);
    parts.push_back(
        iai::own_rows(torch::randn({2, iai::rows_to_draw(local), 3}), 1));
  }
  EXPECT_FALSE(iai::current_batch_shard().active());
  EXPECT_TRUE(torch::equal(torch::cat(parts, 1), whole));
}

/// The CLI binary as a child process (cli_process.h).
using Worker = iai::testing::CliProcess;

/// Waits (up to 60 s) until `path` exists and is not empty.
bool wait_for_file(const std::string& path, Worker& w) {
  const auto end = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < end) {
    std::error_code ec;
    if (fs::exists(path, ec) && fs::file_size(path, ec) > 0) return true;
    if (w.wait_for(0.01)) return false;
  }
  return false;
}

/// Largest |a - b| / max |a| over every parameter tensor.
double relative_difference(const std::vector<torch::Tensor>& a,
                           const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double scale = a[i].abs().max().item<double>() + 1e-12;
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>() / scale);
  }
  return worst;
}

std::vector<double> train_elbos(const std::string& run) {
  std::vector<double> out;
  for (const auto& line : lines_of(run + "/metrics.jsonl")) {
    out.push_back(nlohmann::json::parse(line)["train_elbo"].get<double>());
  }
  return out;
}

/// gradients.jsonl's records (step, epoch, mean |grad_mu L| per iteration).
std::vector<nlohmann::json> gradient_records(const std::string& run) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(run + "/gradients.jsonl")) {
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

/// The two runs recorded the same steps with the same values, each to
/// `tolerance` of its size: a record's all-reduce that sums the ranks'
/// means, or divides by a rank's rows, is off by a factor of 2.
void expect_same_gradient_records(const std::string& one,
                                  const std::string& two, double tolerance) {
  const auto a = gradient_records(one), b = gradient_records(two);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i]["step"], a[i]["step"]);
    EXPECT_EQ(b[i]["epoch"], a[i]["epoch"]);
    const auto& x = a[i]["mean_abs_grad_mu"];
    const auto& y = b[i]["mean_abs_grad_mu"];
    ASSERT_EQ(y.size(), x.size());
    ASSERT_GT(x.size(), 0u);
    for (size_t t = 0; t < x.size(); ++t) {
      const double want = x[t].get<double>();
      EXPECT_GT(want, 0);
      EXPECT_NEAR(y[t].get<double>(), want, tolerance * want)
          << "record " << i << ", iteration " << t + 1;
    }
  }
}

/// An optimiser's state map is keyed by the parameter's TensorImpl: as a
/// string in LibTorch 1.x, as the pointer itself in later versions.
template <class StateMap>
auto state_key(const StateMap&, const torch::Tensor& p) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;  // as c10::guts::to_string writes it
    key << p.unsafeGetTensorImpl();
    return key.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

/// Both Adam optimisers' first moments in a run's checkpoint, the model's
/// then the procedure's: after the run's first step each is (1 - beta1)
/// times the parameter's gradient, the raw gradient before any optimiser
/// rescales it (Adam's step barely moves when every gradient is scaled).
std::vector<torch::Tensor> first_moments_of(const std::string& run) {
  const auto path = iai::train::checkpoint_path(run);
  const auto header = iai::train::read_checkpoint_header(path);
  auto model = iai::train::build_model(header.config, header.data_dim);
  auto procedure =
      iai::train::build_procedure(header.config, header.data_dim, model);
  iai::train::Optimizers optimizers(model->parameters(),
                                    procedure->parameters(), header.config.lr);
  iai::train::load_checkpoint(path, *model, *procedure, &optimizers.model,
                              &optimizers.procedure, false);
  std::vector<torch::Tensor> out;
  const auto take = [&](torch::optim::Adam& adam,
                        const std::vector<torch::Tensor>& ps) {
    for (const auto& p : ps) {
      auto it = adam.state().find(state_key(adam.state(), p));
      if (it == adam.state().end()) {
        ADD_FAILURE() << run << ": a parameter without Adam state";
        continue;
      }
      out.push_back(
          static_cast<torch::optim::AdamParamState&>(*it->second).exp_avg());
    }
  };
  take(optimizers.model, model->parameters());
  take(optimizers.procedure, procedure->parameters());
  return out;
}

class SeveralProcesses : public iai::testing::TinyRunTest {
 protected:
  SeveralProcesses() : TinyRunTest("parallel") {}
  void SetUp() override {
    // These jobs compute on the CPU: a build without c10d + Gloo (one
    // process only, or a GPU build with NCCL alone) cannot run them, which
    // is no failure of that build.
    if (!iai::parallel::gloo_available()) {
      GTEST_SKIP() << "this build runs no job on the CPU (no c10d + Gloo)";
    }
    TinyRunTest::SetUp();
  }
  /// `iai train` with `args` as 2 local workers; returns the exit code.
  int run_two(std::vector<std::string> args, const std::string& log) {
    args.insert(args.end(), {"--nproc-per-node", "2"});
    Worker w(args, {}, log);
    return w.code();
  }
  std::vector<std::string> with(std::vector<std::string> args,
                                const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
};

TEST_F(SeveralProcesses, TwoProcessesTrainAsOneStandard) {
  const auto args = [&](const std::string& out) {
    return with(train_args(out, 1), {"--inference", "standard"});
  };
  ASSERT_EQ(iai::testing::run_cli(args(root_ + "/one")).code, 0);
  ASSERT_EQ(run_two(args(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  // 12 steps of Adam on the same batches, noise and gradients: only the
  // order of the gradient sums differs.
  EXPECT_LT(relative_difference(parameters_of(root_ + "/one"),
                                parameters_of(root_ + "/two")),
            1e-5);
  const auto one = train_elbos(root_ + "/one"),
             two = train_elbos(root_ + "/two");
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_NEAR(two[0], one[0], 1e-5 * std::abs(one[0]));
  // Rank 0 alone writes, and says how many processes ran.
  EXPECT_TRUE(contains(bytes_of(root_ + "/two.log"), "2 processes x 1 thread"));
  expect_same_gradient_records(root_ + "/one", root_ + "/two", 1e-5);
}

// A decoder of the user's own (TorchScript) is all-reduced like the MLP:
// two processes train it as one.
TEST_F(SeveralProcesses, TwoProcessesTrainAScriptedDecoderAsOne) {
  const std::string decoder = root_ + "/conv.pt";
  iai::testing::write_conv_decoder(decoder, 4);
  const auto args = [&](const std::string& out) {
    return with(train_args(out, 1),
                {"--decoder", decoder, "--iterations", "2"});
  };
  ASSERT_EQ(iai::testing::run_cli(args(root_ + "/one")).code, 0);
  ASSERT_EQ(run_two(args(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  const auto one = parameters_of(root_ + "/one");
  EXPECT_LT(relative_difference(one, parameters_of(root_ + "/two")), 1e-5);
  // ... and the decoder's weights are among them, trained.
  auto header =
      iai::train::read_checkpoint_header(root_ + "/two/checkpoint.pt");
  EXPECT_FALSE(header.config.decoder_script.empty());
}

// One step's gradients, before Adam rescales them, are the one-process
// step's: each rank's rows over the global batch size, summed over the
// ranks (a mean over the ranks would halve them; a divisor of the rank's
// rows would double them). With the trainer's gradient batch set to the
// rank's rows this test sees the gradients differ by 0.999 (relative),
// where the parameters of TwoProcessesTrainAsOneStandard, after 12 Adam
// steps, differ by 5e-5 against its 1e-5.
TEST_F(SeveralProcesses, OneStepsRawGradientsAreTheOneProcessOnes) {
  const auto args = [&](const std::string& out) {
    return with(train_args(out, 1), {"--max-train", "8", "--samples", "2",
                                     "--iterations", "3", "--test-every", "0"});
  };
  ASSERT_EQ(iai::testing::run_cli(args(root_ + "/one")).code, 0);
  ASSERT_EQ(run_two(args(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  const auto one = first_moments_of(root_ + "/one");
  const auto two = first_moments_of(root_ + "/two");
  ASSERT_EQ(one.size(), two.size());
  for (const auto& m : one) ASSERT_GT(m.abs().max().item<double>(), 0);
  EXPECT_LT(relative_difference(one, two), 1e-5);
  expect_same_gradient_records(root_ + "/one", root_ + "/two", 1e-5);
}

// An epoch of 11 examples in batches of 8: its last batch of 3 splits into
// 1 and 2 rows (a share_of that drops the odd row fails here). Both steps take
// the one-process step's gradients (the last over the training batch size, 8,
// on every rank), so the runs end equal.
TEST_F(SeveralProcesses, AnOddLastBatchTrainsAsInOneProcess) {
  const auto args = [&](const std::string& out) {
    return with(train_args(out, 1),
                {"--max-train", "11", "--inference", "standard"});
  };
  ASSERT_EQ(iai::testing::run_cli(args(root_ + "/one")).code, 0);
  ASSERT_EQ(run_two(args(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  EXPECT_LT(relative_difference(first_moments_of(root_ + "/one"),
                                first_moments_of(root_ + "/two")),
            1e-5);
  EXPECT_LT(relative_difference(parameters_of(root_ + "/one"),
                                parameters_of(root_ + "/two")),
            1e-5);
  const auto one = train_elbos(root_ + "/one"),
             two = train_elbos(root_ + "/two");
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_NEAR(two[0], one[0], 1e-5 * std::abs(one[0]));
}

TEST_F(SeveralProcesses, TwoProcessesTrainAsOneIterativeAndResumeOnOne) {
  // The iterative model encodes the global batch's gradient (samples 2 to
  // keep it quick).
  const auto args = [&](const std::string& out) {
    return with(train_args(out, 1), {"--samples", "2", "--iterations", "3"});
  };
  ASSERT_EQ(iai::testing::run_cli(args(root_ + "/one")).code, 0);
  // Tolerance: the encoder reads sign and log|.| of grad_lambda, and Adam
  // divides by sqrt(v), so last-bit differences in the two processes'
  // gradient sums grow to about 1e-5 of a tensor's largest weight over these
  // 24 steps (1.0e-5 to 1.1e-5 seen when the Bernoulli likelihood's rounding
  // changed). A gradient scaled or summed wrongly on one rank moves weights
  // by lr-sized steps: 1e-3 and more.
  constexpr double kTolerance = 5e-5;
  ASSERT_EQ(run_two(args(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  EXPECT_LT(relative_difference(parameters_of(root_ + "/one"),
                                parameters_of(root_ + "/two")),
            kTolerance);
  // The 2-process run's checkpoint goes on in one process, as the
  // 1-process run does.
  for (const char* run : {"/one", "/two"}) {
    auto r = iai::testing::run_cli(
        {"train", "--resume", root_ + run, "--epochs", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  EXPECT_LT(relative_difference(parameters_of(root_ + "/one"),
                                parameters_of(root_ + "/two")),
            kTolerance);
  const auto one = train_elbos(root_ + "/one"),
             two = train_elbos(root_ + "/two");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NEAR(two[1], one[1], 1e-5 * std::abs(one[1]));
  // The records of the steps before and after the resume, to the weights'
  // tolerance (they are taken with the weights of their step).
  expect_same_gradient_records(root_ + "/one", root_ + "/two", 10 * kTolerance);
}

TEST_F(SeveralProcesses, ShardedEvalEqualsOneProcess) {
  const std::string run = root_ + "/run";
  ASSERT_EQ(iai::testing::run_cli(with(train_args(run, 1),
                                       {"--samples", "2", "--iterations", "2"}))
                .code,
            0);
  const auto eval = [&](const std::string& out) {
    return std::vector<std::string>{
        "eval", "--checkpoint", run,  "--out",           out, "--iw-samples",
        "40",   "--batch-size", "16", "--grid-examples", "0", "--threads",
        "1",    "--seed",       "3"};
  };
  auto r = iai::testing::run_cli(eval(root_ + "/one"));
  ASSERT_EQ(r.code, 0) << r.err;
  // 40 test examples in batches of 16, 16 and 8, each split in two.
  ASSERT_EQ(run_two(eval(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  const auto one = nlohmann::json::parse(bytes_of(root_ + "/one/eval.json"));
  const auto two = nlohmann::json::parse(bytes_of(root_ + "/two/eval.json"));
  EXPECT_EQ(two["examples"], 40);
  for (const char* key : {"elbo", "log_px"}) {
    const double a = one[key].get<double>(), b = two[key].get<double>();
    EXPECT_NEAR(b, a, 1e-5 * std::abs(a)) << key;
  }
  EXPECT_TRUE(
      contains(bytes_of(root_ + "/two.log"), "2 processes x 1 thread\n"));
}

/// compare.csv's ELBO column, row by row, with the procedure and step size.
std::vector<std::pair<std::string, double>> compare_elbos(
    const std::string& csv) {
  std::vector<std::pair<std::string, double>> out;
  const auto rows = lines_of(csv);
  for (size_t i = 1; i < rows.size(); ++i) {
    std::stringstream in(rows[i]);
    std::string procedure, step, iteration, elbo;
    std::getline(in, procedure, ',');
    std::getline(in, step, ',');
    std::getline(in, iteration, ',');
    std::getline(in, elbo, ',');
    out.emplace_back(procedure + "," + step + "," + iteration, std::stod(elbo));
  }
  return out;
}

TEST_F(SeveralProcesses, ShardedCompareEqualsOneProcess) {
  const std::string run = root_ + "/run";
  ASSERT_EQ(iai::testing::run_cli(with(train_args(run, 1),
                                       {"--samples", "2", "--iterations", "2"}))
                .code,
            0);
  // adam's step size is tuned (every rank the same search, rank 0's
  // choice broadcast); 20 test examples in batches of 8, 8 and 4, each
  // split in two.
  const auto compare = [&](const std::string& out) {
    return std::vector<std::string>{"compare",
                                    "--checkpoint",
                                    run,
                                    "--out",
                                    out,
                                    "--procedures",
                                    "model,adam,model+sgd",
                                    "--step-size",
                                    "model+sgd=0.05",
                                    "--iterations",
                                    "4",
                                    "--max-examples",
                                    "20",
                                    "--batch-size",
                                    "8",
                                    "--tune-examples",
                                    "16",
                                    "--tune-iterations",
                                    "3",
                                    "--threads",
                                    "1",
                                    "--seed",
                                    "3"};
  };
  auto r = iai::testing::run_cli(compare(root_ + "/one"));
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(run_two(compare(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  const auto one = compare_elbos(root_ + "/one/compare.csv");
  const auto two = compare_elbos(root_ + "/two/compare.csv");
  ASSERT_EQ(one.size(), 3u * 4);
  ASSERT_EQ(two.size(), one.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(two[i].first, one[i].first);  // the same tuned step sizes
    EXPECT_NEAR(two[i].second, one[i].second, 1e-5 * std::abs(one[i].second))
        << one[i].first;
  }
  const std::string log = bytes_of(root_ + "/two.log");
  EXPECT_TRUE(contains(log, "2 processes x 1 thread\n")) << log;
  // Rank 0 alone prints: one header, one tuning line.
  EXPECT_EQ(log.find("iai compare:"), log.rfind("iai compare:")) << log;
  EXPECT_EQ(log.find("tuned adam"), log.rfind("tuned adam")) << log;
}

TEST_F(SeveralProcesses, ShardedGapEqualsOneProcess) {
  const std::string run = root_ + "/run";
  ASSERT_EQ(iai::testing::run_cli(with(train_args(run, 1),
                                       {"--samples", "2", "--iterations", "2"}))
                .code,
            0);
  // The refinement's step size tuned as compare's; 20 test examples in
  // batches of 8, 8 and 4.
  const auto gap = [&](const std::string& out) {
    return std::vector<std::string>{"gap", "--checkpoint",
                                    run,   "--out",
                                    out,   "--max-examples",
                                    "20",  "--batch-size",
                                    "8",   "--refine-iterations",
                                    "5",   "--tune-examples",
                                    "16",  "--tune-iterations",
                                    "3",   "--elbo-samples",
                                    "5",   "--iw-samples",
                                    "40",  "--threads",
                                    "1",   "--seed",
                                    "3"};
  };
  auto r = iai::testing::run_cli(gap(root_ + "/one"));
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(run_two(gap(root_ + "/two"), root_ + "/two.log"), 0)
      << bytes_of(root_ + "/two.log");
  const auto one = nlohmann::json::parse(bytes_of(root_ + "/one/gap.json"));
  const auto two = nlohmann::json::parse(bytes_of(root_ + "/two/gap.json"));
  EXPECT_EQ(two["examples"], 20);
  EXPECT_EQ(two["refine_step_size"], one["refine_step_size"]);
  for (const char* key : {"elbo_model", "elbo_optimised", "log_px"}) {
    const double a = one[key].get<double>(), b = two[key].get<double>();
    EXPECT_NEAR(b, a, 1e-5 * std::abs(a)) << key;
  }
  const std::string log = bytes_of(root_ + "/two.log");
  EXPECT_TRUE(contains(log, "2 processes x 1 thread\n")) << log;
  EXPECT_EQ(log.find("iai gap:"), log.rfind("iai gap:")) << log;
}

TEST_F(SeveralProcesses, BadLaunchesFailBeforeAnyWork) {
  // A batch the processes cannot split evenly.
  const std::string out = root_ + "/odd";
  auto odd = train_args(out, 1);
  *(std::find(odd.begin(), odd.end(), "--batch-size") + 1) = "7";
  EXPECT_EQ(run_two(odd, root_ + "/odd.log"), 1);
  EXPECT_TRUE(contains(bytes_of(root_ + "/odd.log"),
                       "--batch-size 7 is the whole batch of the 2 processes "
                       "and must be divisible by their number"));
  EXPECT_FALSE(fs::exists(out + "/checkpoint.pt"));
  // A bad WORLD_SIZE: one message, nothing started.
  Worker w(
      train_args(root_ + "/bad", 1),
      {"WORLD_SIZE=2x", "RANK=0", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=1"},
      root_ + "/bad.log");
  EXPECT_EQ(w.code(), 1);
  EXPECT_TRUE(contains(bytes_of(root_ + "/bad.log"),
                       "environment variable WORLD_SIZE='2x' must be an "
                       "integer"));
  EXPECT_FALSE(fs::exists(root_ + "/bad"));
}

/// A socket on 127.0.0.1 at a port the kernel picked, listening or only
/// bound (then a connection to it is refused, as to a free port, and no
/// other process can take the port while the test runs).
struct Listener {
  int fd = -1, port = 0;
  explicit Listener(bool listening = true) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (listening) ::listen(fd, 1);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd); }
};

TEST_F(SeveralProcesses, PortInUseAndUnreachableMasterAreOneClearError) {
  Listener busy;
  const std::string port = "MASTER_PORT=" + std::to_string(busy.port);
  Worker master(train_args(root_ + "/a", 1),
                {"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", port},
                root_ + "/a.log");
  EXPECT_EQ(master.code(), 1);
  EXPECT_TRUE(contains(bytes_of(root_ + "/a.log"),
                       "rank 0 cannot serve the rendezvous on 127.0.0.1:" +
                           std::to_string(busy.port)));
  EXPECT_TRUE(
      contains(bytes_of(root_ + "/a.log"), "Choose a free MASTER_PORT"));
  // Nobody serves this port (held, not listening): rank 1 gives up after
  // --dist-timeout.
  Listener refusing(/*listening=*/false);
  const int free_port = refusing.port;
  Worker lonely(with(train_args(root_ + "/b", 1), {"--dist-timeout", "1"}),
                {"RANK=1", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
                 "MASTER_PORT=" + std::to_string(free_port)},
                root_ + "/b.log");
  EXPECT_EQ(lonely.code(), 1);
  EXPECT_TRUE(contains(bytes_of(root_ + "/b.log"),
                       "rank 1 cannot reach the master (rank 0) at 127.0.0.1:" +
                           std::to_string(free_port)));
}

TEST_F(SeveralProcesses, HungWorkerEndsTheJobWithinTheTimeoutNamingIt) {
  // torchrun-style: two processes started by hand; rank 1 is stopped
  // (SIGSTOP) after the first epoch's checkpoint, so it hangs without
  // closing its sockets. Rank 0 stops within --dist-timeout.
  const std::string run = root_ + "/hang";
  const auto args = with(train_args(run, 50), {"--dist-timeout", "2"});
  const std::string port =
      "MASTER_PORT=" + std::to_string(iai::parallel::free_local_port());
  Worker rank0(args, {"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", port},
               root_ + "/rank0.log");
  Worker rank1(args, {"RANK=1", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", port},
               root_ + "/rank1.log");
  ASSERT_TRUE(wait_for_file(run + "/metrics.jsonl", rank0))
      << bytes_of(root_ + "/rank0.log");
  ::kill(rank1.pid(), SIGSTOP);
  // Rank 0 ends by itself, on its --dist-timeout (its message says so).
  EXPECT_EQ(rank0.code(), 1);
  const std::string err = bytes_of(root_ + "/rank0.log");
  EXPECT_TRUE(contains(err, "iai: error: rank 1 stopped answering during"))
      << err;
  EXPECT_TRUE(contains(err, "--dist-timeout 2 s"));
  // The last checkpoint is whole.
  EXPECT_NO_THROW(parameters_of(run));
}

/// How many times `part` occurs in `text`.
size_t occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos;
       at = text.find(part, at + 1))
    ++n;
  return n;
}

// SIGTERM and SIGINT sent to the launcher of --nproc-per-node reach each
// worker once (through the launcher alone): the job stops at one step,
// rank 0 writes the checkpoint and the one message, and the launcher exits
// 143 / 130 as a single process does. Resumed, the job ends with the run an
// uninterrupted job trains. (Seen failing with the launcher forwarding
// SIGINT for SIGTERM, and with rank 1 printing its message too.)
TEST_F(SeveralProcesses, SignalsToTheLauncherStopTheJobOnceAndItResumes) {
  const int epochs = 4;
  const auto reference = root_ + "/reference", run = root_ + "/run";
  const auto args = [&](const std::string& out) {
    return with(train_args(out, epochs),
                {"--inference", "standard", "--checkpoint-minutes", "0"});
  };
  ASSERT_EQ(run_two(args(reference), root_ + "/reference.log"), 0)
      << bytes_of(root_ + "/reference.log");
  const auto metrics_lines = [&] {
    return lines_of(run + "/metrics.jsonl").size();
  };
  struct Stop {
    int signal;
    std::string name;
    int code;
  };
  size_t before = 0;
  for (const Stop& stop :
       {Stop{SIGTERM, "SIGTERM", 143}, Stop{SIGINT, "SIGINT", 130}}) {
    const auto log = root_ + "/" + stop.name + ".log";
    auto job_args = before == 0
                        ? args(run)
                        : std::vector<std::string>{"train", "--resume", run};
    job_args.insert(job_args.end(), {"--nproc-per-node", "2"});
    Worker job(job_args, {}, log);
    // Right after the job's first new epoch line (polled every ms).
    ASSERT_FALSE(job.wait_for(120, [&] { return metrics_lines() > before; }))
        << bytes_of(log);
    job.signal(stop.signal);
    EXPECT_EQ(job.code(), stop.code) << bytes_of(log);
    const std::string said = bytes_of(log);
    EXPECT_EQ(occurrences(said, "iai: error"), 1u) << said;
    EXPECT_TRUE(contains(said, "iai: error: interrupted by " + stop.name))
        << said;
    EXPECT_TRUE(contains(said, "continue with: iai train --resume " + run))
        << said;
    before = metrics_lines();
    ASSERT_LT(before, static_cast<size_t>(epochs));
  }
  Worker rest({"train", "--resume", run, "--nproc-per-node", "2"}, {},
              root_ + "/rest.log");
  ASSERT_EQ(rest.code(), 0) << bytes_of(root_ + "/rest.log");
  const auto a = parameters_of(reference), b = parameters_of(run);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  }
  EXPECT_EQ(train_elbos(run), train_elbos(reference));
}

TEST_F(SeveralProcesses, KilledWorkerStopsTheLocalJob) {
  const std::string run = root_ + "/killed";
  Worker job(with(train_args(run, 50), {"--nproc-per-node", "2"}), {},
             root_ + "/killed.log");
  ASSERT_TRUE(wait_for_file(run + "/metrics.jsonl", job))
      << bytes_of(root_ + "/killed.log");
  // The launcher's second child is rank 1.
  std::ifstream children("/proc/" + std::to_string(job.pid()) + "/task/" +
                         std::to_string(job.pid()) + "/children");
  pid_t rank0 = 0, rank1 = 0;
  children >> rank0 >> rank1;
  ASSERT_GT(rank1, 0);
  ::kill(rank1, SIGKILL);
  ASSERT_TRUE(job.wait_for(30));
  EXPECT_EQ(job.code(), 128 + SIGKILL);
  const std::string err = bytes_of(root_ + "/killed.log");
  EXPECT_TRUE(contains(err, "iai: error: worker rank 1 (pid " +
                                std::to_string(rank1) +
                                ") was killed by signal 9"))
      << err;
  EXPECT_NO_THROW(parameters_of(run));
}

}  // namespace
