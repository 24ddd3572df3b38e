// Every command's bad input, as a user types it: an unknown command or flag,
// a number out of range, an --out that cannot be written, a missing data
// folder, a run whose two checkpoints are both unreadable. Each must end in
// exit status 1 and one line on stderr naming the flag or the file, and must
// leave no folder behind. One tiny run (2-D latent, point posterior, so
// `surface` takes it too) is trained once for the whole suite.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "run_support.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::testing::contains;
using iai::testing::run_cli;

class CliBadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("IAI_TEST_TMP");
    // One folder per process: ctest runs each test in a process of its own,
    // several at a time, and each sets the suite up.
    root_ = new std::string((fs::path(tmp != nullptr ? tmp : IAI_TEST_TMP) /
                             ("CliBadInputTest-" + std::to_string(::getpid())))
                                .string());
    fs::remove_all(*root_);
    fs::create_directories(data());
    iai::testing::write_tiny_mnist(data(), 96, 40);
    const auto r =
        run_cli({"train", "--data-dir",       data(),  "--latent",
                 "2",     "--posterior",      "point", "--encoder-hidden",
                 "8",     "--decoder-hidden", "8",     "--batch-size",
                 "32",    "--epochs",         "1",     "--threads",
                 "1",     "--seed",           "3",     "--out",
                 run()});
    ASSERT_EQ(r.code, 0) << r.err;
    // gap needs a Gaussian q: a second run for it.
    const auto g = run_cli({"train", "--data-dir", data(), "--latent", "2",
                            "--encoder-hidden", "8", "--decoder-hidden", "8",
                            "--batch-size", "32", "--epochs", "1", "--threads",
                            "1", "--seed", "3", "--out", gaussian_run()});
    ASSERT_EQ(g.code, 0) << g.err;
    // The same run with both checkpoints overwritten by garbage.
    fs::copy(run(), corrupt());
    for (const char* name : {"checkpoint.pt", "checkpoint.prev.pt"}) {
      std::ofstream(corrupt() + "/" + name, std::ios::trunc)
          << "not a checkpoint";
    }
    // A sweep folder whose one setting's run has the same two checkpoints.
    fs::create_directories(corrupt_sweep() + "/standard-T1-S1");
    for (const char* name : {"checkpoint.pt", "checkpoint.prev.pt"}) {
      std::ofstream(corrupt_sweep() + "/standard-T1-S1/" + name) << "garbage";
    }
    // A plain file: no folder can be made under it, whoever runs the tests
    // (root ignores permission bits).
    std::ofstream(blocker()) << "a file\n";
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
    root_ = nullptr;
  }

  static std::string data() { return *root_ + "/mnist"; }
  static std::string run() { return *root_ + "/run"; }
  static std::string gaussian_run() { return *root_ + "/gaussian-run"; }
  static std::string corrupt() { return *root_ + "/corrupt"; }
  static std::string corrupt_sweep() { return *root_ + "/corrupt-sweep"; }
  static std::string blocker() { return *root_ + "/a-file"; }
  /// A path no test creates: each failing command must leave it absent.
  static std::string fresh(const std::string& leaf) {
    return *root_ + "/never-" + leaf;
  }

  static std::string* root_;
};
std::string* CliBadInputTest::root_ = nullptr;

/// Exit status 1 and exactly one line on stderr, "iai: error: ..."
/// containing `part`.
void expect_one_line(const iai::testing::CliResult& r,
                     const std::string& part) {
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("iai: error: ", 0), 0u) << r.err;
  EXPECT_TRUE(contains(r.err, part));
}

TEST_F(CliBadInputTest, BareIaiPrintsTheUsageAndExits2) {
  const auto r = run_cli({});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "Usage: iai [OPTIONS] SUBCOMMAND")) << r.err;
  for (const char* command : {"train", "eval", "infer", "table", "compare",
                              "gap", "sweep", "surface", "report", "help"}) {
    EXPECT_TRUE(contains(r.err, std::string("\n  ") + command + " "))
        << command;
  }
  EXPECT_TRUE(contains(r.err, "2 no command given"));
}

