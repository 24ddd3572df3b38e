#include "iai/train/config/config_keys.h"

#include "iai/core/error.h"
#include "iai/train/config/options.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <variant>

namespace iai::train {

namespace {

/// The option a key names, or nullptr.
const OptionSpec* option_of(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  for (const auto& option : train_options()) {
    if (option.name == key) return &option;
  }
  return nullptr;
}

bool whole(const nlohmann::json& v) {
  return v.is_number_integer() || v.is_number_unsigned();
}

struct Setter {
  const nlohmann::json& value;
  const std::string& where;  // "config 'batch-size'"

  void operator()(std::string& field) const {
    IAI_CHECK(value.is_string(), where, " must be a string, got ",
              value.dump());
    field = value.get<std::string>();
  }
  void operator()(int64_t& field) const {
    IAI_CHECK(whole(value), where, " must be a whole number, got ",
              value.dump());
    field = value.get<int64_t>();
  }
  void operator()(int& field) const {
    IAI_CHECK(whole(value), where, " must be a whole number, got ",
              value.dump());
    field = value.get<int>();
  }
  void operator()(uint64_t& field) const {
    IAI_CHECK(value.is_number_unsigned() ||
                  (value.is_number_integer() && value.get<int64_t>() >= 0),
              where, " must be a whole number >= 0, got ", value.dump());
    field = value.get<uint64_t>();
  }
  void operator()(double& field) const {
    IAI_CHECK(value.is_number(), where, " must be a number, got ",
              value.dump());
    field = value.get<double>();
  }
  void operator()(bool& field) const {
    IAI_CHECK(value.is_boolean(), where, " must be true or false, got ",
              value.dump());
    field = value.get<bool>();
  }
  void operator()(std::vector<int64_t>& field) const {
    const bool list =
        value.is_array() && std::all_of(value.begin(), value.end(), whole);
    IAI_CHECK(list || whole(value), where,
              " must be a list of whole numbers, got ", value.dump());
    field = list ? value.get<std::vector<int64_t>>()
                 : std::vector<int64_t>{value.get<int64_t>()};
  }
};

}  // namespace

TrainConfig config_from_keys(const nlohmann::json& keys,
                             const std::string& source) {
  IAI_CHECK(keys.is_object(), source, " must map keys to values, got ",
            keys.dump());
  TrainConfig config;
  for (const auto& item : keys.items()) {
    const OptionSpec* option = option_of(item.key());
    IAI_CHECK(option != nullptr, source, ": unknown key '", item.key(),
              "' (keys are the flags of 'iai train' without '--'; see iai "
              "train --help)");
    const std::string where = source + " '" + item.key() + "'";
    std::visit(
        [&](auto field) {
          Setter{item.value(), where}(config.*field);
        },
        option->field);
  }
  return config;
}

}  // namespace iai::train
