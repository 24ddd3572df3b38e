#pragma once
// TorchScript decoders for the tests, written by LibTorch alone (no Python).

#include <torch/csrc/jit/api/module.h>

#include <string>

namespace iai::testing {

/// z (N, Z) -> dense -> 4 maps of 7 x 7 -> a stride-4 transposed
/// convolution -> a 28 x 28 image's logits (N, 784).
inline void write_conv_decoder(const std::string& path, int64_t in) {
  torch::manual_seed(2);
  torch::jit::Module m("ConvDecoder");
  m.register_parameter("w1", 0.3 * torch::randn({4 * 7 * 7, in}), false);
  m.register_parameter("b1", torch::zeros({4 * 7 * 7}), false);
  m.register_parameter("w2", 0.3 * torch::randn({4, 1, 4, 4}), false);
  m.register_parameter("b2", torch::zeros({1}), false);
  m.define(R"(
def forward(self, z):
    h = torch.elu(torch.addmm(self.b1, z, self.w1.t())).view(-1, 4, 7, 7)
    return torch.conv_transpose2d(h, self.w2, self.b2, 4).reshape(-1, 784)
)");
  m.save(path);
}

}  // namespace iai::testing
