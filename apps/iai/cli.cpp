#include "cli.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/interrupt.h"
#include "iai/core/runtime.h"
#include "iai/parallel/launch.h"
#include "iai/parallel/local_workers.h"
#include "iai/parallel/process_group.h"
#include "iai/train/config/options.h"

#include <c10/util/Exception.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

namespace iai::cli {

namespace {

/// Edit distance with transpositions (optimal string alignment): "trian"
/// is one from "train", "epoch" one from "epochs".
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

/// Parses all of `text` as a whole number or (`whole` false) any number.
bool parse_number(const std::string& text, bool whole, double& value) {
  size_t used = 0;
  try {
    value = whole ? static_cast<double>(std::stoll(text, &used))
                  : std::stod(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size();
}

}  // namespace

std::string closest(const std::string& word,
                    const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    // A word the candidate starts with counts as one edit ("cifar").
    const size_t d =
        word.size() >= 3 && c.rfind(word, 0) == 0 ? 1 : edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

// A validator's message starts with "must": run_on() puts the flag's name
// before it, so the user reads one line, "--epochs must be ≥ 1 (got 0)".
CLI::Validator range_check(train::OptionRange range, bool whole) {
  static const char* const names[] = {"", "POSITIVE", "NONNEGATIVE",
                                      "IN (0,1]"};
  return CLI::Validator(
      [range, whole](std::string& text) -> std::string {
        double value = 0;
        if (!parse_number(text, whole, value)) {
          return whole ? "must be a whole number (got '" + text + "')"
                       : "must be a number (got '" + text + "')";
        }
        const bool ok = range == train::OptionRange::kPositive      ? value > 0
                        : range == train::OptionRange::kNonNegative ? value >= 0
                        : range == train::OptionRange::kFraction
                            ? value > 0 && value <= 1
                            : true;
        return ok ? std::string()
                  : train::range_error("", range, whole, text).substr(1);
      },
      names[static_cast<int>(range)]);
}

CLI::Validator between_check(int64_t low, int64_t high) {
  const std::string bounds =
      std::to_string(low) + " to " + std::to_string(high);
  return CLI::Validator(
      [low, high, bounds](std::string& text) -> std::string {
        double value = 0;
        if (!parse_number(text, true, value)) {
          return "must be a whole number (got '" + text + "')";
        }
        if (value >= static_cast<double>(low) &&
            value <= static_cast<double>(high)) {
          return "";
        }
        return "must be " + bounds + " (got " + text + ")";
      },
      "IN [" + std::to_string(low) + "," + std::to_string(high) + "]");
}

CLI::Validator one_of_check(const std::vector<std::string>& names) {
  std::string list, braces;
  for (const auto& n : names) {
    list += (list.empty() ? "" : ", ") + n;
    braces += (braces.empty() ? "" : ",") + n;
  }
  return CLI::Validator(
      [names, list](std::string& text) -> std::string {
        if (std::find(names.begin(), names.end(), text) != names.end()) {
          return "";
        }
        const std::string guess = closest(text, names);
        return "must be one of " + list + " (got '" + text + "')" +
               (guess.empty() ? "" : "; did you mean '" + guess + "'?");
      },
      "{" + braces + "}");
}

void add_config_option(CLI::App& command) {
  command.add_option("--config",
                     "TOML file setting any of these flags: keys "
                     "are flag names without '--' (batch-size = "
                     "64); flags on the command line win");
}

namespace {

/// The table's range as a check while parsing, with resolve()'s message.
template <typename V>
CLI::Option* with_range(CLI::Option* flag, const train::OptionSpec& option) {
  if (option.range == train::OptionRange::kAny) return flag;
  using Element =
      std::conditional_t<std::is_same_v<V, std::vector<int64_t>>, int64_t, V>;
  return flag->check(range_check(option.range, std::is_integral_v<Element>));
}

/// --device's form (cpu, cuda, cuda:N, auto) checked while parsing; what
/// it means on this machine is checked when the command resolves it.
CLI::Validator device_name_check() {
  return CLI::Validator(
      [](std::string& name) {
        try {
          check_device_name(name);
        } catch (const Error& e) {
          return std::string(e.what());
        }
        return std::string();
      },
      "DEVICE");
}

template <typename V>
CLI::Option* add_value(CLI::App& command, const train::OptionSpec& option,
                       V& value, const std::string& help) {
  auto* flag = command.add_option(option.flag(), value,
                                  help.empty() ? option.help : help);
  if (!option.allowed.empty()) flag->check(one_of_check(option.allowed));
  return with_range<V>(flag, option);
}

}  // namespace

CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             std::string& value, const std::string& help) {
  return add_value(command, option, value, help);
}
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             int64_t& value, const std::string& help) {
  return add_value(command, option, value, help);
}
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             uint64_t& value, const std::string& help) {
  return add_value(command, option, value, help);
}
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             int& value, const std::string& help) {
  return add_value(command, option, value, help);
}
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             double& value, const std::string& help) {
  return add_value(command, option, value, help);
}
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             std::vector<int64_t>& value,
                             const std::string& help) {
  return add_value(command, option, value, help);
}
CLI::Option* add_option_flag(CLI::App& command, const train::OptionSpec& option,
                             bool& value, const std::string& help) {
  // --x sets it, --no-x clears it (so a flag can undo a config file's key).
  const std::string name = option.flag().substr(2);
  return command.add_flag("--" + name + ",!--no-" + name, value,
                          help.empty() ? option.help : help);
}

