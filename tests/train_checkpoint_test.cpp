// Checkpoints (docs/runs.md): mid-epoch checkpoints resume bit-identically,
// every flipped byte is an error naming the file, --resume falls back to
// checkpoint.prev.pt, old unchecked checkpoints still load, newer formats
// and other models are refused, metrics.jsonl is repaired on resume.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <torch/serialize/output-archive.h>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "iai/core/rng.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/checkpoint/checkpoint_file.h"
#include "iai/train/config/factory.h"
#include "iai/train/metrics_log.h"
#include "iai/train/optim/optimizers.h"
#include "run_support.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::testing::bytes_of;
using iai::testing::contains;
using iai::testing::error_of;
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
    for (auto* volatile_key :
         {"seconds", "examples_per_second", "train_seconds", "test_seconds"}) {
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
  EXPECT_TRUE(contains(
      error_of([&] { iai::train::read_checkpoint_header(bad); }), "truncated"));
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
  EXPECT_TRUE(contains(r.err, "previous checkpoint is unreadable too"))
      << r.err;
}

TEST_F(CheckpointTest,
       EvalReadsThePreviousCheckpointWhenTheNewestIsUnreadable) {
  const auto run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(run, 2)).code, 0);
  auto eval = [&](const std::string& checkpoint, const std::string& out) {
    auto r = run_cli({"eval", "--checkpoint", checkpoint, "--out", out,
                      "--iw-samples", "5", "--max-examples", "8",
                      "--grid-examples", "0", "--threads", "1"});
    std::ifstream in(out + "/eval.json");
    return std::make_pair(r, in ? nlohmann::json::parse(in) : nlohmann::json());
  };
  // Epoch 1's checkpoint, evaluated by name.
  const auto [direct, epoch1] =
      eval(run + "/checkpoint.prev.pt", root_ + "/e1");
  ASSERT_EQ(direct.code, 0) << direct.err;
  std::string bytes = bytes_of(run + "/checkpoint.pt");
  bytes[bytes.size() / 3] = char(bytes[bytes.size() / 3] ^ 0x10);
  write_bytes(run + "/checkpoint.pt", bytes);
  const auto [fallback, read] = eval(run, root_ + "/fallback");
  ASSERT_EQ(fallback.code, 0) << fallback.err;
  EXPECT_TRUE(contains(fallback.err,
                       "iai: warning: the newest checkpoint is "
                       "unreadable"));
  EXPECT_TRUE(contains(fallback.err, "checksum"));
  EXPECT_TRUE(contains(fallback.err, "reading the previous one, '" + run +
                                         "/checkpoint.prev.pt'"));
  // The same weights, the same seed: the same numbers.
  EXPECT_EQ(read["elbo"].get<double>(), epoch1["elbo"].get<double>());
  EXPECT_EQ(read["log_px"].get<double>(), epoch1["log_px"].get<double>());
  // The newest is left as it is (eval only reads).
  EXPECT_EQ(bytes_of(run + "/checkpoint.pt"), bytes);
}

