#pragma once
// The `iai` command line: `iai train | eval | infer | table | compare | gap |
// sweep | surface | report`, each with --help.
// Every flag of train/eval/infer can also come from a TOML file (--config).

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace iai::cli {

/// Parses and runs one command line (args exclude the program name).
/// Returns the process exit code: 0 ok, 1 error (one message on stderr),
/// 2 bad usage, 130 interrupted.
int run(const std::vector<std::string>& args);

/// Adds --config FILE to a subcommand. The file is read by run() before
/// parsing: each `key = value` becomes `--key=value` unless the command line
/// gives --key itself (flags win over the file); unknown keys are an error.
void add_config_option(CLI::App& command);

/// The flags `eval` and `infer` share: --iterations, --samples (0 = the
/// model's own T and S), --max-examples, --seed, --threads.
void add_inference_flags(CLI::App& command, int64_t& iterations,
                         int64_t& samples, int64_t& max_examples,
                         uint64_t& seed, int& threads);

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
