#pragma once
// The `iai` command line: `iai train | eval | infer | table | compare | gap |
// sweep | surface | report`, each with --help.
// Every flag of train/eval/infer can also come from a TOML file (--config).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
class Validator;
}  // namespace CLI

namespace iai {
struct RuntimeOptions;
}
namespace iai::train {
struct OptionSpec;
struct TrainConfig;
enum class OptionRange;
}  // namespace iai::train

namespace iai::cli {

/// Parses and runs one command line (args exclude the program name).
/// Returns the process exit code: 0 ok; 1 error, a bad command line
/// included (one line on stderr: an unknown command or flag with the
/// closest name, a value out of range naming its flag); 2 no command given
/// (the usage on stderr); 130 / 143 interrupted by SIGINT / SIGTERM.
int run(const std::vector<std::string>& args);

/// The top-level app run() starts from: no commands yet (add them with the
/// add_*_command functions below).
std::unique_ptr<CLI::App> make_app();

/// run() on `app`, which holds the commands: expands --config, takes the
/// launch flags, parses and runs. run() builds every command's options for
/// each call (most of the time a failing command line takes); the config
/// fuzzer builds `train` once and parses each input with it (CLI11 clears an
/// app's results before it parses again).
int run_on(CLI::App& app, const std::vector<std::string>& args);

/// Adds `iai help [COMMAND] [--markdown | --all]` to `app`, which holds the
/// other commands: the usage of iai or of one command; --markdown every
/// command and flag as Markdown (docs/cli.md); --all every command's
/// --help in one text (the man page's source).
void add_help_command(CLI::App& app);

/// `iai --version`: iai's and LibTorch's versions and what this build and
/// this machine can do (CUDA, c10d/Gloo, NCCL, oneDNN, bf16).
std::string version_text();

/// Every command and flag of `app` as Markdown (docs/cli.md).
std::string markdown_help(CLI::App& app);

/// The candidate closest to `word` by edit distance (transpositions count
/// one; a candidate that starts with `word`, of 3 letters or more, is one
/// away), if within a third of its length (at least 1); "" if none is.
std::string closest(const std::string& word,
                    const std::vector<std::string>& candidates);

/// The checks of a flag's value while parsing. Their messages start with
/// "must" and run_on() puts the flag before it: "--epochs must be ≥ 1 (got
/// 0)", "--grid must be 2 to 1001 (got 1)", "--dataset must be one of mnist,
/// ... (got 'cifar'); did you mean 'cifar10'?". `whole`: the flag takes a
/// whole number.
CLI::Validator range_check(train::OptionRange range, bool whole);
CLI::Validator between_check(int64_t low, int64_t high);
CLI::Validator one_of_check(const std::vector<std::string>& names);

/// Adds --config FILE to a subcommand. The file is read by run() before
/// parsing: each `key = value` becomes `--key=value` unless the command line
/// gives --key itself (flags win over the file); unknown keys are an error.
void add_config_option(CLI::App& command);

/// Adds the flag of a training option (train/config/options.h: its name, type
/// and range; --x and --no-x for a bool) bound to `value`, which may belong to
/// another command's config; `help` replaces the table's when given. The
/// caller decides whether --help shows the default.
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             std::string& value, const std::string& help = "");
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             int64_t& value, const std::string& help = "");
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             uint64_t& value, const std::string& help = "");
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             int& value, const std::string& help = "");
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             double& value, const std::string& help = "");
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             bool& value, const std::string& help = "");
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             std::vector<int64_t>& value,
                             const std::string& help = "");

/// Every training option as a flag of `command`, bound to `config`.
void add_train_options(CLI::App& command, train::TrainConfig& config);

/// The runtime group every computing command takes (train has it through
/// add_train_options), bound to one RuntimeOptions (core/runtime.h): --seed,
/// --threads, --device; `seed_help` says what the seed fixes for this command.
void add_runtime_flags(CLI::App& command, RuntimeOptions& runtime,
                       const std::string& seed_help);

/// --nproc-per-node and --dist-timeout (parallel/launch.h) on a command that
/// runs spread over several processes; run() acts on them once the command
/// line is parsed, before the command runs.
void add_launch_flags(CLI::App& command);

/// --data-dir of a command that reads a trained run (default: the run's).
void add_run_data_dir_flag(CLI::App& command, std::string& data_dir);

/// The flags `eval` and `infer` share: --iterations, --samples (0 = the
/// model's own T and S), --max-examples, and the runtime group.
/// --cuda-graph auto|off of the commands that evaluate (eval, infer).
void add_cuda_graph_flag(CLI::App& command, std::string& mode);
void add_inference_flags(CLI::App& command, int64_t& iterations,
                         int64_t& samples, int64_t& max_examples,
                         RuntimeOptions& runtime);

// One per subcommand file: adds the subcommand and its action to `app`.
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_infer_command(CLI::App& app);
void add_table_command(CLI::App& app);
void add_compare_command(CLI::App& app);  // also `gap`, in compare_command.cpp
void add_gap_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
void add_surface_command(CLI::App& app);
void add_report_command(CLI::App& app);

}  // namespace iai::cli