TEST_F(CliBadInputTest, UnknownCommandsAndFlagsGetTheClosestName) {
  auto r = run_cli({"trian", "--epochs", "3"});
  EXPECT_EQ(r.err,
            "iai: error: unknown command 'trian'; did you mean 'train'?\n");
  EXPECT_EQ(r.code, 1);
  r = run_cli({"compar"});
  EXPECT_EQ(r.err,
            "iai: error: unknown command 'compar'; did you mean 'compare'?\n");
  r = run_cli({"frobnicate"});
  EXPECT_EQ(r.err,
            "iai: error: unknown command 'frobnicate'; iai --help lists "
            "the commands\n");
  EXPECT_EQ(r.code, 1);
  r = run_cli({"help", "sweeep"});
  EXPECT_EQ(r.err,
            "iai: error: unknown command 'sweeep'; did you mean 'sweep'?\n");

  // {command line, the flag typed, the flag meant}; each with a fresh --out
  // that must stay absent.
  const std::vector<std::vector<std::string>> cases = {
      {"train", "--epoch", "3", "--epochs"},
      {"eval", "--checkpiont", run(), "--checkpoint"},
      {"infer", "--imagse", "x.idx", "--images"},
      {"compare", "--procedure", "sgd", "--procedures"},
      {"gap", "--optimiser", "adam", "--optimizer"},
      {"surface", "--exampel", "3", "--example"},
      {"sweep", "--t-value", "2", "--t-values"},
      {"report", "--titel", "x", "--title"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c[0]);
    const auto out = fresh("unknown-" + c[0]);
    r = run_cli({c[0], c[1], c[2], "--out", out});
    EXPECT_EQ(r.err, "iai: error: unknown option '" + c[1] +
                         "'; did you mean '" + c[3] + "'?\n");
    EXPECT_EQ(r.code, 1);
    EXPECT_FALSE(fs::exists(out));
  }
  r = run_cli({"eval", "--zzzzzzzz", "--checkpoint", run()});
  EXPECT_EQ(r.err,
            "iai: error: unknown option '--zzzzzzzz'; iai eval --help "
            "lists the flags\n");
  // A value typed after a flag that takes none: CLI11's own wording, still
  // one line.
  r = run_cli({"table", run(), "--bogus=3"});
  expect_one_line(r, "unknown option '--bogus'");
}

TEST_F(CliBadInputTest, NumbersOutOfRangeAreOneLineNamingTheFlag) {
  // {command line without --out, the whole message}
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"train", "--epochs", "-1"}, "--epochs must be \u2265 1 (got -1)"},
      {{"train", "--batch-size", "0"}, "--batch-size must be \u2265 1 (got 0)"},
      {{"train", "--lr", "0"}, "--lr must be > 0 (got 0)"},
      {{"train", "--lr-decay", "1.5"},
       "--lr-decay must be in (0, 1] (got 1.5)"},
      {{"train", "--skip-nonfinite", "-2"},
       "--skip-nonfinite must be \u2265 0 (got -2)"},
      {{"train", "--latent", "two"},
       "--latent must be a whole number (got 'two')"},
      {{"train", "--nproc-per-node", "0"},
       "--nproc-per-node must be \u2265 1 (got 0)"},
      {{"train", "--dataset", "cifar"},
       "--dataset must be one of mnist, omniglot, svhn, cifar10, rcv1, idx "
       "(got 'cifar'); did you mean 'cifar10'?"},
      {{"eval", "--checkpoint", run(), "--batch-size", "0"},
       "--batch-size must be \u2265 1 (got 0)"},
      {{"eval", "--checkpoint", run(), "--iw-samples", "-5"},
       "--iw-samples must be \u2265 0 (got -5)"},
      {{"infer", "--checkpoint", run(), "--iterations", "0"},
       "--iterations must be \u2265 1 (got 0)"},
      {{"infer", "--checkpoint", run(), "--max-examples", "-1"},
       "--max-examples must be \u2265 0 (got -1)"},
      {{"compare", "--checkpoint", run(), "--tune-examples", "0"},
       "--tune-examples must be \u2265 1 (got 0)"},
      {{"gap", "--checkpoint", run(), "--refine-iterations", "-3"},
       "--refine-iterations must be \u2265 1 (got -3)"},
      {{"gap", "--checkpoint", run(), "--step-size", "-0.5"},
       "--step-size must be \u2265 0 (got -0.5)"},
      {{"surface", "--run", run(), "--grid", "1"},
       "--grid must be 2 to 1001 (got 1)"},
      {{"surface", "--run", run(), "--map-steps", "0"},
       "--map-steps must be \u2265 1 (got 0)"},
      {{"sweep", "--fixed-samples", "0"},
       "--fixed-samples must be \u2265 1 (got 0)"},
      {{"sweep", "--t-values", "2,0"}, "--t-values must be \u2265 1 (got 0)"},
  };
  int i = 0;
  for (const auto& [args, expected] : cases) {
    SCOPED_TRACE(args[0] + " " + args[args.size() - 2]);
    const auto out = fresh("range-" + std::to_string(i++));
    auto line = args;
    // infer's --out is a file; the others' a folder.
    line.insert(line.end(),
                {"--out", args[0] == "infer" ? out + "/x.csv" : out});
    const auto r = run_cli(line);
    EXPECT_EQ(r.err, "iai: error: " + expected + "\n");
    EXPECT_EQ(r.code, 1);
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST_F(CliBadInputTest, AnOutThatCannotBeWrittenIsNamed) {
  const auto out = blocker() + "/out";
  const std::vector<std::vector<std::string>> cases = {
      {"train", "--data-dir", data(), "--epochs", "1", "--out", out},
      {"eval", "--checkpoint", run(), "--out", out},
      {"infer", "--checkpoint", run(), "--out", out + "/x.csv"},
      {"compare", "--checkpoint", run(), "--out", out},
      {"gap", "--checkpoint", gaussian_run(), "--out", out},
      {"surface", "--run", run(), "--out", out},
      {"sweep", "--data-dir", data(), "--out", out},
      {"report", run(), "--out", out + "/report.html"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args[0]);
    expect_one_line(run_cli(args), out);
  }
  // Nothing was written beside the run either.
  for (const char* made : {"compare", "surface", "eval.json", "gap.json"}) {
    EXPECT_FALSE(fs::exists(run() + "/" + made)) << made;
  }
}

TEST_F(CliBadInputTest, AMissingDataFolderIsNamed) {
  const auto nowhere = *root_ + "/no-data-here";
  const std::vector<std::vector<std::string>> cases = {
      {"train", "--data-dir", nowhere, "--out", fresh("data-train")},
      {"eval", "--checkpoint", run(), "--data-dir", nowhere},
      {"compare", "--checkpoint", run(), "--data-dir", nowhere},
      {"gap", "--checkpoint", gaussian_run(), "--data-dir", nowhere},
      {"surface", "--run", run(), "--data-dir", nowhere},
      {"sweep", "--data-dir", nowhere, "--out", fresh("data-sweep")},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args[0]);
    expect_one_line(run_cli(args), "'" + nowhere + "'");
  }
  EXPECT_FALSE(fs::exists(fresh("data-train")));
  EXPECT_FALSE(fs::exists(fresh("data-sweep")));
  for (const char* made : {"compare", "surface", "eval.json", "gap.json"}) {
    EXPECT_FALSE(fs::exists(run() + "/" + made)) << made;
  }
  // infer reads an image file instead; report, run folders.
  expect_one_line(run_cli({"infer", "--checkpoint", run(), "--images",
                           nowhere + "/t10k-images-idx3-ubyte", "--out",
                           fresh("data-infer") + "/x.csv"}),
                  nowhere + "/t10k-images-idx3-ubyte");
  EXPECT_FALSE(fs::exists(fresh("data-infer")));
  expect_one_line(run_cli({"report", nowhere, "--out",
                           fresh("data-report") + "/report.html"}),
                  nowhere);
  EXPECT_FALSE(fs::exists(fresh("data-report")));
}