/// The heading a training option's flag has in --help and docs/cli.md.
const char* group_heading(train::OptionGroup group) {
  switch (group) {
    case train::OptionGroup::kData:
      return "Data";
    case train::OptionGroup::kModel:
      return "Model";
    case train::OptionGroup::kInference:
      return "Inference";
    case train::OptionGroup::kOptimisation:
      return "Optimisation";
    case train::OptionGroup::kRuntime:
      return "Runtime";
    case train::OptionGroup::kOutput:
      return "Output";
  }
  return "Options";
}

void add_train_options(CLI::App& command, train::TrainConfig& config) {
  for (const auto& option : train::train_options()) {
    std::visit(
        [&](auto field) {
          auto* flag = add_option_flag(command, option, config.*field);
          flag->group(group_heading(option.group));
          if (option.name == "device") flag->check(device_name_check());
          // A bool's default is in its help; a derived one has none.
          using V = std::decay_t<decltype(config.*field)>;
          if (!std::is_same_v<V, bool> && option.show_default) {
            flag->capture_default_str();
          }
        },
        option.field);
  }
}

void add_runtime_flags(CLI::App& command, RuntimeOptions& runtime,
                       const std::string& seed_help) {
  add_option_flag(command, train::train_option("seed"), runtime.seed, seed_help)
      ->capture_default_str()
      ->group("Runtime");
  add_option_flag(command, train::train_option("threads"), runtime.threads)
      ->capture_default_str()
      ->group("Runtime");
  add_option_flag(command, train::train_option("device"), runtime.device)
      ->check(device_name_check())
      ->capture_default_str()
      ->group("Runtime");
  add_option_flag(command, train::train_option("precision"), runtime.precision)
      ->capture_default_str()
      ->group("Runtime");
}

/// The launch flags of the command being run: parsed (and range-checked)
/// with the rest, read by run_on() once parsing is complete and before the
/// command runs (they decide which processes run it, not what it computes).
parallel::LaunchOptions& launch_flags() {
  static parallel::LaunchOptions flags;
  return flags;
}

void add_launch_flags(CLI::App& command) {
  parallel::LaunchOptions& shown = launch_flags();
  command
      .add_option("--nproc-per-node", shown.nproc_per_node,
                  "Start N worker processes of this command on this machine "
                  "(a data-parallel job on 127.0.0.1, as torchrun would); "
                  "without it, RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT (or "
                  "Slurm's SLURM_PROCID/SLURM_NTASKS) make this process one "
                  "worker of a job")
      ->check(range_check(train::OptionRange::kPositive, true))
      ->group("Runtime");
  command
      .add_option("--dist-timeout", shown.dist_timeout,
                  "Seconds a worker waits for the others (rendezvous, each "
                  "all-reduce) before the job stops naming the missing rank")
      ->check(range_check(train::OptionRange::kPositive, false))
      ->capture_default_str()
      ->group("Runtime");
}

