// `iai train --config FILE`: the TOML reader (CLI11's) and iai's expansion
// of its keys into flags, parsed and range-checked as the command line is.
// --resume of a folder that does not exist stops the command after parsing,
// before any data or training: every path ends in an error message, a usage
// message or the refusal of a key beside --resume.
//
// Each input goes through iai::cli::run_on, as iai's own run() does, with
// the file written where the user's would be: --config's expansion, the
// launch flags, CLI11's parse with every option's check, the train
// command's callback. Only the building of the app is not per input: the
// `train` command is built once and parses every input (CLI11 clears an
// app's results before a parse). Building it, and the eight other commands
// run() also builds, took over nine tenths of each execution (perf: CLI11's
// add_option compares each new option's names with every earlier option's,
// allocating strings each time, and ASan records a stack per allocation):
// 500 inputs took 4.1 ms each that way, 5,000 took 0.28 ms each this way.
#include "cli.h"
#include "fuzz_input.h"

#include <CLI/CLI.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static CLI::App* const app = [] {
    CLI::App* a = iai::cli::make_app().release();  // lives to the exit
    iai::cli::add_train_command(*a);
    return a;
  }();
  const std::string path = iai::fuzz::input_file(data, size, "config.toml");
  static const std::string missing =
      iai::fuzz::scratch_folder() + "/no-such-run";
  // run_on() reports every failure as an exit code; only a crash or a
  // sanitizer's report is a finding.
  (void)iai::cli::run_on(*app,
                         {"train", "--config", path, "--resume", missing});
  return 0;
}
