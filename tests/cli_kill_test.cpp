// The real `iai` binary killed at random moments (kill -9 mid-step, mid-way
// through a checkpoint's write, mid-line of metrics.jsonl), resumed each
// time: the run ends with the parameters, metrics and gradient records of a
// run that never stopped. And SIGTERM / SIGINT: a checkpoint at the current
// step, exit 143 / 130 and one line saying how to resume; a second SIGINT
// ends the process at once, keeping the last checkpoint.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/config/factory.h"
#include "run_support.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::testing::bytes_of;
using iai::testing::contains;
using iai::testing::lines_of;
using iai::testing::parameters_of;
using Clock = std::chrono::steady_clock;

/// The CLI binary as a child process (cli_process.h), its output appended
/// to `log` (a run's several processes share one); slow_write_ms > 0 sets
/// the IAI_TEST_SLOW_WRITE_MS test hook.
class Process : public iai::testing::CliProcess {
 public:
  Process(const std::vector<std::string>& args, const std::string& log,
          int slow_write_ms)
      : CliProcess(args,
                   slow_write_ms > 0
                       ? std::vector<std::string>{"IAI_TEST_SLOW_WRITE_MS=" +
                                                  std::to_string(slow_write_ms)}
                       : std::vector<std::string>{},
                   log, Log::kAppend) {}
};

/// metrics.jsonl without the timings, which differ between any two runs.
std::vector<nlohmann::json> metrics_of(const std::string& run) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(run + "/metrics.jsonl")) {
    auto j = nlohmann::json::parse(line);
    for (auto* key : {"seconds", "examples_per_second", "test_seconds"}) {
      j.erase(key);
    }
    out.push_back(j);
  }
  return out;
}

/// "e<epochs done>s<steps into the next>" of the checkpoint a resume would
/// start from, or "-" when there is none.
std::string where_resumed(const std::string& run) {
  try {
    std::string note;
    auto h = iai::train::read_checkpoint_header(
        iai::train::resumable_checkpoint(run, &note));
    return "e" + std::to_string(h.epoch) + "s" + std::to_string(h.step);
  } catch (const iai::Error&) {
    return "-";
  }
}

class KillTest : public iai::testing::TinyRunTest {
 protected:
  KillTest() : TinyRunTest("kill") {}
  /// A run that is never stopped, through the same binary.
  void train_reference(const std::string& out, int epochs) {
    Process p(train_args(out, epochs), root_ + "/reference.log", 0);
    ASSERT_EQ(p.code(), 0) << bytes_of(root_ + "/reference.log");
  }
  void expect_same_run(const std::string& a, const std::string& b) {
    auto pa = parameters_of(a), pb = parameters_of(b);
    ASSERT_EQ(pa.size(), pb.size());
    int equal = 0;
    for (size_t i = 0; i < pa.size(); ++i) equal += torch::equal(pa[i], pb[i]);
    EXPECT_EQ(equal, int(pa.size())) << "parameters that differ";
    EXPECT_EQ(metrics_of(a), metrics_of(b));
    EXPECT_EQ(lines_of(a + "/gradients.jsonl"),
              lines_of(b + "/gradients.jsonl"));
  }
};