void add_run_data_dir_flag(CLI::App& command, std::string& data_dir) {
  add_option_flag(command, train::train_option("data_dir"), data_dir,
                  "Data folder (default: the one the model was trained on)");
}

void add_cuda_graph_flag(CLI::App& command, std::string& mode) {
  command
      .add_option("--cuda-graph", mode,
                  "On a GPU: replay each full batch's inference and "
                  "importance sampling from a CUDA graph (auto), or run every "
                  "kernel eagerly (off)")
      ->check(CLI::IsMember({"auto", "off"}))
      ->capture_default_str()
      ->group("Runtime");
}

void add_inference_flags(CLI::App& command, int64_t& iterations,
                         int64_t& samples, int64_t& max_examples,
                         RuntimeOptions& runtime) {
  add_option_flag(command, train::train_option("iterations"), iterations,
                  "T, inference iterations (default: the model's)");
  add_option_flag(command, train::train_option("samples"), samples,
                  "S, samples per ELBO estimate (default: the model's)");
  command
      .add_option("--max-examples", max_examples,
                  "Use the first N examples (0 = all)")
      ->check(range_check(train::OptionRange::kNonNegative, true))
      ->capture_default_str();
  add_runtime_flags(command, runtime, "Seed for binarisation and sampling");
}

namespace {

bool given(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a == flag || a.rfind(flag + "=", 0) == 0;
  });
}

/// CLI11 2.1 does not read a subcommand's own config file, so the file is
/// expanded into flags here, before parsing.
std::vector<std::string> expand_config(CLI::App& app,
                                       const std::vector<std::string>& args) {
  auto at = std::find(args.begin(), args.end(), "--config");
  if (args.empty() || at == args.end()) return args;
  IAI_CHECK(at + 1 != args.end(), "--config needs a file name");
  const std::string path = *(at + 1);
  CLI::App* command = nullptr;
  try {
    command = app.get_subcommand(args.front());
  } catch (const CLI::OptionNotFound&) {
  }
  IAI_CHECK(command != nullptr,
            "--config goes after a subcommand, e.g. "
            "iai train --config FILE");
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::FileError& e) {
    throw Error(message("cannot read config file '", path, "': ", e.what()));
  } catch (const CLI::ParseError& e) {
    throw Error(
        message("config file '", path, "' is not valid TOML: ", e.what()));
  }
  std::vector<std::string> out = {args.front()};
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section marks
    const std::string flag = "--" + item.name;
    IAI_CHECK(item.parents.empty() && flag != "--config" &&
                  command->get_option_no_throw(flag) != nullptr,
              "config file '", path, "': unknown key '", item.fullname(),
              "' (keys are the flags of 'iai ", args.front(),
              "' without '--'; see iai ", args.front(), " --help)");
    // The command line wins, in either form of a negatable flag.
    if (given(args, flag) || given(args, "--no-" + item.name)) continue;
    for (const auto& value : item.inputs) out.push_back(flag + "=" + value);
  }
  for (auto it = args.begin() + 1; it != args.end(); ++it) {
    if (it == at) {
      ++it;  // skip the file name too
      continue;
    }
    out.push_back(*it);
  }
  return out;
}

/// "rank 1: " in a worker of a job other than rank 0 (whose messages are
/// the job's), else "".
std::string rank_prefix() {
  const int rank = parallel::world_rank();
  return rank > 0 ? "rank " + std::to_string(rank) + ": " : std::string();
}

/// The commands that run spread over several processes.
bool runs_distributed(const std::string& command) {
  return command == "train" || command == "eval" || command == "compare" ||
         command == "gap";
}

