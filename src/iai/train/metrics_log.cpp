#include "iai/train/metrics_log.h"

#include "iai/core/error.h"
#include "iai/core/test_hooks.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <vector>

namespace iai::train {

void append_metrics(const std::string& path, const nlohmann::json& record) {
  std::ofstream out(path, std::ios::app);
  IAI_CHECK(out.good(), "cannot append to metrics log '", path, "'");
  const std::string line = record.dump() + '\n';
  // Two writes with the test hook between, so the kill tests can cut a line.
  const size_t half = line.size() / 2;
  out.write(line.data(), std::streamsize(half)).flush();
  pause_in_write_for_tests();
  out.write(line.data() + half, std::streamsize(line.size() - half)).flush();
  IAI_CHECK(out.good(), "cannot append to metrics log '", path, "'");
}

void truncate_log(const std::string& path, const char* key, int64_t last) {
  std::ifstream in(path);
  if (!in.good()) return;
  std::vector<std::string> kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto record =
        nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    // A line cut by a crash does not parse: a JSON object needs its '}'.
    if (record.is_discarded() || !record.is_object()) continue;
    if (record.value(key, int64_t{0}) <= last) kept.push_back(line);
  }
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    IAI_CHECK(out.good(), "cannot rewrite log '", path, "'");
    for (const auto& l : kept) out << l << '\n';
    out.flush();
    IAI_CHECK(out.good(), "cannot rewrite log '", path, "'");
  }
  std::filesystem::rename(tmp, path);
}

void truncate_metrics(const std::string& path, int64_t last_epoch) {
  truncate_log(path, "epoch", last_epoch);
}

void repair_metrics(const std::string& path, int64_t last_epoch,
                    const std::string& last_line) {
  truncate_metrics(path, last_epoch);
  if (last_line.empty()) return;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_discarded() &&
        record.value("epoch", int64_t{0}) == last_epoch) {
      return;
    }
  }
  in.close();
  std::ofstream out(path, std::ios::app);
  IAI_CHECK(out.good(), "cannot append to metrics log '", path, "'");
  out << last_line << '\n';
}

}  // namespace iai::train