// Each data set has its own default folder: cifar10's is data/cifar10 (from
// the directory iai runs in), and the error names it.
TEST_F(CliBadInputTest, EachDataSetHasItsOwnDefaultFolder) {
  const auto out = fresh("default-folder");
  for (const std::string dataset : {"cifar10", "svhn", "rcv1"}) {
    SCOPED_TRACE(dataset);
    if (fs::exists("data/" + dataset))
      GTEST_SKIP() << "data/" << dataset << " exists here";
    expect_one_line(run_cli({"train", "--dataset", dataset, "--out", out}),
                    "'data/" + dataset);
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST_F(CliBadInputTest, BothCheckpointsUnreadableIsOneLineNamingThem) {
  const auto out = fresh("corrupt");
  const std::vector<std::vector<std::string>> cases = {
      {"train", "--resume", corrupt()},
      {"eval", "--checkpoint", corrupt(), "--out", out},
      {"infer", "--checkpoint", corrupt(), "--out", out + "/x.csv"},
      {"compare", "--checkpoint", corrupt(), "--out", out},
      {"gap", "--checkpoint", corrupt(), "--out", out},
      {"surface", "--run", corrupt(), "--out", out},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args[0]);
    const auto r = run_cli(args);
    expect_one_line(r, corrupt() + "/checkpoint.pt");
    EXPECT_TRUE(contains(r.err, corrupt() + "/checkpoint.prev.pt"));
    EXPECT_FALSE(fs::exists(out));
  }
  // A sweep resumes the runs already in its folder.
  const auto sweep_run = corrupt_sweep() + "/standard-T1-S1";
  const auto r = run_cli({"sweep", "--variants", "standard", "--s-values", "1",
                          "--data-dir", data(), "--out", corrupt_sweep()});
  expect_one_line(r, sweep_run + "/checkpoint.pt");
  EXPECT_TRUE(contains(r.err, sweep_run + "/checkpoint.prev.pt"));
  EXPECT_FALSE(fs::exists(corrupt_sweep() + "/sweep.csv"));
  // Nothing was moved or written in the run folders.
  for (const auto& folder : {corrupt(), sweep_run}) {
    EXPECT_EQ(
        iai::testing::bytes_of(folder + "/checkpoint.prev.pt").substr(0, 3),
        folder == corrupt() ? "not" : "gar");
    EXPECT_FALSE(fs::exists(folder + "/checkpoint.unreadable.pt"));
  }
  EXPECT_FALSE(fs::exists(corrupt() + "/compare"));
  EXPECT_FALSE(fs::exists(corrupt() + "/eval.json"));
}

}  // namespace