bool is_command(CLI::App& app, const std::string& name) {
  try {
    return app.get_subcommand(name) != nullptr;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

/// `args` without --nproc-per-node and its value ("--nproc-per-node N" or
/// "--nproc-per-node=N"): the command line of each worker it starts.
std::vector<std::string> worker_args(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc-per-node") {
      ++i;  // and its value
    } else if (args[i].rfind("--nproc-per-node=", 0) != 0) {
      out.push_back(args[i]);
    }
  }
  return out;
}

/// Thrown once --nproc-per-node's workers have ended: the command ran in
/// them, not here.
struct WorkersEnded {
  int code;
};

/// The names of `app`'s commands, in --help's order.
std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  const auto subs = static_cast<const CLI::App&>(app).get_subcommands(
      [](const CLI::App*) { return true; });
  for (const auto* sub : subs) names.push_back(sub->get_name());
  return names;
}

/// Throws the one-line error for a first argument that names no command.
void check_command(CLI::App& app, const std::string& first) {
  if (first.empty() || first[0] == '-' || is_command(app, first)) return;
  const std::string guess = closest(first, command_names(app));
  throw Error(message("unknown command '", first, "'",
                      guess.empty() ? "; iai --help lists the commands"
                                    : "; did you mean '" + guess + "'?"));
}

/// Whether `text` reads as a number (a value such as -1, not a flag).
bool is_number(const std::string& text) {
  double ignored = 0;
  return parse_number(text, false, ignored);
}

/// The one line for a command line CLI11 refused (`command`: the one it
/// was parsing, or the top level).
std::string usage_error(const CLI::ParseError& e, CLI::App& command,
                        const std::vector<std::string>& args) {
  const std::string what = e.what();
  const std::string help = command.get_parent() == nullptr
                               ? std::string("iai --help")
                               : "iai " + command.get_name() + " --help";
  // A mistyped flag first, whatever CLI11 stopped at: `eval --checkpiont
  // DIR` is an unknown flag more than a missing --checkpoint.
  {
    // The first argument that looks like a flag and names none.
    const size_t first = command.get_parent() == nullptr ? 0 : 1;
    for (size_t i = first; i < args.size() && args[i] != "--"; ++i) {
      const std::string& a = args[i];
      if (a.size() < 2 || a[0] != '-' || is_number(a)) continue;
      const std::string name = a.substr(0, a.find('='));
      if (command.get_option_no_throw(name) != nullptr) continue;
      std::vector<std::string> flags;
      for (const auto* opt : command.get_options()) {
        for (const auto& l : opt->get_lnames()) flags.push_back("--" + l);
      }
      const std::string guess = name.rfind("--", 0) == 0
                                    ? closest(name.substr(2),
                                              [&] {
                                                std::vector<std::string> bare;
                                                for (const auto& f : flags)
                                                  bare.push_back(f.substr(2));
                                                return bare;
                                              }())
                                    : std::string();
      return message("unknown option '", name, "'",
                     guess.empty() ? "; " + help + " lists the flags"
                                   : "; did you mean '--" + guess + "'?");
    }
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    const size_t colon = what.find(": ");
    return message("unexpected argument",
                   what.find("arguments") != std::string::npos ? "s" : "", " '",
                   colon == std::string::npos ? what : what.substr(colon + 2),
                   "'; ", help, " lists what it takes");
  }
  if (dynamic_cast<const CLI::ValidationError*>(&e) != nullptr) {
    // "--epochs: must be ≥ 1 (got 0)" from the checks above, or a message
    // that names the flag itself ("--device: --device must be ...").
    const size_t colon = what.find(": ");
    if (colon != std::string::npos) {
      const std::string name = what.substr(0, colon);
      const std::string rest = what.substr(colon + 2);
      if (rest.rfind("must ", 0) == 0) return name + " " + rest;
      if (rest.rfind(name, 0) == 0) return rest;
    }
  }
  return what;
}

/// The command CLI11 was parsing when it failed: the first argument's,
/// else the top level.
CLI::App& failed_command(CLI::App& app, const std::vector<std::string>& args) {
  if (!args.empty() && is_command(app, args.front())) {
    return *app.get_subcommand(args.front());
  }
  return app;
}

}  // namespace

