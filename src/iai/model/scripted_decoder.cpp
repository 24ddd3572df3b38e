#include "iai/model/scripted_decoder.h"

#include "iai/core/error.h"

#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace iai::model {
namespace {

std::string shape_of(const torch::Tensor& t) {
  std::string s = "(";
  for (int64_t d = 0; d < t.dim(); ++d) {
    s += (d ? ", " : "") + std::to_string(t.size(d));
  }
  return s + ")";
}

/// LibTorch's message without its C++ backtrace, on one line.
std::string first_line(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10 ? c10->what_without_backtrace() : e.what();
  const auto cut = text.find('\n');
  return cut == std::string::npos ? text : text.substr(0, cut);
}

/// The child module of `root` at `path` ("net.0"), made on the way: the
/// script's parameters keep their names ("decoder.net.0.weight").
torch::nn::Module& child_at(torch::nn::Module& root, const std::string& path) {
  torch::nn::Module* at = &root;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    std::shared_ptr<torch::nn::Module> next;
    for (const auto& c : at->named_children()) {
      if (c.key() == part) next = c.value();
    }
    if (!next) {
      next = at->register_module(part, std::make_shared<torch::nn::Module>());
    }
    at = next.get();
  }
  return *at;
}

std::pair<std::string, std::string> split_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

}  // namespace

std::string read_decoder_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  IAI_CHECK(in.good(), "cannot read the decoder '", path,
            "' (no such file, or not readable)");
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  IAI_CHECK(!bytes.empty(), "the decoder '", path, "' is empty");
  return bytes;
}

ScriptedDecoderImpl::ScriptedDecoderImpl(const std::string& script,
                                         std::string source, int64_t in,
                                         int64_t data_dim)
    : source_(std::move(source)), in_(in), data_dim_(data_dim) {
  std::istringstream bytes(script);
  try {
    script_ = std::make_shared<torch::jit::Module>(
        torch::jit::load(bytes, torch::Device(torch::kCPU)));
  } catch (const std::exception& e) {
    throw Error(message(
        "the decoder '", source_,
        "' is not a TorchScript module (save one "
        "with torch.jit.script(module).save(path) or torch.jit.trace): ",
        first_line(e)));
  }
  const auto method = script_->find_method("forward");
  IAI_CHECK(method.has_value(), "the decoder '", source_,
            "' has no forward method");
  // self and z: a forward with more (or fewer) inputs cannot be given z alone.
  const auto& schema = method->function().getSchema();
  IAI_CHECK(
      schema.arguments().size() == 2, "the decoder '", source_,
      "' must take one tensor z (N, ", in_, "), but its forward is ",
      schema.name(), "(",
      [&] {
        std::string args;
        for (size_t i = 1; i < schema.arguments().size(); ++i) {
          args += (i > 1 ? ", " : "") + schema.arguments()[i].name();
        }
        return args;
      }(),
      ")");

  for (const auto& p : script_->named_parameters(/*recurse=*/true)) {
    auto [path, name] = split_name(p.name);
    child_at(*this, path)
        .register_parameter(name, p.value,
                            /*requires_grad=*/true);
  }
  for (const auto& b : script_->named_buffers(/*recurse=*/true)) {
    auto [path, name] = split_name(b.name);
    child_at(*this, path).register_buffer(name, b.value);
  }

  // One probe on two rows of zeros, in evaluation mode (no batch-norm
  // statistics move), to learn the outputs and check their shapes.
  const bool was_training = script_->is_training();
  script_->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  try {
    outs = forward(torch::zeros({2, in_}));
  } catch (const Error&) {
    script_->train(was_training);
    throw;
  }
  script_->train(was_training);
  outputs_ = static_cast<int64_t>(outs.size());
}

std::vector<torch::Tensor> ScriptedDecoderImpl::forward(
    const torch::Tensor& z) {
  c10::IValue result;
  try {
    result = script_->forward({z});
  } catch (const std::exception& e) {
    throw Error(message("the decoder '", source_, "' failed on z ", shape_of(z),
                        ": ", first_line(e)));
  }
  std::vector<torch::Tensor> outs;
  if (result.isTensor()) {
    outs.push_back(result.toTensor());
  } else if (result.isTuple() && result.toTupleRef().elements().size() == 2 &&
             result.toTupleRef().elements()[0].isTensor() &&
             result.toTupleRef().elements()[1].isTensor()) {
    for (const auto& v : result.toTupleRef().elements())
      outs.push_back(v.toTensor());
  } else {
    throw Error(message("the decoder '", source_, "' returns ",
                        result.tagKind(), "; it must return one tensor (N, ",
                        data_dim_, ") or two (mean, log-variance)"));
  }
  for (const auto& out : outs) {
    IAI_CHECK(
        out.dim() == 2 && out.size(0) == z.size(0) && out.size(1) == data_dim_,
        "the decoder '", source_, "' maps z ", shape_of(z), " to ",
        shape_of(out), ", but the data need (", z.size(0), ", ", data_dim_,
        ")");
    IAI_CHECK(out.scalar_type() == z.scalar_type(), "the decoder '", source_,
              "' returns ", out.scalar_type(), " for ", z.scalar_type(),
              " z; it must compute in its input's dtype");
    IAI_CHECK(out.device() == z.device(), "the decoder '", source_,
              "' returns a tensor on ", out.device(), " for z on ", z.device(),
              "; it must compute where its input is");
  }
  return outs;
}

void ScriptedDecoderImpl::train(bool on) {
  torch::nn::Module::train(on);
  script_->train(on);
}

}  // namespace iai::model
