// The CLI path end to end, in-process, on a tiny data set in MNIST's real
// file format: train, resume, eval, infer, table, and the failures a user can
// cause (bad flags, bad config keys, overwriting a run, NaN).

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "iai/train/checkpoint.h"
#include "iai/train/factory.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::testing::contains;

/// Runs the CLI, capturing stderr.
struct CliResult {
  int code;
  std::string err;
};
CliResult run_cli(std::vector<std::string> args) {
  ::testing::internal::CaptureStderr();
  const int code = iai::cli::run(args);
  return {code, ::testing::internal::GetCapturedStderr()};
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = iai::testing::scratch_dir("cli");
    data_ = root_ + "/mnist";
    fs::create_directories(data_);
    iai::testing::write_tiny_mnist(data_, 96, 40);
  }
  /// A small, fast training command line.
  std::vector<std::string> train_args(const std::string& out, int epochs,
                                      const std::string& inference = "iterative") {
    return {"train", "--data-dir", data_, "--inference", inference,
            "--latent", "4", "--encoder-hidden", "16", "--decoder-hidden",
            "16", "--batch-size", "32", "--epochs", std::to_string(epochs),
            "--threads", "1", "--seed", "5", "--lr", "1e-3",
            "--out", out};
  }
  std::string root_, data_;
};

