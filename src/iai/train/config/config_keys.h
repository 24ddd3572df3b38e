#pragma once
// A TrainConfig from the keys `iai train --config` reads (the flags without
// '--': batch-size = 64), given as a JSON object: a TOML file or a Python
// dict read into one. Each key is looked up in the option table
// (train/config/options.h) like the CLI's flags, so both take the same keys.

#include "iai/train/config/config.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace iai::train {

/// TrainConfig's defaults with each key of `keys` set: a flag's name without
/// '--' or the field's name ("batch-size" or "batch_size"), its value of the
/// field's type (a whole number for a count, a number for a rate, true or
/// false for a switch, a list of whole numbers for a list). Throws
/// iai::Error naming `source` and the key for an unknown key or a value of
/// the wrong type; ranges and allowed values are resolve()'s to check.
TrainConfig config_from_keys(const nlohmann::json& keys,
                             const std::string& source);

}  // namespace iai::train
