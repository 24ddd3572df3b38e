// Disk and paths (docs/runs.md): an --out that is a file, lies under a
// file or cannot be written is one clear error before any data is loaded; a
// full disk (or a file size limit) during a checkpoint write is one clear
// error naming the checkpoint, which stays intact, and the run resumes from
// it once there is space again.
//
// A full disk without root: a checkpoint's temporary file that is a link to
// /dev/full, where every write fails with ENOSPC, and RLIMIT_FSIZE in a
// child process (EFBIG). Where mounting works (root with CAP_SYS_ADMIN, as on
// a CI machine), also a real, small tmpfs and a read-only one.

#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/checkpoint/checkpoint_file.h"
#include "run_support.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using iai::testing::bytes_of;
using iai::testing::contains;
using iai::testing::error_of;
using iai::testing::lines_of;
using iai::testing::run_cli;

/// A tmpfs of `bytes` (read-only when asked) mounted on `dir` for the
/// test's lifetime; mounted() is false where the test may not mount.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, long bytes, bool read_only) : dir_(dir) {
    const std::string options = "size=" + std::to_string(bytes);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", read_only ? MS_RDONLY : 0,
                       options.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(CheckpointFileTest, FullDiskIsAnErrorNamingTheFileAndKeepsTheOldOnes) {
  const std::string dir = iai::testing::scratch_dir();
  const std::string path = dir + "/checkpoint.pt";
  iai::train::write_checked_file(path, "first");
  iai::train::write_checked_file(path, "second");
  // Every write to /dev/full fails with ENOSPC, as on a full disk.
  fs::create_symlink("/dev/full", path + ".tmp");
  const std::string error =
      error_of([&] { iai::train::write_checked_file(path, "third"); });
  EXPECT_TRUE(contains(error, "cannot write checkpoint '" + path + "'"));
  EXPECT_TRUE(contains(error, "No space left on device"));
  EXPECT_EQ(iai::train::read_checked_file(path), "second");
  EXPECT_EQ(iai::train::read_checked_file(dir + "/checkpoint.prev.pt"),
            "first");
  // The partial temporary file is gone, and the next write succeeds.
  EXPECT_FALSE(fs::exists(fs::symlink_status(path + ".tmp")));
  iai::train::write_checked_file(path, "fourth");
  EXPECT_EQ(iai::train::read_checked_file(path), "fourth");
  EXPECT_EQ(iai::train::read_checked_file(dir + "/checkpoint.prev.pt"),
            "second");
}

TEST(CheckpointFileTest, FileSizeLimitIsAnErrorAndKeepsTheCheckpoint) {
  const std::string dir = iai::testing::scratch_dir();
  const std::string path = dir + "/checkpoint.pt";
  iai::train::write_checked_file(path, "small");
  const std::string big(1 << 20, 'b');
  // In a child: the limit and the ignored SIGXFSZ (else the signal kills
  // the process) stay there. Exit 0: the error named the file and reason,
  // the old checkpoint reads back, no temporary file is left.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{64 * 1024, 64 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 10;
    try {
      iai::train::write_checked_file(path, big);
    } catch (const iai::Error& e) {
      const std::string m = e.what();
      code = m.find(path) == std::string::npos                ? 11
             : m.find("File too large") == std::string::npos  ? 12
             : iai::train::read_checked_file(path) != "small" ? 13
             : fs::exists(path + ".tmp")                      ? 14
                                                              : 0;
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10: no error; 11: path not named; 12: no reason; 13: old "
         "checkpoint damaged; 14: temporary file left";
}

class DiskTest : public iai::testing::TinyRunTest {
 protected:
  DiskTest() : TinyRunTest("disk") {}
};

TEST_F(DiskTest, OutThatIsAFileIsAnErrorBeforeTheDataLoad) {
  const std::string file = root_ + "/results.txt";
  std::ofstream(file) << "not a folder\n";
  // A data folder that does not exist: the --out error must come first.
  auto args = train_args(file, 1);
  args[2] = root_ + "/no-such-data";
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "'" + file + "' is a file, not a folder"));
  EXPECT_FALSE(contains(r.err, "no-such-data"));
  EXPECT_EQ(bytes_of(file), "not a folder\n");

  r = run_cli(train_args(file + "/run1", 1));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "'" + file + "' is a file, not a folder"));
}

