// Checkpoints (issue 14): mid-epoch checkpoints resume bit-identically,
// every flipped byte is an error naming the file, --resume falls back to
// checkpoint.prev.pt, old unchecked checkpoints still load, newer formats
// and other models are refused, metrics.jsonl is repaired on resume.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/serialize/output-archive.h>

#include "cli.h"
#include "iai/train/checkpoint.h"
#include "iai/train/checkpoint_file.h"
#include "iai/train/factory.h"
#include "iai/train/metrics_log.h"
#include "run_support.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::bytes_of;
using iai::testing::lines_of;
using iai::testing::parameters_of;
using iai::testing::run_cli;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class CheckpointTest : public iai::testing::TinyRunTest {
 protected:
  CheckpointTest() : TinyRunTest("checkpoint") {}
};

TEST_F(CheckpointTest, MidEpochCheckpointResumesBitIdentically) {
  const auto straight = root_ + "/straight", cut = root_ + "/cut";
  ASSERT_EQ(run_cli(train_args(straight, 2)).code, 0);
  auto args = train_args(cut, 1);
  args.insert(args.end(), {"--checkpoint-every", "5"});
  ASSERT_EQ(run_cli(args).code, 0);
  // Checkpoints after steps 5 and 10, then the epoch's: the previous one is
  // the one after step 10, inside epoch 1. Losing the newest resumes there.
  const auto prev = cut + "/checkpoint.prev.pt";
  auto header = iai::train::read_checkpoint_header(prev);
  EXPECT_EQ(header.epoch, 0);
  EXPECT_EQ(header.step, 10);
  EXPECT_EQ(header.progress.examples, 80);
  fs::remove(cut + "/checkpoint.pt");
  auto r = run_cli({"train", "--resume", cut, "--epochs", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "resuming from the previous one")) << r.err;

  auto a = parameters_of(straight), b = parameters_of(cut);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  }
  // The epoch cut in two has the same line, timings aside; no line twice.
  auto ma = lines_of(straight + "/metrics.jsonl");
  auto mb = lines_of(cut + "/metrics.jsonl");
  ASSERT_EQ(mb.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    auto ja = nlohmann::json::parse(ma[e]), jb = nlohmann::json::parse(mb[e]);
    for (auto* volatile_key : {"seconds", "examples_per_second",
                               "train_seconds", "test_seconds"}) {
      ja.erase(volatile_key);
      jb.erase(volatile_key);
    }
    EXPECT_EQ(ja, jb) << "epoch " << e + 1;
  }
  EXPECT_EQ(lines_of(straight + "/gradients.jsonl"),
            lines_of(cut + "/gradients.jsonl"));
}

TEST_F(CheckpointTest, EveryFlippedByteIsAnErrorNamingTheFile) {
  const auto run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(run, 1)).code, 0);
  const std::string good = bytes_of(run + "/checkpoint.pt");
  const auto bad = root_ + "/flipped.pt";
  const int flips = 64;
  int refused = 0;
  for (int i = 0; i < flips; ++i) {
    // Spread over the file: the header, the archive's entries, its index.
    const size_t at = size_t(i) * (good.size() - 1) / (flips - 1);
    std::string bytes = good;
    bytes[at] = char(bytes[at] ^ 0x5a);
    write_bytes(bad, bytes);
    const auto err = error_of([&] { iai::train::read_checkpoint_header(bad); });
    refused += contains(err, "'" + bad + "'") ? 1 : 0;
    EXPECT_TRUE(contains(err, "'" + bad + "'")) << "byte " << at << ": " << err;
  }
  EXPECT_EQ(refused, flips);
  // Truncated by one byte: refused too.
  write_bytes(bad, good.substr(0, good.size() - 1));
  EXPECT_TRUE(contains(error_of([&] { iai::train::read_checkpoint_header(bad); }),
                       "truncated"));
}

