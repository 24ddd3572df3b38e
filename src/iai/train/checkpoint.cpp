#include "iai/train/checkpoint.h"

#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/train/checkpoint_file.h"

#include <nlohmann/json.hpp>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <sstream>

namespace iai::train {

namespace fs = std::filesystem;

namespace {
// 1: epoch-end checkpoints, bare LibTorch archives. 2: a checksum around the
// archive (checkpoint_file.h) and the position inside an epoch. Version 1
// files still load: they are read as taken at an epoch's end.
constexpr int64_t kFormatVersion = 2;
const char* const kFileName = "checkpoint.pt";

void write_sub(torch::serialize::OutputArchive& archive, const char* key,
               const std::function<void(torch::serialize::OutputArchive&)>& f) {
  torch::serialize::OutputArchive sub;
  f(sub);
  archive.write(key, sub);
}

void open(torch::serialize::InputArchive& archive, const std::string& path) {
  std::istringstream payload(read_checked_file(path));
  try {
    archive.load_from(payload);
  } catch (const c10::Error& e) {
    throw Error(message("checkpoint '", path,
                        "' is not a readable iai checkpoint (truncated or "
                        "not a LibTorch archive): ",
                        e.what_without_backtrace()));
  }
}

/// elbo, reconstruction, kl, then each level's kl, as one double tensor.
torch::Tensor sums_tensor(const objectives::TermValues& s) {
  std::vector<double> v = {s.elbo, s.reconstruction, s.kl};
  v.insert(v.end(), s.kl_levels.begin(), s.kl_levels.end());
  return torch::tensor(v, torch::kDouble);
}

objectives::TermValues sums_from(const torch::Tensor& t,
                                 const std::string& path) {
  // Written by sums_tensor: 3 + levels doubles. Anything else (only a
  // crafted file passes the checksum) must not be read past its end.
  IAI_CHECK(t.defined() && t.dim() == 1 && t.numel() >= 4 &&
                t.scalar_type() == torch::kDouble,
            "checkpoint '", path, "' holds malformed epoch sums (",
            t.defined() ? t.numel() : 0, " values)");
  const auto c = t.contiguous();
  const double* v = c.data_ptr<double>();
  objectives::TermValues s;
  s.elbo = v[0];
  s.reconstruction = v[1];
  s.kl = v[2];
  s.kl_levels.assign(v + 3, v + c.numel());
  return s;
}

std::string shape_of(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i) {
    out += (i ? ", " : "") + std::to_string(t.size(i));
  }
  return out + "]";
}

/// LibTorch's Module::load silently takes on the archive's shapes, so a
/// checkpoint of another model configuration would load as wrong weights:
/// every parameter and buffer is compared with the module's first. Adds
/// "name: [..] saved, [..] here" per difference (missing ones throw).
void compare_shapes(torch::serialize::InputArchive& archive,
                    const torch::nn::Module& module, const std::string& prefix,
                    std::vector<std::string>& differences) {
  auto compare = [&](const std::string& name, const torch::Tensor& mine,
                     bool is_buffer) {
    torch::Tensor saved;
    archive.read(name, saved, is_buffer);
    if (!saved.sizes().equals(mine.sizes())) {
      differences.push_back(prefix + name + ": " + shape_of(saved) +
                            " saved, " + shape_of(mine) + " here");
    }
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    compare(p.key(), p.value(), false);
  }
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    compare(b.key(), b.value(), true);
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive sub;
    archive.read(child.key(), sub);
    compare_shapes(sub, *child.value(), prefix + child.key() + ".", differences);
  }
}

/// Loads `module` from the archive's `key`, after compare_shapes.
void load_module(torch::serialize::InputArchive& archive, const char* key,
                 torch::nn::Module& module, const std::string& path) {
  torch::serialize::InputArchive sub;
  archive.read(key, sub);
  std::vector<std::string> differences;
  compare_shapes(sub, module, std::string(key) + ".", differences);
  if (!differences.empty()) {
    throw Error(message("checkpoint '", path,
                        "' does not match the model its config describes "
                        "(written for another model configuration?): ",
                        differences.front(),
                        differences.size() > 1
                            ? message(" and ", differences.size() - 1,
                                      " more differences")
                            : std::string()));
  }
  module.load(sub);
}

int64_t read_int(torch::serialize::InputArchive& archive, const char* key) {
  torch::Tensor t;
  archive.read(key, t);
  return t.item<int64_t>();
}

