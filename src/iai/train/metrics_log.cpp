#include "iai/train/metrics_log.h"

#include "iai/core/error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <vector>

namespace iai::train {

void append_metrics(const std::string& path, const nlohmann::json& record) {
  std::ofstream out(path, std::ios::app);
  IAI_CHECK(out.good(), "cannot append to metrics log '", path, "'");
  out << record.dump() << '\n';
}

void truncate_metrics(const std::string& path, int64_t last_epoch) {
  std::ifstream in(path);
  if (!in.good()) return;
  std::vector<std::string> kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded()) continue;  // a line cut by a crash
    if (record.value("epoch", int64_t{0}) <= last_epoch) kept.push_back(line);
  }
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    IAI_CHECK(out.good(), "cannot rewrite metrics log '", path, "'");
    for (const auto& l : kept) out << l << '\n';
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace iai::train
