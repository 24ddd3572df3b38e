// `iai train --config FILE`: the TOML reader (CLI11's) and iai's expansion
// of its keys into flags, parsed and range-checked as the command line is.
// --resume of a folder that does not exist stops the command after parsing,
// before any data or training: every path ends in an error message, a usage
// message or the refusal of a key beside --resume.
#include "cli.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = iai::fuzz::input_file(data, size, "config.toml");
  const std::string missing = iai::fuzz::scratch_folder() + "/no-such-run";
  // run() reports every failure as an exit code; only a crash or a
  // sanitizer's report is a finding.
  (void)iai::cli::run({"train", "--config", path, "--resume", missing});
  return 0;
}
