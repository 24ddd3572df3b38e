"""iai: iterative amortized inference (Marino, Yue & Mandt, ICML 2018) from
Python, over the same C++ library as the ``iai`` command line.

    import torch, iai
    run = iai.load_run("runs/mnist-iterative")        # a folder `iai train` wrote
    mu, logvar, elbo = run.infer(x)                   # x: (B, D) float32
    iai.train({"epochs": 1, "max-train": 6400}, out="runs/small")

Tensors go in and come out as torch tensors, on the run's device, without
copies where their dtype and layout allow (see each function). Every error a
caller can cause is an ``iai.Error`` (a ``RuntimeError``) with the message the
CLI prints. The package holds bindings only: each call runs what the matching
``iai`` command runs.
"""

import contextlib
import json
import tempfile
import os
from collections import namedtuple

import torch  # noqa: F401  (loads LibTorch before the extension)

from . import _iai

__all__ = ["Error", "Run", "Inference", "Samples", "load_run", "train",
           "evaluate", "read_idx"]

Error = _iai.Error
Error.__doc__ = ("An error the caller can fix (a bad tensor, file or config "
                 "key), with the message the iai command line prints. A "
                 "RuntimeError.")
Error.__module__ = "iai"

Inference = namedtuple("Inference", ["mu", "logvar", "elbo"])
Inference.__doc__ = """The outcome of ``Run.infer``.

mu, logvar: (B, Z) float32, the final lambda: q(z | x) = N(mu, exp(logvar)).
    logvar is None for a run that infers point estimates.
elbo: (B, T) float32, each example's ELBO (nats) after iterations 1..T.
All three are fresh tensors the library made, handed over without a copy,
on the CPU.
"""

Samples = namedtuple("Samples", ["x", "z"])
Samples.__doc__ = """The outcome of ``Run.sample``.

x: (n, D) float32, E[x | z]: Bernoulli probabilities, the Gaussian mean or
    word probabilities.
z: (n, Z) float32, the draws z ~ p(z) (every level side by side).
"""


def _steps(value, name):
    """None (the run's own) or a positive whole number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Error(f"{name} must be a whole number >= 1 or None, got "
                    f"{value!r}")
    return value


class Run:
    """A trained run, loaded from its folder (or checkpoint file) by
    ``iai.load_run``: its generative model and inference procedure in
    evaluation mode, on one device."""

    def __init__(self, handle):
        self._run = handle

    def __repr__(self):
        c = self.config
        return (f"iai.Run({self.path!r}, {c['inference']} inference, "
                f"{c['model']} model, {self.epochs} epochs, on {self.device})")

    @property
    def path(self):
        """The checkpoint file the run was loaded from."""
        return self._run.path

    @property
    def folder(self):
        """The run folder (config.json, metrics.jsonl, checkpoint.pt)."""
        return os.path.dirname(self._run.path)

    @property
    def config(self):
        """The run's resolved training config, as a dict (config.json's keys:
        field names, e.g. ``batch_size``)."""
        return json.loads(self._run.config_json)

    @property
    def epochs(self):
        """Epochs trained."""
        return self._run.epochs

    @property
    def device(self):
        """Where the run computes, e.g. ``"cpu"`` or ``"cuda:0"``."""
        return self._run.device

    @property
    def data_dim(self):
        """D, the width of one example."""
        return self._run.data_dim

    @property
    def latent_dim(self):
        """Z, the width of lambda's mu (every level side by side)."""
        return self._run.latent_dim

    def infer(self, x, iterations=None, samples=None, *, seed=None,
              batch_size=256):
        """Infers lambda for each row of x with the run's inference
        procedure, as ``iai infer`` does.

        x: (B, D) float32 tensor of model inputs, used as given: binary
            images for a Bernoulli run (``torch.bernoulli(pixels / 255)``),
            values in [0, 1] for a Gaussian one, word counts for a
            multinomial one. On the run's device it is read in place (its
            batches are views of it); elsewhere it is copied there.
        iterations: T, inference iterations (None: the run's).
        samples: S, samples per ELBO estimate (None: the run's).
        seed: seeds torch's generator first, as ``iai infer --seed`` does
            (its default is 1); None draws on from the generator's state.
        batch_size: examples per batch (``iai infer``'s: 256); the samples
            drawn depend on it.

        Returns ``Inference(mu, logvar, elbo)``: mu, logvar (B, Z) and the
        ELBO after each iteration (B, T). Raises ``iai.Error`` for a tensor
        the model cannot read (shape, dtype, NaN, values outside the
        likelihood's support).
        """
        mu, logvar, elbo = self._run.infer(
            x, _steps(iterations, "iterations"), _steps(samples, "samples"),
            seed, batch_size)
        return Inference(mu, logvar, elbo)

    def elbo(self, x, samples=1, *, iterations=None, seed=None,
             batch_size=256):
        """Each example's ELBO (B,) after the run's T iterations (or
        ``iterations``), estimated with ``samples`` samples: the last column
        of ``infer(...).elbo``, a view of it (no copy)."""
        return self.infer(x, iterations, samples, seed=seed,
                          batch_size=batch_size).elbo[:, -1]

    def log_px(self, x, k=5000, *, iterations=None, samples=None, seed=None,
               batch_size=250):
        """Each example's importance-weighted log p(x) (B,), in nats, from k
        samples of the q that inference reaches, as ``iai eval
        --iw-samples k`` computes it (its batches: 250; with the same seed
        and examples its mean is eval.json's log_px). Raises ``iai.Error``
        for a run that infers point estimates."""
        return self._run.log_px(x, k, _steps(iterations, "iterations"),
                                _steps(samples, "samples"), seed, batch_size)

    def decode(self, z):
        """E[x | z] (N, D) for latents z (N, Z) float32: the decoder's mean
        (Bernoulli probabilities, Gaussian mean, word probabilities), on the
        run's device."""
        return self._run.decode(z)

    def sample(self, n):
        """n samples of the model: z ~ p(z) drawn ancestrally through the
        levels from torch's generator (seed it with ``torch.manual_seed``),
        and E[x | z]. Returns ``Samples(x, z)``."""
        x, z = self._run.sample(n)
        return Samples(x, z)

    def parameters(self):
        """The run's parameters by name (``model.*``, ``inference.*``): the
        live tensors, sharing storage with the run (an in-place change to
        one changes what the run computes)."""
        return self._run.named_parameters()