TEST_F(CliTest, TrainWritesMetricsConfigAndCheckpoint) {
  const auto out = root_ + "/run";
  auto r = run_cli(train_args(out, 2));
  ASSERT_EQ(r.code, 0) << r.err;
  auto metrics = lines_of(out + "/metrics.jsonl");
  ASSERT_EQ(metrics.size(), 2u);
  auto m = nlohmann::json::parse(metrics[1]);
  EXPECT_EQ(m["epoch"], 2);
  for (const char* key : {"train_elbo", "train_kl", "train_reconstruction",
                          "test_elbo", "test_kl", "test_reconstruction",
                          "seconds", "examples_per_second"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  EXPECT_EQ(m["train_examples"], 96);
  EXPECT_EQ(m["test_examples"], 40);
  EXPECT_LT(m["train_elbo"].get<double>(), 0);
  EXPECT_TRUE(contains(m["estimator"], "S=10"));  // the paper's default S
  auto header = iai::train::read_checkpoint_header(out + "/checkpoint.pt");
  EXPECT_EQ(header.epoch, 2);
  EXPECT_EQ(header.config.iterations, 5);
  EXPECT_EQ(header.config.latent, 4);
  EXPECT_TRUE(fs::exists(out + "/config.json"));
}

TEST_F(CliTest, ResumedRunContinuesBitIdentically) {
  const auto straight = root_ + "/straight", resumed = root_ + "/resumed";
  ASSERT_EQ(run_cli(train_args(straight, 3)).code, 0);
  ASSERT_EQ(run_cli(train_args(resumed, 1)).code, 0);
  auto r = run_cli({"train", "--resume", resumed, "--epochs", "3"});
  ASSERT_EQ(r.code, 0) << r.err;

  auto load = [](const std::string& dir) {
    auto path = iai::train::checkpoint_path(dir);
    auto header = iai::train::read_checkpoint_header(path);
    auto model = iai::train::build_model(header.config, header.data_dim);
    auto proc = iai::train::build_procedure(header.config, header.data_dim);
    iai::train::load_checkpoint(path, *model, *proc, nullptr, nullptr, false);
    auto params = model->parameters();
    for (auto& p : proc->parameters()) params.push_back(p);
    return params;
  };
  auto a = load(straight), b = load(resumed);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  }
  auto ma = lines_of(straight + "/metrics.jsonl");
  auto mb = lines_of(resumed + "/metrics.jsonl");
  ASSERT_EQ(mb.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(ma[2])["train_elbo"],
            nlohmann::json::parse(mb[2])["train_elbo"]);
}

TEST_F(CliTest, EvalInferAndTableWriteTheirFiles) {
  const auto out = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(out, 1)).code, 0);
  auto r = run_cli({"eval", "--checkpoint", out, "--iw-samples", "50",
                    "--max-examples", "16", "--threads", "1",
                    "--grid-examples", "4"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(out + "/eval.json");
  auto eval = nlohmann::json::parse(in);
  EXPECT_EQ(eval["examples"], 16);
  EXPECT_EQ(eval["iterations"], 5);
  EXPECT_EQ(eval["elbo_samples"], 10);
  EXPECT_EQ(eval["iw_samples"], 50);
  EXPECT_EQ(eval["elbo_per_iteration"].size(), 5u);
  EXPECT_TRUE(contains(eval["binarisation"], "dynamic"));
  // log p(x) bounds the ELBO from above (up to Monte Carlo noise).
  EXPECT_GT(eval["log_px"].get<double>(), eval["elbo"].get<double>() - 1.0);

  // The PNG grid: 4 rows, T + 1 = 6 columns of 56x56 tiles, 2-pixel gaps.
  std::ifstream png(out + "/reconstructions.png", std::ios::binary);
  unsigned char head[24];
  png.read(reinterpret_cast<char*>(head), 24);
  ASSERT_TRUE(png.good());
  auto be32 = [&](int o) {
    return (head[o] << 24) | (head[o + 1] << 16) | (head[o + 2] << 8) |
           head[o + 3];
  };
  EXPECT_EQ(be32(16), 6 * 56 + 7 * 2);
  EXPECT_EQ(be32(20), 4 * 56 + 5 * 2);

  const auto csv = root_ + "/inference.csv";
  r = run_cli({"infer", "--checkpoint", out, "--max-examples", "7",
               "--iterations", "3", "--threads", "1", "--out", csv});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = lines_of(csv);
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(std::count(rows[0].begin(), rows[0].end(), ','), 3 + 2 * 4);
  EXPECT_EQ(rows[0].substr(0, 20), "index,elbo_t1,elbo_t");

  r = run_cli({"table", out});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(CliTest, TomlConfigSetsFlags) {
  const auto cfg = root_ + "/standard.toml";
  std::ofstream(cfg) << "inference = \"standard\"\nlatent = 3\n"
                        "encoder-hidden = 8\ndecoder-hidden = 8\n"
                        "epochs = 1\nthreads = 1\n";
  const auto out = root_ + "/run";
  auto r = run_cli({"train", "--config", cfg, "--data-dir", data_, "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  auto header = iai::train::read_checkpoint_header(out + "/checkpoint.pt");
  EXPECT_EQ(header.config.inference, "standard");
  EXPECT_EQ(header.config.iterations, 1);
  EXPECT_EQ(header.config.samples, 1);
  EXPECT_EQ(header.config.latent, 3);
}

TEST_F(CliTest, BadInputFailsBeforeAnyWork) {
  const auto out = root_ + "/never";
  auto args = train_args(out, 1);
  args.push_back("--batch-size");
  args.push_back("0");
  EXPECT_NE(run_cli(args).code, 0);
  EXPECT_NE(run_cli({"train", "--no-such-flag", "--out", out}).code, 0);
  const auto cfg = root_ + "/bad.toml";
  std::ofstream(cfg) << "bacth-size = 64\n";
  auto bad_key = run_cli({"train", "--config", cfg, "--out", out});
  EXPECT_EQ(bad_key.code, 1);
  EXPECT_TRUE(contains(bad_key.err, "unknown key 'bacth-size'"));
  auto r = run_cli({"train", "--inference", "standard", "--iterations", "3",
                    "--data-dir", data_, "--out", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "--iterations must be 1 with --inference standard"));
  r = run_cli({"train", "--data-dir", root_ + "/nowhere", "--out", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "nowhere"));
  EXPECT_FALSE(fs::exists(out));
  r = run_cli({"eval", "--checkpoint", root_ + "/missing"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "no checkpoint at"));
}

TEST_F(CliTest, ExistingRunIsNeverOverwritten) {
  const auto out = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(out, 1)).code, 0);
  const auto before = fs::last_write_time(out + "/checkpoint.pt");
  auto r = run_cli(train_args(out, 1));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "already holds a run"));
  EXPECT_EQ(fs::last_write_time(out + "/checkpoint.pt"), before);
  r = run_cli({"train", "--resume", out, "--lr", "0.1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "--lr cannot be combined with --resume"));
}

TEST_F(CliTest, NonFiniteLossStopsNamingEpochAndStep) {
  // An absurd learning rate overflows the weights within a few steps.
  const auto out = root_ + "/diverge";
  auto args = train_args(out, 2, "standard");
  *(std::find(args.begin(), args.end(), "--lr") + 1) = "1e30";
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "non-finite ELBO at epoch 1, step")) << r.err;
  EXPECT_TRUE(contains(r.err, "no update was applied"));
  EXPECT_FALSE(fs::exists(out + "/checkpoint.pt"));
}

}  // namespace