TEST_F(DiskTest, UnwritableOutIsAnErrorBeforeTheDataLoad) {
  const std::string locked = root_ + "/locked";
  fs::create_directories(locked);
  // Root writes through permissions: a read-only mount stops it too.
  std::optional<TmpfsMount> read_only;
  if (::geteuid() == 0) {
    read_only.emplace(locked, 1 << 20, /*read_only=*/true);
    if (!read_only->mounted()) {
      GTEST_SKIP() << "root without permission to mount a read-only tmpfs";
    }
  } else {
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  }
  auto args = train_args(locked + "/run", 1);
  args[2] = root_ + "/no-such-data";
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "cannot create run folder '" + locked + "/run'"))
      << r.err;
  EXPECT_FALSE(contains(r.err, "no-such-data"));
  // An existing folder that cannot be written: the probe write says so.
  r = run_cli(train_args(locked, 1));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "cannot write to run folder '" + locked + "'"))
      << r.err;
  if (!read_only) fs::permissions(locked, fs::perms::owner_all);
}

TEST_F(DiskTest, FullDiskAtACheckpointKeepsTheLastAndResumesLater) {
  const std::string run = root_ + "/run";
  ASSERT_EQ(run_cli(train_args(run, 1)).code, 0);
  const std::string before = bytes_of(run + "/checkpoint.pt");
  // The disk is full when epoch 2 ends.
  fs::create_symlink("/dev/full", run + "/checkpoint.pt.tmp");
  auto r = run_cli({"train", "--resume", run, "--epochs", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(
      contains(r.err, "cannot write checkpoint '" + run + "/checkpoint.pt'"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "No space left on device"));
  EXPECT_EQ(bytes_of(run + "/checkpoint.pt"), before);
  EXPECT_EQ(lines_of(run + "/metrics.jsonl").size(), 1u);
  // Space again: the resume redoes epoch 2.
  r = run_cli({"train", "--resume", run, "--epochs", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_of(run + "/metrics.jsonl").size(), 2u);
  EXPECT_EQ(bytes_of(run + "/checkpoint.prev.pt"), before);
}

TEST_F(DiskTest, RealSmallFileSystemFillsUpAtTheThirdCheckpoint) {
  // Epoch 1's checkpoint alone, to size the file system: room for two
  // checkpoints and a half, so the third one's temporary file does not fit
  // beside the second and its kept predecessor.
  const std::string sizing = root_ + "/sizing";
  ASSERT_EQ(run_cli(train_args(sizing, 1)).code, 0);
  const auto one = fs::file_size(sizing + "/checkpoint.pt");
  const std::string mount = root_ + "/small";
  fs::create_directories(mount);
  TmpfsMount small(mount, long(one * 5 / 2 + 64 * 1024), false);
  if (!small.mounted()) GTEST_SKIP() << "no permission to mount a tmpfs";
  const std::string run = mount + "/run";
  auto r = run_cli(train_args(run, 3));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "checkpoint '" + run + "/checkpoint.pt'"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "No space left on device")) << r.err;
  // Epochs 1 and 2 intact, with their metrics lines; nothing half-written.
  auto last = iai::train::read_checkpoint_header(run + "/checkpoint.pt");
  EXPECT_EQ(last.epoch, 2);
  EXPECT_EQ(
      iai::train::read_checkpoint_header(run + "/checkpoint.prev.pt").epoch, 1);
  EXPECT_EQ(lines_of(run + "/metrics.jsonl").size(), 2u);
  EXPECT_FALSE(fs::exists(run + "/checkpoint.pt.tmp"));
}

}  // namespace
