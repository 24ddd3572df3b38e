#include "iai/train/checkpoint.h"

#include "iai/core/error.h"
#include "iai/core/rng.h"

#include <nlohmann/json.hpp>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>

namespace iai::train {

namespace fs = std::filesystem;

namespace {
constexpr int64_t kFormatVersion = 1;
const char* const kFileName = "checkpoint.pt";

void write_sub(torch::serialize::OutputArchive& archive, const char* key,
               const std::function<void(torch::serialize::OutputArchive&)>& f) {
  torch::serialize::OutputArchive sub;
  f(sub);
  archive.write(key, sub);
}

void open(torch::serialize::InputArchive& archive, const std::string& path) {
  IAI_CHECK(fs::exists(path), "checkpoint '", path, "' does not exist");
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw Error(message("checkpoint '", path,
                        "' is not a readable iai checkpoint (truncated or "
                        "not a LibTorch archive): ",
                        e.what_without_backtrace()));
  }
}
}  // namespace

std::string checkpoint_path(const std::string& run_or_file) {
  fs::path p(run_or_file);
  if (fs::is_directory(p)) p /= kFileName;
  IAI_CHECK(fs::is_regular_file(p), "no checkpoint at '", p.string(),
            "' (expected a run folder holding ", kFileName,
            " or the file itself)");
  return p.string();
}

void save_checkpoint(const std::string& path, const CheckpointHeader& header,
                     torch::nn::Module& model, torch::nn::Module& procedure,
                     torch::optim::Optimizer& model_optimizer,
                     torch::optim::Optimizer& procedure_optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("format_version", torch::tensor(kFormatVersion));
  archive.write("config", c10::IValue(to_json(header.config).dump()));
  archive.write("epoch", torch::tensor(header.epoch));
  archive.write("data_dim", torch::tensor(header.data_dim));
  archive.write("rng", rng_state());
  write_sub(archive, "model", [&](auto& a) { model.save(a); });
  write_sub(archive, "procedure", [&](auto& a) { procedure.save(a); });
  write_sub(archive, "model_optimizer",
            [&](auto& a) { model_optimizer.save(a); });
  write_sub(archive, "procedure_optimizer",
            [&](auto& a) { procedure_optimizer.save(a); });
  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    throw Error(message("cannot write checkpoint '", tmp,
                        "': ", e.what_without_backtrace()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  IAI_CHECK(!ec, "cannot move checkpoint '", tmp, "' to '", path,
            "': ", ec.message());
}

CheckpointHeader read_checkpoint_header(const std::string& path) {
  torch::serialize::InputArchive archive;
  open(archive, path);
  CheckpointHeader header;
  try {
    torch::Tensor version, epoch, data_dim;
    archive.read("format_version", version);
    IAI_CHECK(version.item<int64_t>() == kFormatVersion, "checkpoint '", path,
              "' has format version ", version.item<int64_t>(),
              "; this iai reads version ", kFormatVersion);
    c10::IValue config;
    archive.read("config", config);
    header.config = config_from_json(nlohmann::json::parse(config.toStringRef()));
    archive.read("epoch", epoch);
    archive.read("data_dim", data_dim);
    header.epoch = epoch.item<int64_t>();
    header.data_dim = data_dim.item<int64_t>();
  } catch (const c10::Error& e) {
    throw Error(message("checkpoint '", path,
                        "' lacks iai's header: ", e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(message("checkpoint '", path,
                        "' holds an unreadable config: ", e.what()));
  }
  return header;
}

void load_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::nn::Module& procedure,
                     torch::optim::Optimizer* model_optimizer,
                     torch::optim::Optimizer* procedure_optimizer,
                     bool restore_rng) {
  torch::serialize::InputArchive archive;
  open(archive, path);
  try {
    torch::serialize::InputArchive sub;
    archive.read("model", sub);
    model.load(sub);
    archive.read("procedure", sub);
    procedure.load(sub);
    if (model_optimizer) {
      archive.read("model_optimizer", sub);
      model_optimizer->load(sub);
    }
    if (procedure_optimizer) {
      archive.read("procedure_optimizer", sub);
      procedure_optimizer->load(sub);
    }
    if (restore_rng) {
      torch::Tensor state;
      archive.read("rng", state);
      set_rng_state(state);
    }
  } catch (const c10::Error& e) {
    throw Error(message("checkpoint '", path,
                        "' does not match the model its config describes: ",
                        e.what_without_backtrace()));
  }
}

}  // namespace iai::train
