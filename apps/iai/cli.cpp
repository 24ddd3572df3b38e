#include "cli.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/interrupt.h"
#include "iai/core/runtime.h"
#include "iai/parallel/launch.h"
#include "iai/parallel/local_workers.h"
#include "iai/parallel/process_group.h"
#include "iai/train/options.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

namespace iai::cli {

void add_config_option(CLI::App& command) {
  command.add_option("--config", "TOML file setting any of these flags: keys "
                                 "are flag names without '--' (batch-size = "
                                 "64); flags on the command line win");
}

namespace {

/// The table's range as a CLI11 check, so a bad value fails while parsing.
CLI::Option* with_range(CLI::Option* flag, const train::OptionSpec& option) {
  switch (option.range) {
    case train::OptionRange::kPositive:
      return flag->check(CLI::PositiveNumber);
    case train::OptionRange::kNonNegative:
      return flag->check(CLI::NonNegativeNumber);
    case train::OptionRange::kFraction:
      return flag->check(CLI::Range(1e-9, 1.0));
    case train::OptionRange::kAny:
      break;
  }
  return flag;
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
  if (!option.allowed.empty()) flag->check(CLI::IsMember(option.allowed));
  return with_range(flag, option);
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

void add_train_options(CLI::App& command, train::TrainConfig& config) {
  for (const auto& option : train::train_options()) {
    std::visit(
        [&](auto field) {
          auto* flag = add_option_flag(command, option, config.*field);
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
      ->capture_default_str();
  add_option_flag(command, train::train_option("threads"), runtime.threads)
      ->capture_default_str();
  add_option_flag(command, train::train_option("device"), runtime.device)
      ->check(device_name_check())
      ->capture_default_str();
  add_option_flag(command, train::train_option("precision"), runtime.precision)
      ->capture_default_str();
}

void add_launch_flags(CLI::App& command) {
  // Shown in --help and accepted in a --config file; run() takes them out
  // of the command line before parsing (they decide which processes run
  // the command, not what it computes), so these values stay unread.
  static parallel::LaunchOptions shown;
  command
      .add_option("--nproc-per-node", shown.nproc_per_node,
                  "Start N worker processes of this command on this machine "
                  "(a data-parallel job on 127.0.0.1, as torchrun would); "
                  "without it, RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT (or "
                  "Slurm's SLURM_PROCID/SLURM_NTASKS) make this process one "
                  "worker of a job")
      ->check(CLI::PositiveNumber);
  command
      .add_option("--dist-timeout", shown.dist_timeout,
                  "Seconds a worker waits for the others (rendezvous, each "
                  "all-reduce) before the job stops naming the missing rank")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void add_run_data_dir_flag(CLI::App& command, std::string& data_dir) {
  add_option_flag(command, train::train_option("data_dir"), data_dir,
                  "Data folder (default: the one the model was trained on)");
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
      ->check(CLI::NonNegativeNumber)
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
  IAI_CHECK(command != nullptr, "--config goes after a subcommand, e.g. "
                                "iai train --config FILE");
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::FileError& e) {
    throw Error(message("cannot read config file '", path, "': ", e.what()));
  } catch (const CLI::ParseError& e) {
    throw Error(message("config file '", path, "' is not valid TOML: ",
                        e.what()));
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

/// The value of `flag` at args[i] ("--flag V" or "--flag=V"), erasing both
/// from args; nullopt when args[i] is another argument.
std::optional<std::string> take_flag(std::vector<std::string>& args, size_t i,
                                     const std::string& flag) {
  if (args[i] == flag) {
    IAI_CHECK(i + 1 < args.size(), flag, " needs a value");
    std::string value = args[i + 1];
    args.erase(args.begin() + i, args.begin() + i + 2);
    return value;
  }
  if (args[i].rfind(flag + "=", 0) == 0) {
    std::string value = args[i].substr(flag.size() + 1);
    args.erase(args.begin() + i);
    return value;
  }
  return std::nullopt;
}

double positive_number(const std::string& flag, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  IAI_CHECK(used == text.size() && value > 0, flag, " '", text,
            "' must be a positive number");
  return value;
}

bool is_command(CLI::App& app, const std::string& name) {
  try {
    return app.get_subcommand(name) != nullptr;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

/// Takes the launch flags out of `args` (`worker_args` keeps all but
/// --nproc-per-node, for the workers it starts).
parallel::LaunchOptions take_launch_flags(std::vector<std::string>& args,
                                          std::vector<std::string>& worker_args) {
  parallel::LaunchOptions launch;
  worker_args.clear();
  for (size_t i = 0; i < args.size();) {
    if (auto v = take_flag(args, i, "--nproc-per-node")) {
      const double n = positive_number("--nproc-per-node", *v);
      IAI_CHECK(n == static_cast<int>(n), "--nproc-per-node '", *v,
                "' must be a whole number");
      launch.nproc_per_node = static_cast<int>(n);
    } else if (auto t = take_flag(args, i, "--dist-timeout")) {
      launch.dist_timeout = positive_number("--dist-timeout", *t);
      worker_args.push_back("--dist-timeout=" + *t);
    } else {
      worker_args.push_back(args[i]);
      ++i;
    }
  }
  return launch;
}

}  // namespace

std::unique_ptr<CLI::App> make_app() {
  auto app = std::make_unique<CLI::App>(
      "iai: iterative amortized inference (Marino, Yue & Mandt, ICML 2018).\n"
      "Train standard and iterative inference models, evaluate them, run "
      "inference.",
      "iai");
  app->require_subcommand(1);
  app->set_version_flag("--version", "iai 0.1.0");
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
  return run_on(*app, raw_args);
}

int run_on(CLI::App& app, const std::vector<std::string>& raw_args) {
  std::vector<std::string> args;
  std::vector<const char*> argv = {"iai"};
  // Ends the job's connections however the command ends.
  struct LeaveJob {
    ~LeaveJob() { parallel::set_world(nullptr); }
  } leave_job;
  try {
    args = expand_config(app, raw_args);
    if (!args.empty() && runs_distributed(args.front())) {
      std::vector<std::string> worker_args;
      const auto launch = take_launch_flags(args, worker_args);
      if (launch.nproc_per_node > 0) {
        return parallel::run_local_workers(launch.nproc_per_node, worker_args);
      }
      const auto env = parallel::read_launch_env();
      if (env.distributed()) {
        parallel::set_world(
            parallel::ProcessGroup::connect(env, launch.dist_timeout));
      }
    } else if (!args.empty() && is_command(app, args.front())) {
      const auto env = parallel::read_launch_env();
      IAI_CHECK(!env.distributed(), "iai ", args.front(),
                " runs in one process; a job of ", env.world_size,
                " processes (", env.source,
                " environment) can run iai train, eval, compare and gap");
    }
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
    std::fprintf(stderr, "iai: error: %s%s\n", rank_prefix().c_str(),
                 e.what());
    return 1;
  }
  return 0;
}

}  // namespace iai::cli