/// A key later checkpoints of one format version hold: 0 when absent.
int64_t read_optional_int(torch::serialize::InputArchive& archive,
                          const char* key) {
  torch::Tensor t;
  return archive.try_read(key, t) ? t.item<int64_t>() : 0;
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
  archive.write("step", torch::tensor(header.step));
  archive.write("last_metrics", c10::IValue(header.last_metrics));
  archive.write("skipped_nonfinite", torch::tensor(header.skipped_nonfinite));
  if (header.step > 0) {
    const EpochProgress& p = header.progress;
    archive.write("epoch_rng", p.epoch_rng);
    archive.write("epoch_sums", sums_tensor(p.sums));
    archive.write("epoch_examples", torch::tensor(p.examples));
    archive.write("epoch_seconds", torch::tensor(p.seconds, torch::kDouble));
    archive.write("epoch_skipped", torch::tensor(p.skipped_nonfinite));
  }
  archive.write("rng", rng_state());
  write_sub(archive, "model", [&](auto& a) { model.save(a); });
  write_sub(archive, "procedure", [&](auto& a) { procedure.save(a); });
  write_sub(archive, "model_optimizer",
            [&](auto& a) { model_optimizer.save(a); });
  write_sub(archive, "procedure_optimizer",
            [&](auto& a) { procedure_optimizer.save(a); });
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw Error(message("cannot write checkpoint '", path,
                        "': ", e.what_without_backtrace()));
  }
  write_checked_file(path, bytes.str());
}

CheckpointHeader read_checkpoint_header(const std::string& path) {
  torch::serialize::InputArchive archive;
  open(archive, path);
  CheckpointHeader header;
  try {
    const int64_t version = read_int(archive, "format_version");
    IAI_CHECK(version <= kFormatVersion, "checkpoint '", path,
              "' was written by a newer iai (format version ", version,
              "); this iai reads versions up to ", kFormatVersion);
    c10::IValue config;
    archive.read("config", config);
    header.config = config_from_json(nlohmann::json::parse(config.toStringRef()));
    header.epoch = read_int(archive, "epoch");
    header.data_dim = read_int(archive, "data_dim");
    if (version >= 2) {
      header.step = read_int(archive, "step");
      c10::IValue last;
      archive.read("last_metrics", last);
      header.last_metrics = last.toStringRef();
      // Added within version 2: absent from its earliest checkpoints.
      header.skipped_nonfinite = read_optional_int(archive, "skipped_nonfinite");
    }
    if (header.step > 0) {
      EpochProgress& p = header.progress;
      archive.read("epoch_rng", p.epoch_rng);
      torch::Tensor sums, seconds;
      archive.read("epoch_sums", sums);
      p.sums = sums_from(sums, path);
      p.examples = read_int(archive, "epoch_examples");
      archive.read("epoch_seconds", seconds);
      p.seconds = seconds.item<double>();
      p.skipped_nonfinite = read_optional_int(archive, "epoch_skipped");
    }
  } catch (const c10::Error& e) {
    throw Error(message("checkpoint '", path,
                        "' lacks iai's header: ", e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(message("checkpoint '", path,
                        "' holds an unreadable config: ", e.what()));
  }
  return header;
}

std::string resumable_checkpoint(const std::string& run_or_file,
                                 std::string* fallback_note,
                                 const std::string& action) {
  fs::path newest(run_or_file);
  if (fs::is_directory(newest)) newest /= kFileName;
  const std::string prev = previous_checkpoint_path(newest.string());
  std::string why;
  try {
    read_checkpoint_header(checkpoint_path(newest.string()));
    return newest.string();
  } catch (const Error& e) {
    if (!fs::exists(prev)) throw;
    why = e.what();
  }
  try {
    read_checkpoint_header(prev);
  } catch (const Error& e) {
    throw Error(message(why, "; the previous checkpoint is unreadable too: ",
                        e.what()));
  }
  if (fallback_note != nullptr) {
    *fallback_note = message("the newest checkpoint is unreadable (", why,
                             "); ", action, " the previous one, '", prev,
                             "', one checkpoint interval earlier");
  }
  return prev;
}

void load_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::nn::Module& procedure,
                     torch::optim::Optimizer* model_optimizer,
                     torch::optim::Optimizer* procedure_optimizer,
                     bool restore_rng) {
  torch::serialize::InputArchive archive;
  open(archive, path);
  try {
    load_module(archive, "model", model, path);
    load_module(archive, "procedure", procedure, path);
    torch::serialize::InputArchive sub;
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