TEST_F(CheckpointTest, CorruptNewestFallsBackToPreviousAndSaysSo) {
  const auto straight = root_ + "/straight", run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(straight, 3)).code, 0);
  ASSERT_EQ(run_cli(train_args(run, 2)).code, 0);
  // checkpoint.prev.pt is epoch 1's; corrupt epoch 2's.
  std::string bytes = bytes_of(run + "/checkpoint.pt");
  bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 1);
  write_bytes(run + "/checkpoint.pt", bytes);
  auto r = run_cli({"train", "--resume", run, "--epochs", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, run + "/checkpoint.pt")) << r.err;
  EXPECT_TRUE(contains(r.err, "checksum")) << r.err;
  EXPECT_TRUE(contains(r.err, "resuming from the previous one")) << r.err;
  EXPECT_TRUE(fs::exists(run + "/checkpoint.unreadable.pt"));
  auto a = parameters_of(straight), b = parameters_of(run);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  }
  EXPECT_EQ(lines_of(run + "/metrics.jsonl").size(), 3u);
  // Both unreadable: one error with both reasons.
  write_bytes(run + "/checkpoint.pt", "junk");
  write_bytes(run + "/checkpoint.prev.pt", "junk");
  r = run_cli({"train", "--resume", run, "--epochs", "4"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "previous checkpoint is unreadable too")) << r.err;
}

TEST_F(CheckpointTest, UncheckedOldNewerAndMismatchedCheckpoints) {
  const auto run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(run, 1)).code, 0);
  const auto path = run + "/checkpoint.pt";
  const std::string bytes = bytes_of(path);
  // A checkpoint from before checksums is the bare LibTorch archive (the
  // 20-byte header off): it loads, unchecked.
  const auto old = root_ + "/old.pt";
  write_bytes(old, bytes.substr(20));
  EXPECT_EQ(iai::train::read_checkpoint_header(old).epoch, 1);
  EXPECT_EQ(iai::train::read_checked_file(old), bytes.substr(20));

  // A newer format version: one clear error.
  torch::serialize::OutputArchive archive;
  archive.write("format_version", torch::tensor(int64_t{99}));
  std::ostringstream out;
  archive.save_to(out);
  const auto newer = root_ + "/newer.pt";
  iai::train::write_checked_file(newer, out.str());
  EXPECT_TRUE(contains(error_of([&] { iai::train::read_checkpoint_header(newer); }),
                       "'" + newer + "' was written by a newer iai (format "
                       "version 99)"));

  // Another model configuration: one clear error naming the file.
  auto header = iai::train::read_checkpoint_header(path);
  auto other = header.config;
  other.latent = 6;
  auto model = iai::train::build_model(other, header.data_dim);
  auto proc = iai::train::build_procedure(other, header.data_dim, model);
  EXPECT_TRUE(contains(error_of([&] {
                         iai::train::load_checkpoint(path, *model, *proc,
                                                     nullptr, nullptr, false);
                       }),
                       "'" + path + "' does not match the model"));
}

TEST_F(CheckpointTest, ResumingAFinishedRunRestoresItsCutLastLine) {
  // Killed after the last epoch's checkpoint, mid-way through its line.
  const auto run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(run, 1)).code, 0);
  const auto line = lines_of(run + "/metrics.jsonl").at(0);
  write_bytes(run + "/metrics.jsonl", line.substr(0, line.size() / 2));
  auto r = run_cli({"train", "--resume", run});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_of(run + "/metrics.jsonl"), std::vector<std::string>{line});
}

TEST(MetricsLogTest, RepairDropsCutAndLaterLinesAndRestoresAMissingOne) {
  const auto dir = iai::testing::scratch_dir("metrics");
  const auto path = dir + "/metrics.jsonl";
  const std::string l1 = R"({"epoch":1,"train_elbo":-1.5})";
  const std::string l2 = R"({"epoch":2,"train_elbo":-1.25})";
  const std::string l3 = R"({"epoch":3,"train_elbo":-1.0})";
  write_bytes(path, l1 + "\n" + l2 + "\n" + l3.substr(0, 15));
  iai::train::repair_metrics(path, 2, l2);
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{l1, l2}));
  // Killed after the checkpoint of epoch 2, before (or while) its line.
  write_bytes(path, l1 + "\n" + l2.substr(0, 9));
  iai::train::repair_metrics(path, 2, l2);
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{l1, l2}));
  // Resumed inside epoch 2: its line goes.
  iai::train::repair_metrics(path, 1, l1);
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{l1}));
}

}  // namespace