def load_run(path, device="auto"):
    """Loads a run folder (or checkpoint file) written by ``iai train`` or
    ``iai.train``: as ``iai eval --checkpoint path`` does, falling back to
    checkpoint.prev.pt (with a warning) when the newest checkpoint is
    unreadable.

    device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (a GPU when
    there is one). Raises ``iai.Error`` naming the path for a missing or
    corrupt run.
    """
    return Run(_iai.load_run(os.fspath(path), device))


def read_idx(path):
    """Reads an IDX file (MNIST's format, plain or .gz) as ``iai train``
    reads it: a uint8 tensor, e.g. (N, H, W) images. Raises ``iai.Error``
    naming the file when it is missing or not valid IDX."""
    return _iai.read_idx(os.fspath(path))


def _config_keys(config):
    """A dict of ``iai train --config`` keys from a dict or a TOML path."""
    if isinstance(config, dict):
        return config, "config"
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        try:
            import tomllib
        except ModuleNotFoundError:  # Python < 3.11
            import tomli as tomllib
        try:
            with open(path, "rb") as f:
                return tomllib.load(f), f"config file '{path}'"
        except OSError as e:
            raise Error(f"cannot read config file '{path}': "
                        f"{e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise Error(f"config file '{path}' is not valid TOML: "
                        f"{e}") from None
    raise Error("config must be a dict of iai train's keys or the path of a "
                f"TOML file, got {type(config).__name__}")


def train(config, out, decoder=None):
    """Trains a run as ``iai train`` does: the same trainer, progress line,
    run folder (config.json, metrics.jsonl, checkpoint.pt) and seed.

    config: a dict, or the path of a TOML file, of ``iai train``'s keys: its
        flags without ``--`` (``{"batch-size": 64, "epochs": 1}``; field
        names such as ``batch_size`` work too). Keys left out take the
        CLI's defaults.
    out: the run folder to create (it must not hold a run already).
    decoder: a decoder of your own in place of the paper's MLP: a
        ``torch.jit.ScriptModule`` (from ``torch.jit.script`` or
        ``torch.jit.trace``) or the path of one saved with ``.save``. It
        maps z (N, Z) to the likelihood's parameter (N, D) (or to
        (mean, log-variance) with ``"output-variance": "head"``); the
        run's checkpoints carry it. The same as the ``decoder`` key.

    Ctrl-C stops the training at the next step, writes the checkpoint and
    raises ``KeyboardInterrupt`` (its message says how to resume). Returns
    the trained ``Run``. Uses torch's threads as ``iai train --threads``
    says (0: every usable CPU).
    """
    keys, source = _config_keys(config)
    with _decoder_file(decoder) as path:
        if path is not None:
            keys = dict(keys, decoder=path)
        try:
            keys_json = json.dumps(keys)
        except (TypeError, ValueError) as e:
            raise Error(f"{source}: {e}") from None
        folder = _iai.train(keys_json, source, os.fspath(out))
    return load_run(folder, device=keys.get("device", "auto"))


@contextlib.contextmanager
def _decoder_file(decoder):
    """The path iai reads a decoder from: the one given, or a temporary
    file holding a ScriptModule (iai keeps its bytes in the checkpoints,
    so the file is not needed after the run starts)."""
    if decoder is None or isinstance(decoder, (str, os.PathLike)):
        yield None if decoder is None else os.fspath(decoder)
        return
    if not isinstance(decoder, torch.jit.ScriptModule):
        raise Error("decoder must be a torch.jit.ScriptModule (from "
                    "torch.jit.script or torch.jit.trace) or the path of "
                    f"a saved one, got {type(decoder).__name__}")
    with tempfile.TemporaryDirectory(prefix="iai-decoder-") as folder:
        name = getattr(decoder, "original_name", "") or "decoder"
        path = os.path.join(folder, f"{name}.pt")
        decoder.save(path)
        yield path


def evaluate(run, iw_samples=5000, *, max_examples=0, iterations=None,
             samples=None, data_dir=None, out=None, batch_size=250,
             grid_examples=8, seed=1, threads=None, device="auto"):
    """Evaluates a run on its test split, as ``iai eval`` does (same flags,
    same printed table): the ELBO after each inference iteration and the
    importance-weighted log p(x) with ``iw_samples`` samples (0 skips it).
    Writes eval.json and reconstructions.png into ``out`` (default: the run
    folder) and returns eval.json's content as a dict.

    run: a ``Run`` or the path of a run folder or checkpoint.
    threads: torch's threads (None: as many as torch uses now).
    """
    path = run.path if isinstance(run, Run) else os.fspath(run)
    if threads is None:
        threads = torch.get_num_threads()
    result = _iai.evaluate(
        path, iw_samples, max_examples, _steps(iterations, "iterations"),
        _steps(samples, "samples"), data_dir or "", out or "", batch_size,
        grid_examples, seed, threads, device)
    return json.loads(result)
