"""A convolutional MNIST decoder in PyTorch, saved as TorchScript for
`iai train --decoder`: z (N, Z) -> a dense layer -> 32 maps of 7 x 7 -> two
transposed convolutions (7 -> 14 -> 28) -> the 784 Bernoulli logits.

    /usr/bin/python3 examples/conv-decoder/conv_decoder.py OUT.pt [--latent 64]
"""
import argparse

import torch


class ConvDecoder(torch.nn.Module):
    def __init__(self, latent: int = 64, channels: int = 32):
        super().__init__()
        self.channels = channels
        self.dense = torch.nn.Linear(latent, channels * 7 * 7)
        self.up = torch.nn.Sequential(
            torch.nn.ELU(),
            torch.nn.ConvTranspose2d(channels, channels // 2, 4, stride=2, padding=1),
            torch.nn.ELU(),
            torch.nn.ConvTranspose2d(channels // 2, 1, 4, stride=2, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense(z).view(-1, self.channels, 7, 7)
        return self.up(h).reshape(-1, 784)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="where to save the TorchScript module")
    parser.add_argument("--latent", type=int, default=64, help="Z (default 64)")
    parser.add_argument("--channels", type=int, default=32,
                        help="feature maps after the dense layer (default 32)")
    parser.add_argument("--seed", type=int, default=1, help="initial weights' seed")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    module = torch.jit.script(ConvDecoder(args.latent, args.channels))
    module.save(args.out)
    params = sum(p.numel() for p in module.parameters())
    print(f"saved {args.out}: {params} parameters, z (N, {args.latent}) -> (N, 784)")


if __name__ == "__main__":
    main()
