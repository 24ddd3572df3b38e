"""Fixtures of the Python package's tests: tiny data sets written here, runs
trained by the `iai` CLI (IAI_CLI, set by ctest), scratch space under
IAI_TEST_TMP. Skipped as a whole where torch or the package is missing."""

import os
import random
import shutil
import struct
import subprocess

import pytest

torch = pytest.importorskip("torch")
iai = pytest.importorskip("iai")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def cli_path():
    return os.environ.get("IAI_CLI", os.path.join(ROOT, "build", "iai"))


def run_cli(*args):
    """Runs `iai ARGS` (one thread); returns its stdout; fails on an error."""
    r = subprocess.run([cli_path(), *map(str, args)], capture_output=True,
                       text=True)
    assert r.returncode == 0, f"iai {' '.join(map(str, args))}:\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")  # one test module: built once
def scratch():
    root = os.environ.get("IAI_TEST_TMP",
                          os.path.join(ROOT, "build", "tests", "tmp-python"))
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    torch.set_num_threads(1)  # as the CLI runs below (--threads 1)
    return root


# --- word counts: no binarisation, so the data the CLI reads are the data
# --- given to Python, draw for draw.

VOCAB = 30


def word_documents(n, rng):
    """n documents of two topics: (topic, {word id (1-based): count})."""
    docs = []
    for _ in range(n):
        topic = rng.randrange(2)
        words = {}
        for w in range(15):
            count = rng.randrange(4)
            if count:
                words[topic * 15 + w + 1] = count
        if not words:
            words[topic * 15 + 1] = 1
        docs.append((topic, words))
    return docs


def write_word_counts(folder):
    rng = random.Random(7)
    os.makedirs(folder)
    with open(os.path.join(folder, "vocab.new"), "w") as f:
        f.writelines(f"word{v}\n" for v in range(VOCAB))
    splits = {}
    # 300 test documents: more than one batch of `iai infer` (256) and of
    # `iai eval` (250), so the batching must match too.
    for name, n in (("train", 64), ("test", 300)):
        docs = word_documents(n, rng)
        splits[name] = docs
        with open(os.path.join(folder, f"{name}.feat"), "w") as f:
            for topic, words in docs:
                f.write(str(topic) + "".join(f" {i}:{c}" for i, c in
                                             words.items()) + "\n")
    return splits


def dense(docs):
    """(N, VOCAB) float32 counts, as the library densifies them."""
    x = torch.zeros(len(docs), VOCAB)
    for row, (_, words) in enumerate(docs):
        for i, c in words.items():
            x[row, i - 1] = c
    return x


TINY_MODEL = ["--latent", "4", "--encoder-hidden", "16", "--decoder-hidden",
              "16", "--batch-size", "8", "--threads", "1", "--seed", "5",
              "--lr", "1e-3", "--iterations", "3", "--samples", "2"]


@pytest.fixture(scope="module")  # one test module: built once
def words(scratch):
    """A CLI-trained iterative run on word counts, and its test counts."""
    data = os.path.join(scratch, "words")
    splits = write_word_counts(data)
    run = os.path.join(scratch, "words-run")
    run_cli("train", "--dataset", "rcv1", "--data-dir", data, "--epochs", "2",
            *TINY_MODEL, "--out", run)
    return {"data": data, "run": run, "x": dense(splits["test"])}


# --- binary images (Bernoulli likelihood)

def write_tiny_mnist(folder, n_train=48, n_test=16, side=8):
    rng = random.Random(3)
    os.makedirs(folder)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte"),
                  "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, side, side))
            f.write(bytes(rng.choice((0, 128, 255)) for _ in
                          range(n * side * side)))
        with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"),
                  "wb") as f:
            f.write(struct.pack(">II", 0x801, n))
            f.write(bytes(rng.randrange(10) for _ in range(n)))


@pytest.fixture(scope="module")  # one test module: built once
def images(scratch):
    """A CLI-trained iterative run on 8x8 binary images."""
    data = os.path.join(scratch, "images")
    write_tiny_mnist(data)
    run = os.path.join(scratch, "images-run")
    run_cli("train", "--data-dir", data, "--epochs", "1", *TINY_MODEL,
            "--out", run)
    return {"data": data, "run": run, "dim": 64}