TEST_F(KillTest, KilledAtRandomMomentsResumesToTheUninterruptedRun) {
  const int epochs = 3;
  const auto reference = root_ + "/reference", run = root_ + "/run";
  const auto started = Clock::now();
  train_reference(reference, epochs);
  const double reference_seconds =
      std::chrono::duration<double>(Clock::now() - started).count();

  const auto log = root_ + "/run.log";
  const auto tmp = run + "/checkpoint.pt.tmp";
  std::mt19937 rng(14);
  // The random kills are placed by the run's own progress, not by the
  // clock, so a loaded or idle machine moves them with the run: each waits
  // for a random number (1-6) of checkpoint writes (one per step here) to
  // finish, then a random 0-50 ms more, which lands mid-step or inside the
  // next write. Timed kills (a fraction of the first run's time) let a run
  // finish before its third kill when the machine's load fell in between.
  double first_line_seconds = 0;
  // Two aimed kills and three at random: after the aimed ones at least two
  // epochs (24 steps) remain, more than three random kills' 18 steps.
  const int max_kills = 5;
  std::string positions;  // where each resume started
  int kills = 0, in_checkpoint_write = 0, mid_metrics_line = 0, resumes = 0,
      fresh_starts = 0;
  for (;;) {
    const bool resumable = fs::exists(run + "/checkpoint.pt") ||
                           fs::exists(run + "/checkpoint.prev.pt");
    std::vector<std::string> args;
    if (resumable) {
      args = {"train", "--resume", run};
      ++resumes;
      // Left by a kill; removed so that its presence at the next kill
      // shows that kill landed inside a checkpoint write.
      fs::remove(tmp);
    } else {
      // Killed before its first checkpoint: nothing to resume, start again.
      fs::remove_all(run);
      args = train_args(run, epochs);
      args.insert(args.end(), {"--checkpoint-every", "1"});
      ++fresh_starts;
    }
    // Writes slowed by 25 ms; by 200 ms in the run whose kill is aimed at a
    // checkpoint write, so the kill lands inside it even on a loaded machine.
    Process p(args, log, /*slow_write_ms=*/kills == 1 ? 200 : 25);
    if (kills < max_kills) {
      // The first kill waits for metrics.jsonl's first line to be half
      // written, the second for a checkpoint write to be under way; the
      // others come at random.
      const auto cut_line = [&] {
        const auto m = bytes_of(run + "/metrics.jsonl");
        return !m.empty() && m.back() != '\n';
      };
      const auto start = Clock::now();
      bool exited;
      if (kills == 0) {
        exited = p.wait_for(30, cut_line);
        first_line_seconds =
            std::chrono::duration<double>(Clock::now() - start).count();
      } else if (kills == 1) {
        exited = p.wait_for(30, [&] { return fs::exists(tmp); });
      } else {
        std::uniform_int_distribution<int> writes_before(1, 6);
        std::uniform_real_distribution<double> extra_seconds(0.0, 0.05);
        const int target = writes_before(rng);
        int finished_writes = 0;
        bool in_write = false;
        exited = p.wait_for(60, [&] {
          const bool writing_now = fs::exists(tmp);
          finished_writes += in_write && !writing_now;
          in_write = writing_now;
          return finished_writes >= target;
        });
        if (!exited) exited = p.wait_for(extra_seconds(rng));
      }
      if (!exited) {
        const bool writing = fs::exists(tmp);
        p.signal(SIGKILL);
        ASSERT_EQ(p.code(), -SIGKILL);
        ++kills;
        in_checkpoint_write += writing;
        const auto metrics = bytes_of(run + "/metrics.jsonl");
        mid_metrics_line += !metrics.empty() && metrics.back() != '\n';
        positions += where_resumed(run) + (writing ? "(in write) " : " ");
        continue;
      }
    }
    ASSERT_EQ(p.code(), 0) << bytes_of(log);
    break;
  }
  std::printf(
      "kill -9 test: %d kills (%d inside a checkpoint write, %d "
      "mid-way through a metrics line), %d resumes, %d fresh starts\n",
      kills, in_checkpoint_write, mid_metrics_line, resumes, fresh_starts);
  std::printf(
      "  reference %.2f s, first line %.2f s; after each kill the "
      "run stood at: %s\n",
      reference_seconds, first_line_seconds, positions.c_str());
  // The two aimed kills and the three at random.
  EXPECT_EQ(kills, max_kills);
  EXPECT_GE(in_checkpoint_write, 1);
  EXPECT_GE(mid_metrics_line, 1);
  ASSERT_EQ(lines_of(run + "/metrics.jsonl").size(), size_t(epochs));
  expect_same_run(reference, run);
}

