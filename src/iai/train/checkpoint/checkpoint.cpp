#include "iai/train/checkpoint/checkpoint.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/train/checkpoint/checkpoint_archive.h"
#include "iai/train/checkpoint/checkpoint_file.h"

#include <torch/optim/adam.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <new>
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

/// The first line of `text` that is not empty (LibTorch's TorchScript
/// errors quote the source on the lines after it).
std::string first_line(const std::string& text) {
  const size_t start = text.find_first_not_of('\n');
  if (start == std::string::npos) return text;
  return text.substr(start, text.find('\n', start) - start);
}

/// Runs `read`, a read of a checkpoint's archive, turning what LibTorch
/// throws into iai::Error: `context` and LibTorch's reason. LibTorch
/// reports a malformed archive with c10::Error, and also with other types:
/// its TorchScript importer throws torch::jit::ErrorReport and
/// std::runtime_error, a missing attribute ObjectAttributeError. Those
/// passed iai's catch of c10::Error, and with no handler left std::terminate
/// ended the process (found by fuzz/checkpoint_fuzz.cpp). iai's own errors
/// and std::bad_alloc pass through.
template <typename Read>
void reading(const std::string& context, Read&& read) {
  try {
    read();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error(context + e.what_without_backtrace());
  } catch (const nlohmann::json::exception& e) {
    throw Error(context + e.what());
  } catch (const std::exception& e) {
    throw Error(context + first_line(e.what()));
  }
}

/// Every tensor read from `archive` comes out on `device`, whatever device
/// the writer's tensors were on (a checkpoint from a GPU run, or one from
/// an older iai that saved them where they were, loads on a CPU).
void open(torch::serialize::InputArchive& archive, const std::string& path,
          const torch::Device& device = torch::kCPU) {
  const std::string bytes = read_checked_file(path);
  std::istringstream payload(bytes);
  reading(message("checkpoint '", path,
                  "' is not a readable iai checkpoint "
                  "(truncated or not a LibTorch archive): "),
          [&] {
            // Refuses what LibTorch would read unchecked
            // (checkpoint_archive.h).
            check_checkpoint_archive(bytes, path);
            archive.load_from(payload, device);
          });
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
    compare_shapes(sub, *child.value(), prefix + child.key() + ".",
                   differences);
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
    throw Error(message(
        "checkpoint '", path,
        "' does not match the model its config describes "
        "(written for another model configuration?): ",
        differences.front(),
        differences.size() > 1
            ? message(" and ", differences.size() - 1, " more differences")
            : std::string()));
  }
  module.load(sub);
}

/// Module::save's layout (parameters, buffers, then one sub-archive per
/// child) with every tensor copied to the CPU, so a checkpoint reads the
/// same on any machine.
void save_on_cpu(const torch::nn::Module& module,
                 torch::serialize::OutputArchive& archive) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    archive.write(p.key(), p.value().cpu());
  }
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    archive.write(b.key(), b.value().cpu(), /*is_buffer=*/true);
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::OutputArchive sub;
    save_on_cpu(*child.value(), sub);
    archive.write(child.key(), sub);
  }
}

void save_module(torch::nn::Module& module,
                 torch::serialize::OutputArchive& archive) {
  if (device_of(module).is_cpu()) {
    module.save(archive);  // as every CPU run always did
  } else {
    save_on_cpu(module, archive);
  }
}

