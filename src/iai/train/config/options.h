#pragma once
// The options of a training run, each declared once: its TrainConfig field,
// its name (config.json key = field name; flag and TOML key = the same with
// '-' for '_'), its help text, its allowed values (from the library's own
// parsers) and its range. config.json, resolve()'s per-field checks and the
// CLI's flags, TOML keys and --help (apps/iai) are all generated from this
// table, so a new option is a TrainConfig field plus one entry here.

#include "iai/train/config/config.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace iai::train {

/// Which commands take an option besides `train`: kRuntime options (seed,
/// threads; the coming device and launch flags) go on every command that
/// computes, the others on `train` only.
enum class OptionGroup {
  kData,
  kModel,
  kInference,
  kOptimisation,
  kRuntime,
  kOutput
};

/// A per-field range, checked by the CLI while parsing and by resolve().
enum class OptionRange {
  kAny,
  kPositive,     // > 0
  kNonNegative,  // >= 0
  kFraction,     // in (0, 1]
};

/// The field, by type (a pointer to member knows both).
using OptionField =
    std::variant<std::string TrainConfig::*, int64_t TrainConfig::*,
                 uint64_t TrainConfig::*, int TrainConfig::*,
                 double TrainConfig::*, bool TrainConfig::*,
                 std::vector<int64_t> TrainConfig::*>;

struct OptionSpec {
  /// The field's name: config.json's key (never change one: old run folders
  /// must load).
  std::string name;
  OptionField field;
  OptionGroup group;
  std::string help;
  /// Non-empty: the value must be one of these (in --help's order).
  std::vector<std::string> allowed;
  OptionRange range = OptionRange::kAny;
  /// "" or 0 (an empty list) means "derived by resolve()": --help shows no
  /// default, and resolve() checks the field only once it is derived.
  bool derived = false;
  /// --help shows the default (off for options whose default is empty).
  bool show_default = true;
  /// `iai train --resume` may change it: what a run's numbers do not depend
  /// on (threads, device, checkpoint cadence), and the epochs to go on.
  bool resumable = false;

  /// "--batch-size" for batch_size.
  std::string flag() const;
};

/// Every option of TrainConfig, in --help's order.
const std::vector<OptionSpec>& train_options();
/// The option named `name` (a field name); throws iai::Error if none.
const OptionSpec& train_option(const std::string& name);

/// The flags of the resumable options, for messages: "--epochs, --threads,
/// --device, --checkpoint-every and --checkpoint-minutes".
std::string resumable_flags();

/// Sets `option`'s field of `to` to its value in `from`.
void copy_option(const OptionSpec& option, const TrainConfig& from,
                 TrainConfig& to);

/// The one line that says `value` is out of `range` for `flag`, the same
/// from the CLI's parser and from resolve(): "--epochs must be ≥ 1 (got 0)"
/// (`whole`: the flag takes whole numbers, so > 0 reads ≥ 1), "--lr must be
/// > 0 (got -1)", "--lr-decay must be in (0, 1] (got 1.5)".
std::string range_error(const std::string& flag, OptionRange range, bool whole,
                        const std::string& value);

/// The data set's default folder, where --data-dir is not given:
/// data/<name> (data/mnist, data/cifar10, ...); "" for idx, which reads
/// --train-images and --test-images instead.
std::string default_data_dir(const std::string& dataset);

/// Throws iai::Error naming the flag unless the option's value in `config`
/// is allowed and in range.
void check_option(const OptionSpec& option, const TrainConfig& config);

}  // namespace iai::train