TEST_F(KillTest, SigtermAndSigintCheckpointTheStepAndSayHowToResume) {
  const int epochs = 4;
  const auto reference = root_ + "/reference", run = root_ + "/run";
  train_reference(reference, epochs);
  const auto log = root_ + "/run.log";
  auto metrics_lines = [&] { return lines_of(run + "/metrics.jsonl").size(); };

  // Checkpoints only at epoch ends (and on signals): SIGTERM a while after
  // epoch 1's line, inside epoch 2.
  auto args = train_args(run, epochs);
  args.insert(args.end(), {"--checkpoint-minutes", "0"});
  {
    Process p(args, log, 0);
    // At once (polled every ms): an epoch of this tiny run is ~50 ms, and
    // a fixed sleep of 50 ms let it end before the signal.
    ASSERT_FALSE(p.wait_for(60, [&] { return metrics_lines() >= 1; }));
    p.signal(SIGTERM);
    EXPECT_EQ(p.code(), 143);
  }
  auto said = bytes_of(log);
  EXPECT_TRUE(contains(said, "interrupted by SIGTERM")) << said;
  EXPECT_TRUE(contains(said, "continue with: iai train --resume " + run))
      << said;
  const auto at_term =
      iai::train::read_checkpoint_header(run + "/checkpoint.pt");
  std::printf("SIGTERM: checkpoint after epoch %lld, step %lld\n",
              (long long)at_term.epoch, (long long)at_term.step);

  // SIGINT right after the resumed run's first new line.
  fs::remove(log);
  {
    const size_t before = metrics_lines();
    ASSERT_LT(before, static_cast<size_t>(epochs - 1));
    Process p({"train", "--resume", run}, log, 0);
    ASSERT_FALSE(p.wait_for(60, [&] { return metrics_lines() > before; }));
    p.signal(SIGINT);
    EXPECT_EQ(p.code(), 130);
  }
  said = bytes_of(log);
  EXPECT_TRUE(contains(said, "interrupted by SIGINT")) << said;
  EXPECT_TRUE(contains(said, "continue with: iai train --resume " + run))
      << said;

  // A second SIGINT while the first one's checkpoint is being written
  // (slowed; checkpoints only at epoch ends, so the first write after epoch
  // 3's line is the one the first SIGINT asked for): the process ends at
  // once, without its line, and the last complete checkpoint stays.
  fs::remove(log);
  {
    // Writes slowed to 300 ms: the second SIGINT must land inside the
    // write even on a loaded machine (40 ms was missed once under load).
    // Stopped inside epoch 3 above: every gradient record of epoch 4 is
    // to come.
    ASSERT_LT(metrics_lines(), 3u);
    Process p({"train", "--resume", run}, log, 300);
    const auto tmp = run + "/checkpoint.pt.tmp";
    fs::remove(tmp);
    // Epoch 3's checkpoint precedes its line; a SIGINT right after the
    // line could land before the trainer's between-epochs check, which
    // then stops without a write. So it is sent once epoch 4's steps
    // (steps 37-48, 12 an epoch) have begun: the gradient record of step 41 is
    // written just before that step, and a stop among the steps writes
    // the checkpoint.
    ASSERT_FALSE(p.wait_for(60, [&] {
      const auto records = lines_of(run + "/gradients.jsonl");
      if (records.empty()) return false;
      const auto last = nlohmann::json::parse(records.back(), nullptr, false);
      return !last.is_discarded() && last["step"].get<int>() > 3 * 12;
    }));
    p.signal(SIGINT);
    ASSERT_FALSE(p.wait_for(60, [&] { return fs::exists(tmp); }));
    p.signal(SIGINT);
    EXPECT_EQ(p.code(), 130);
  }
  said = bytes_of(log);
  EXPECT_FALSE(contains(said, "interrupted by")) << said;
  EXPECT_NO_THROW(iai::train::read_checkpoint_header(run + "/checkpoint.pt"));

  fs::remove(log);
  Process p({"train", "--resume", run}, log, 0);
  ASSERT_EQ(p.code(), 0) << bytes_of(log);
  expect_same_run(reference, run);
}

}  // namespace