TEST_F(CheckpointTest, SkippedBatchCountSurvivesResumes) {
  // A learning rate that overflows the parameters after one step: every
  // later batch is non-finite and skipped, until --skip-nonfinite's 15.
  auto args = [&](const std::string& out, int epochs) {
    auto a = train_args(out, epochs);
    *(std::find(a.begin(), a.end(), "--lr") + 1) = "1e30";
    a.insert(a.end(), {"--skip-nonfinite", "15", "--checkpoint-every", "4"});
    return a;
  };
  const auto straight = root_ + "/straight", run = root_ + "/run";
  auto r = run_cli(args(straight, 2));
  ASSERT_EQ(r.code, 1) << r.err;
  // "training diverged: non-finite ... at epoch E, step S of N, ...".
  const auto at = r.err.find("training diverged: ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string stop = r.err.substr(at, r.err.find(';', at) - at);
  EXPECT_TRUE(contains(stop, "at epoch 2, step 5 of 12")) << stop;
  // Stopped and resumed at the epoch's end, then at a mid-epoch checkpoint:
  // the budget spent before each resume still counts.
  ASSERT_EQ(run_cli(args(run, 1)).code, 0);
  r = run_cli({"train", "--resume", run, "--epochs", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, stop)) << r.err << "\nstraight: " << stop;
  const auto h = iai::train::read_checkpoint_header(run + "/checkpoint.pt");
  EXPECT_GT(h.step, 0);
  EXPECT_EQ(h.skipped_nonfinite, 15);
  r = run_cli({"train", "--resume", run, "--epochs", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, stop)) << r.err;
  const auto a = lines_of(straight + "/metrics.jsonl");
  const auto b = lines_of(run + "/metrics.jsonl");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  // Epoch 1: its first step is finite (and overflows the parameters), the
  // other 11 are skipped.
  EXPECT_EQ(nlohmann::json::parse(a[0])["skipped_nonfinite"], 11);
  EXPECT_EQ(nlohmann::json::parse(b[0])["skipped_nonfinite"], 11);
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
  EXPECT_TRUE(
      contains(error_of([&] { iai::train::read_checkpoint_header(newer); }),
               "'" + newer +
                   "' was written by a newer iai (format "
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

TEST_F(CheckpointTest, MalformedEpochSumsAreOneClearError) {
  // Only a crafted file passes the checksum with these, but it must not make
  // the reader run past a tensor's end (found while writing the fuzzer).
  const auto run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(run, 1)).code, 0);
  const auto header =
      iai::train::read_checkpoint_header(run + "/checkpoint.pt");
  const auto crafted = root_ + "/crafted.pt";
  auto write_with_sums = [&](const torch::Tensor& sums) {
    torch::serialize::OutputArchive a;
    a.write("format_version", torch::tensor(int64_t{2}));
    a.write("config", c10::IValue(iai::train::to_json(header.config).dump()));
    a.write("epoch", torch::tensor(int64_t{0}));
    a.write("data_dim", torch::tensor(header.data_dim));
    a.write("step", torch::tensor(int64_t{3}));
    a.write("last_metrics", c10::IValue(std::string()));
    a.write("epoch_rng", iai::rng_state());
    a.write("epoch_sums", sums);
    a.write("epoch_examples", torch::tensor(int64_t{24}));
    a.write("epoch_seconds", torch::tensor(1.0, torch::kDouble));
    std::ostringstream out;
    a.save_to(out);
    iai::train::write_checked_file(crafted, out.str());
  };
  for (const auto& sums :
       {torch::tensor({-90.0}, torch::kDouble),
        torch::zeros({2, 2}, torch::kDouble), torch::tensor({1, 2, 3, 4})}) {
    write_with_sums(sums);
    EXPECT_TRUE(
        contains(error_of([&] { iai::train::read_checkpoint_header(crafted); }),
                 "'" + crafted + "' holds malformed epoch sums"))
        << sums;
  }
  // Well-formed sums for two levels, for a one-level model: the resume
  // refuses it (RunningMean would read a second level that is not there).
  auto model = iai::train::build_model(header.config, header.data_dim);
  auto proc =
      iai::train::build_procedure(header.config, header.data_dim, model);
  iai::train::Optimizers optimizers(model->parameters(), proc->parameters(),
                                    1e-3);
  auto h = header;
  h.step = 3;
  h.progress.epoch_rng = iai::rng_state();
  h.progress.sums.kl_levels = {1.0, 2.0};
  h.progress.examples = 24;
  iai::train::save_checkpoint(run + "/checkpoint.pt", h, *model, *proc,
                              optimizers.model, optimizers.procedure);
  auto r = run_cli({"train", "--resume", run, "--epochs", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err,
                       "holds the running sums of 2 latent levels; the "
                       "model has 1"))
      << r.err;
}

// A crafted archive (iai's checksum right) is one error naming the file,
// whatever LibTorch 1.13 would make of it: its TorchScript importer throws
// types other than c10::Error, which once ended the process, and it checks
// no zip CRC-32 or stated size (checkpoint_archive.h). The fuzzer's first
// input (found by fuzz/checkpoint_fuzz.cpp; its first byte 1 says
// "payload") renames one code record in the zip's central directory.
TEST_F(CheckpointTest, CraftedArchivesAreOneClearError) {
  const std::string found =
      bytes_of(std::string(IAI_SOURCE_DIR) +
               "/fuzz/regressions/checkpoint-renamed-code-record");
  ASSERT_EQ(found.at(0), 1);
  const auto crafted = root_ + "/crafted.pt";
  iai::train::write_checked_file(crafted, found.substr(1));
  EXPECT_EQ(error_of([&] { iai::train::read_checkpoint_header(crafted); }),
            "checkpoint '" + crafted +
                "' is corrupted: its LibTorch archive "
                "uses class '__torch__.___torch_mangle_4.Module' but holds no "
                "record 'code/__torch__/___torch_mangle_4.py' defining it");

  // The fuzzer's second (after 29,422 executions): a changed byte in
  // data.pkl, and the zip's end record zeroed, which miniz passes over for
  // the zip64 record after it.
  const std::string zeroed =
      bytes_of(std::string(IAI_SOURCE_DIR) +
               "/fuzz/regressions/checkpoint-zeroed-end-record");
  iai::train::write_checked_file(crafted, zeroed.substr(1));
  const std::string pickle =
      error_of([&] { iai::train::read_checkpoint_header(crafted); });
  EXPECT_TRUE(contains(pickle, "checkpoint '" + crafted +
                                   "' is corrupted: "
                                   "record 'data.pkl' of its LibTorch archive "
                                   "does not match its zip CRC-32 (stored "))
      << pickle;

  // The third (after 34,077 executions): a deflated record whose stated
  // size, 2 GB, LibTorch's getRecord allocates before inflating it.
  const std::string sized =
      bytes_of(std::string(IAI_SOURCE_DIR) +
               "/fuzz/regressions/checkpoint-record-size-past-the-file");
  iai::train::write_checked_file(crafted, sized.substr(1));
  const std::string size_error =
      error_of([&] { iai::train::read_checkpoint_header(crafted); });
  EXPECT_TRUE(contains(size_error, "checkpoint '" + crafted +
                                       "' is "
                                       "corrupted: record 'code/__torch__"))
      << size_error;
  EXPECT_TRUE(contains(size_error,
                       "' of its LibTorch archive declares "
                       "2147483983 bytes in "))
      << size_error;

  // Made by hand, no fuzzer's: a code record's text broken ("weight :
  // Ten0or") with its zip CRC-32 rewritten to match, so only LibTorch's
  // TorchScript importer sees it. It throws torch::jit::ErrorReport, no
  // c10::Error: before iai caught every exception LibTorch throws, that one
  // ended the process.
  const std::string source =
      bytes_of(std::string(IAI_SOURCE_DIR) +
               "/fuzz/regressions/checkpoint-crafted-torchscript");
  iai::train::write_checked_file(crafted, source.substr(1));
  EXPECT_EQ(error_of([&] { iai::train::read_checkpoint_header(crafted); }),
            "checkpoint '" + crafted +
                "' is not a readable iai checkpoint "
                "(truncated or not a LibTorch archive): Unknown type name "
                "'Ten0or':");

  // The fourth (after 49,093 executions): the header reads, the optimiser
  // state lacks a key Adam::load reads, which LibTorch reports with
  // ObjectAttributeError (a std::runtime_error).
  const std::string key =
      bytes_of(std::string(IAI_SOURCE_DIR) +
               "/fuzz/regressions/checkpoint-optimizer-key-missing");
  iai::train::write_checked_file(crafted, key.substr(1));
  {
    const auto h = iai::train::read_checkpoint_header(crafted);
    auto m = iai::train::build_model(h.config, h.data_dim);
    auto p = iai::train::build_procedure(h.config, h.data_dim, m);
    iai::train::Optimizers o(m->parameters(), p->parameters(), 1e-3);
    const std::string missing = error_of([&] {
      iai::train::load_checkpoint(crafted, *m, *p, &o.model, &o.procedure,
                                  true);
    });
    EXPECT_TRUE(contains(missing, "checkpoint '" + crafted +
                                      "' does not "
                                      "match the model its config describes: "))
        << missing;
    EXPECT_TRUE(contains(missing, "does not have a field with name"))
        << missing;
  }

  // A checkpoint iai writes passes the check and loads, header and all.
  const auto run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(run, 1)).code, 0);
  const auto path = run + "/checkpoint.pt";
  const auto header = iai::train::read_checkpoint_header(path);
  EXPECT_EQ(header.epoch, 1);
  auto model = iai::train::build_model(header.config, header.data_dim);
  auto proc =
      iai::train::build_procedure(header.config, header.data_dim, model);
  iai::train::Optimizers optimizers(model->parameters(), proc->parameters(),
                                    1e-3);
  EXPECT_NO_THROW(iai::train::load_checkpoint(
      path, *model, *proc, &optimizers.model, &optimizers.procedure, true));

  // One byte changed in a stored code record, written with iai's checksum
  // right: LibTorch checks no zip CRC-32 and would compile the broken text;
  // iai compares the record with its CRC-32.
  std::string payload = bytes_of(path).substr(20);
  const size_t at = payload.find("__buffers__ = [");
  ASSERT_NE(at, std::string::npos);
  payload[at + 12] = ':';
  iai::train::write_checked_file(crafted, payload);
  const std::string flipped =
      error_of([&] { iai::train::read_checkpoint_header(crafted); });
  EXPECT_TRUE(contains(flipped, "checkpoint '" + crafted +
                                    "' is corrupted: "
                                    "record 'code/__torch__/"))
      << flipped;
  EXPECT_TRUE(contains(flipped,
                       ".py' of its LibTorch archive does not match "
                       "its zip CRC-32 (stored "))
      << flipped;
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
