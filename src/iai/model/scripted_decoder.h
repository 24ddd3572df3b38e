#pragma once
// A decoder written in PyTorch and saved as TorchScript (torch.jit.script or
// torch.jit.trace, then .save): level 1's network of a latent Gaussian model
// in place of the paper's MLP. Its forward maps what level 1's network reads
// (z_1, (N, Z_1); with deterministic units or concatenated latents, what
// latent_gaussian_model.h says) to the likelihood's parameter (N, D): logits
// for Bernoulli and multinomial, the mean for Gaussian; or to two tensors
// (mean, log-variance) for a Gaussian whose variance it computes per example.
//
// Its parameters and buffers are registered as this module's (the same
// tensors, named as in the script: "decoder.net.0.weight"), so the decoder's
// optimiser trains them, checkpoints save them, device moves move them and
// data-parallel runs all-reduce their gradients like any other.
//
// Checked when loaded, on two rows of zeros: a file that is not TorchScript,
// a forward that takes other inputs than one tensor, an output of the wrong
// kind, shape or dtype each raise iai::Error naming the file and both
// shapes. Every call checks its output's shape, dtype and device again (a
// comparison of sizes, nothing more), so a module that computes somewhere
// else than its input fails on the first batch with one message.

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace torch::jit {
struct Module;
}

namespace iai::model {

class ScriptedDecoderImpl : public torch::nn::Module {
 public:
  /// `script` holds the bytes of a TorchScript file; `source` names it in
  /// messages (the path it came from). `in` is the width of the input,
  /// `data_dim` D.
  ScriptedDecoderImpl(const std::string& script, std::string source, int64_t in,
                      int64_t data_dim);

  /// The module's output(s) for z (N, in): one (N, D) tensor, or two.
  std::vector<torch::Tensor> forward(const torch::Tensor& z);

  /// 1, or 2 for a (mean, log-variance) decoder.
  int64_t outputs() const { return outputs_; }
  const std::string& source() const { return source_; }

  /// Also switches the script's modules (dropout, batch norm).
  void train(bool on = true) override;

 private:
  std::shared_ptr<torch::jit::Module> script_;
  std::string source_;
  int64_t in_, data_dim_, outputs_ = 1;
};
TORCH_MODULE(ScriptedDecoder);

/// The bytes of the file at `path`; iai::Error naming it when unreadable.
std::string read_decoder_file(const std::string& path);

}  // namespace iai::model