std::unique_ptr<CLI::App> make_app() {
  auto app = std::make_unique<CLI::App>(
      "iai: iterative amortized inference (Marino, Yue & Mandt, ICML 2018).\n"
      "Train standard and iterative inference models, evaluate them, run "
      "inference.",
      "iai");
  app->require_subcommand(1);
  app->set_version_flag(
      "--version", [] { return version_text(); },
      "Print iai's and LibTorch's versions and what this "
      "build and this machine can do (CUDA, c10d/Gloo, "
      "NCCL, oneDNN, bf16), and exit");
  app->footer(
      "Run 'iai help COMMAND' or 'iai COMMAND --help' for a command's flags.\n"
      "Exit status: 0 done; 1 error, one line on stderr (a bad command line "
      "too); 2 no command given (this usage, on stderr); 130 / 143 "
      "interrupted by SIGINT / SIGTERM (the run checkpointed).");
  return app;
}

int run(const std::vector<std::string>& raw_args) {
  const auto app = make_app();
  add_train_command(*app);
  add_eval_command(*app);
  add_infer_command(*app);
  add_table_command(*app);
  add_compare_command(*app);
  add_gap_command(*app);
  add_sweep_command(*app);
  add_surface_command(*app);
  add_report_command(*app);
  add_help_command(*app);
  return run_on(*app, raw_args);
}

int run_on(CLI::App& app, const std::vector<std::string>& raw_args) {
  std::vector<std::string> args;
  std::vector<const char*> argv = {"iai"};
  // Ends the job's connections however the command ends.
  struct LeaveJob {
    ~LeaveJob() { parallel::set_world(nullptr); }
  } leave_job;
  if (raw_args.empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return 2;
  }
  try {
    check_command(app, raw_args.front());
    args = expand_config(app, raw_args);
    launch_flags() = parallel::LaunchOptions();
    // Once the command line is parsed and checked, before the command runs:
    // which processes run it.
    app.parse_complete_callback([&app, &args] {
      if (app.get_subcommands().empty()) return;
      const std::string command = app.get_subcommands().front()->get_name();
      const parallel::LaunchOptions& launch = launch_flags();
      const auto env = parallel::read_launch_env();
      if (!runs_distributed(command)) {
        IAI_CHECK(!env.distributed(), "iai ", command,
                  " runs in one process; a job of ", env.world_size,
                  " processes (", env.source,
                  " environment) can run iai train, eval, compare and gap");
        return;
      }
      if (launch.nproc_per_node > 0) {
        throw WorkersEnded{parallel::run_local_workers(launch.nproc_per_node,
                                                       worker_args(args))};
      }
      if (env.distributed()) {
        parallel::set_world(
            parallel::ProcessGroup::connect(env, launch.dist_timeout));
      }
    });
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const WorkersEnded& ended) {
    return ended.code;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
        app.get_subcommands().empty()) {
      std::fprintf(stderr, "%s", app.help().c_str());  // no command given
      return 2;
    }
    std::fprintf(stderr, "iai: error: %s\n",
                 usage_error(e, failed_command(app, args), args).c_str());
    return 1;
  } catch (const Error& e) {
    // Every rank of a job stops on an interrupt; rank 0 says so.
    if (!(interrupt_requested() && parallel::world_rank() > 0)) {
      std::fprintf(stderr, "iai: error: %s%s\n", rank_prefix().c_str(),
                   e.what());
    }
    if (interrupt_requested()) {
      // 130 for SIGINT, 143 for SIGTERM: what a shell reports for a job
      // the signal killed, so schedulers and scripts see it as such.
      const int code = 128 + interrupt_signal();
      clear_interrupt();
      return code;
    }
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "iai: error inside LibTorch: %s%s\n",
                 rank_prefix().c_str(), e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iai: error: %s%s\n", rank_prefix().c_str(), e.what());
    return 1;
  }
  return 0;
}

}  // namespace iai::cli
