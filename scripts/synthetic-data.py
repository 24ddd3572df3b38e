#!/usr/bin/env python3
"""Synthetic data sets in the real file formats, for speed checks where the
real data are not at hand (scripts/gpu-check.sh): smooth random images
(low-resolution noise upsampled, so a model has structure to learn), with
the real sets' sizes unless told otherwise. Standard library only.

  python3 scripts/synthetic-data.py mnist DIR [--train N] [--test N]
      DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte (60000 / 10000)
  python3 scripts/synthetic-data.py cifar10 DIR
      DIR/data_batch_{1..5}.bin, DIR/test_batch.bin (50000 / 10000: iai's
      loader checks that each batch file holds its 10000 records)
"""

import argparse
import os
import random
import struct


def smooth_image(rng, side, channels):
    """side x side x channels bytes: a 4x4 grid of random levels, bilinearly
    upsampled."""
    grid = [[[rng.random() for _ in range(channels)] for _ in range(4)]
            for _ in range(4)]
    out = bytearray(side * side * channels)
    scale = 3.0 / (side - 1)
    planes = []
    for c in range(channels):
        plane = bytearray(side * side)
        for r in range(side):
            gy = r * scale
            y0 = min(int(gy), 2)
            fy = gy - y0
            for col in range(side):
                gx = col * scale
                x0 = min(int(gx), 2)
                fx = gx - x0
                v = ((1 - fy) * ((1 - fx) * grid[y0][x0][c] + fx * grid[y0][x0 + 1][c]) +
                     fy * ((1 - fx) * grid[y0 + 1][x0][c] + fx * grid[y0 + 1][x0 + 1][c]))
                plane[r * side + col] = int(255 * v)
        planes.append(plane)
    for c, plane in enumerate(planes):
        out[c * side * side:(c + 1) * side * side] = plane
    return bytes(out)


def images(rng, n, side, channels, distinct=200):
    """n images drawn from `distinct` prototypes (fast in pure Python)."""
    protos = [smooth_image(rng, side, channels) for _ in range(distinct)]
    return [protos[rng.randrange(distinct)] for _ in range(n)]


def write_mnist(folder, n_train, n_test, rng):
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, 28, 28))
            f.write(b"".join(images(rng, n, 28, 1)))
        with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(struct.pack(">II", 0x801, n))
            f.write(bytes(rng.randrange(10) for _ in range(n)))


def write_cifar10(folder, rng):
    def batch(path, n=10000):
        with open(path, "wb") as f:
            f.write(b"".join(bytes([rng.randrange(10)]) + img
                             for img in images(rng, n, 32, 3)))
    for i in range(1, 6):
        batch(os.path.join(folder, f"data_batch_{i}.bin"))
    batch(os.path.join(folder, "test_batch.bin"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=["mnist", "cifar10"])
    p.add_argument("folder")
    p.add_argument("--train", type=int, help="mnist: training images (60000)")
    p.add_argument("--test", type=int, default=10000,
                   help="mnist: test images (10000)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.folder, exist_ok=True)
    rng = random.Random(a.seed)
    if a.kind == "mnist":
        write_mnist(a.folder, a.train or 60000, a.test, rng)
    else:
        write_cifar10(a.folder, rng)


if __name__ == "__main__":
    main()