/// Saves an optimiser with its Adam moments on the CPU: moved there for
/// the write and back afterwards (the state map's keys stay as they are).
void save_optimizer(torch::optim::Optimizer& optimizer,
                    torch::serialize::OutputArchive& archive) {
  std::vector<std::pair<torch::optim::AdamParamState*, torch::Device>> moved;
  for (auto& item : optimizer.state()) {
    auto* adam = dynamic_cast<torch::optim::AdamParamState*>(item.second.get());
    if (adam == nullptr || !adam->exp_avg().defined() ||
        adam->exp_avg().device().is_cpu()) {
      continue;
    }
    moved.emplace_back(adam, adam->exp_avg().device());
    adam->exp_avg(adam->exp_avg().cpu());
    adam->exp_avg_sq(adam->exp_avg_sq().cpu());
    if (adam->max_exp_avg_sq().defined()) {
      adam->max_exp_avg_sq(adam->max_exp_avg_sq().cpu());
    }
  }
  auto move_back = [&] {
    for (auto& [adam, device] : moved) {
      adam->exp_avg(adam->exp_avg().to(device));
      adam->exp_avg_sq(adam->exp_avg_sq().to(device));
      if (adam->max_exp_avg_sq().defined()) {
        adam->max_exp_avg_sq(adam->max_exp_avg_sq().to(device));
      }
    }
  };
  try {
    optimizer.save(archive);
  } catch (...) {
    move_back();
    throw;
  }
  move_back();
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
  if (!header.config.decoder_script.empty()) {
    // The user's TorchScript decoder travels with the run: eval, infer and
    // resume rebuild it from here, wherever the checkpoint is copied.
    const std::string& bytes = header.config.decoder_script;
    archive.write(
        "decoder_script",
        torch::from_blob(const_cast<char*>(bytes.data()),
                         {static_cast<int64_t>(bytes.size())}, torch::kUInt8)
            .clone());
  }
  if (header.step > 0) {
    const EpochProgress& p = header.progress;
    archive.write("epoch_rng", p.epoch_rng);
    archive.write("epoch_sums", sums_tensor(p.sums));
    archive.write("epoch_examples", torch::tensor(p.examples));
    archive.write("epoch_seconds", torch::tensor(p.seconds, torch::kDouble));
    archive.write("epoch_skipped", torch::tensor(p.skipped_nonfinite));
  }
  archive.write("rng", rng_state());
  const torch::Device device = device_of(model);
  if (device.is_cuda()) {
    // The GPU's generator draws the samples of a GPU run; a resume on the
    // same kind of device continues its sequence.
    archive.write("device_rng", device_rng_state(device));
  }
  write_sub(archive, "model", [&](auto& a) { save_module(model, a); });
  write_sub(archive, "procedure", [&](auto& a) { save_module(procedure, a); });
  write_sub(archive, "model_optimizer",
            [&](auto& a) { save_optimizer(model_optimizer, a); });
  write_sub(archive, "procedure_optimizer",
            [&](auto& a) { save_optimizer(procedure_optimizer, a); });
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
  reading(message("checkpoint '", path, "' lacks iai's header: "), [&] {
    const int64_t version = read_int(archive, "format_version");
    IAI_CHECK(version <= kFormatVersion, "checkpoint '", path,
              "' was written by a newer iai (format version ", version,
              "); this iai reads versions up to ", kFormatVersion);
    c10::IValue config;
    archive.read("config", config);
    try {
      header.config =
          config_from_json(nlohmann::json::parse(config.toStringRef()));
    } catch (const nlohmann::json::exception& e) {
      throw Error(message("checkpoint '", path,
                          "' holds an unreadable config: ", e.what()));
    }
    header.epoch = read_int(archive, "epoch");
    header.data_dim = read_int(archive, "data_dim");
    if (version >= 2) {
      header.step = read_int(archive, "step");
      c10::IValue last;
      archive.read("last_metrics", last);
      header.last_metrics = last.toStringRef();
      // Added within version 2: absent from its earliest checkpoints.
      header.skipped_nonfinite =
          read_optional_int(archive, "skipped_nonfinite");
    }
    torch::Tensor script;
    if (archive.try_read("decoder_script", script)) {
      IAI_CHECK(script.scalar_type() == torch::kUInt8 && script.dim() == 1,
                "checkpoint '", path, "' holds a malformed decoder");
      script = script.contiguous();
      header.config.decoder_script.assign(
          static_cast<const char*>(script.data_ptr()), script.numel());
    }
    IAI_CHECK(
        header.config.decoder.empty() || !header.config.decoder_script.empty(),
        "checkpoint '", path, "' names the decoder '", header.config.decoder,
        "' but does not hold it");
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
  });
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
    throw Error(message(
        why, "; the previous checkpoint is unreadable too: ", e.what()));
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
  // Every tensor straight onto the device the modules were built on.
  const torch::Device device = device_of(model);
  torch::serialize::InputArchive archive;
  open(archive, path, device);
  reading(message("checkpoint '", path,
                  "' does not match the model its config describes: "),
          [&] {
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
              set_rng_state(state.cpu());
              torch::Tensor device_state;
              if (device.is_cuda() &&
                  archive.try_read("device_rng", device_state)) {
                set_device_rng_state(device, device_state);
              }
            }
          });
}

}  // namespace iai::train
