"""The Python package against the CLI: the same numbers for the same run,
seed and examples; each bad input an iai.Error that the process survives;
Ctrl-C during iai.train; tensors shared where the docs say so."""

import csv
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import iai

from conftest import TINY_MODEL, run_cli

TIMING = {"seconds", "examples_per_second", "test_seconds"}


def read_infer_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def g(value):
    """A float as `iai infer`'s CSV prints it (C++ ostream: %g, 6 digits)."""
    return f"{value:g}"


def test_infer_gives_the_cli_numbers(words, scratch):
    out = os.path.join(scratch, "words-infer.csv")
    run_cli("infer", "--checkpoint", words["run"], "--out", out, "--seed",
            "3", "--threads", "1")
    rows = read_infer_csv(out)
    run = iai.load_run(words["run"])
    mu, logvar, elbo = run.infer(words["x"], seed=3)
    assert elbo.shape == (len(rows), 3) and mu.shape == (len(rows), 4)
    for n, row in enumerate(rows):
        for t in range(3):
            assert g(elbo[n, t].item()) == row[f"elbo_t{t + 1}"]
        for i in range(4):
            assert g(mu[n, i].item()) == row[f"mu_{i}"]
            assert g(logvar[n, i].item()) == row[f"logvar_{i}"]


def test_log_px_and_evaluate_give_the_cli_numbers(words, scratch):
    cli_out = os.path.join(scratch, "words-eval-cli")
    run_cli("eval", "--checkpoint", words["run"], "--iw-samples", "40",
            "--seed", "3", "--threads", "1", "--grid-examples", "0",
            "--out", cli_out)
    with open(os.path.join(cli_out, "eval.json")) as f:
        expected = json.load(f)
    run = iai.load_run(words["run"])
    log_px = run.log_px(words["x"], k=40, seed=3)
    assert log_px.shape == (len(words["x"]),)
    assert log_px.double().mean().item() == pytest.approx(
        expected["log_px"], rel=1e-6)
    # The same batches (250) and seed: the same ELBO per iteration as an
    # evaluation that draws no importance samples between its batches.
    no_iw = os.path.join(scratch, "words-eval-cli-no-iw")
    run_cli("eval", "--checkpoint", words["run"], "--iw-samples", "0",
            "--seed", "3", "--threads", "1", "--grid-examples", "0",
            "--out", no_iw)
    with open(os.path.join(no_iw, "eval.json")) as f:
        rows = json.load(f)["elbo_per_iteration"]
    elbo = run.infer(words["x"], seed=3, batch_size=250).elbo
    for t, row in enumerate(rows):
        assert elbo[:, t].double().mean().item() == pytest.approx(
            row["elbo"], rel=1e-6)
    # iai.evaluate is `iai eval`: the same eval.json, bar the time taken.
    py_out = os.path.join(scratch, "words-eval-py")
    result = iai.evaluate(run, 40, seed=3, threads=1, grid_examples=0,
                          out=py_out)
    for d in (result, expected):
        d.pop("seconds")
    assert result == expected


def read_metrics(folder):
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items()
                 if k not in TIMING} for line in f]


def config_dict(flags):
    """CLI flags as iai.train's dict: --batch-size 8 -> {"batch-size": 8}."""
    keys = {}
    for flag, value in zip(flags[::2], flags[1::2]):
        for kind in (int, float):
            try:
                value = kind(value)
                break
            except ValueError:
                pass
        keys[flag[2:]] = value
    return keys


def test_elbo_is_the_last_iteration_of_infer(words):
    run = iai.load_run(words["run"])
    x = words["x"][:10]
    elbo = run.elbo(x, samples=4, seed=2)
    assert torch.equal(elbo, run.infer(x, samples=4, seed=2).elbo[:, -1])
    assert not torch.equal(elbo, run.infer(x, samples=4, seed=2).elbo[:, 0])


def test_train_gives_the_cli_metrics(words, scratch):
    keys = config_dict(TINY_MODEL)
    keys.update({"dataset": "rcv1", "data_dir": words["data"], "epochs": 2})
    out = os.path.join(scratch, "words-run-py")
    run = iai.train(keys, out)
    assert isinstance(run, iai.Run) and run.epochs == 2
    assert run.folder == out
    assert read_metrics(out) == read_metrics(words["run"])
    cli_config = iai.load_run(words["run"]).config
    assert {**run.config, "out": ""} == {**cli_config, "out": ""}


def test_train_reads_a_toml_file(words, scratch):
    toml = os.path.join(scratch, "words.toml")
    keys = config_dict(TINY_MODEL)
    with open(toml, "w") as f:
        f.write('dataset = "rcv1"\n')
        f.write(f'data-dir = "{words["data"]}"\n')
        f.write("epochs = 1\n")
        f.writelines(f"{k} = {v!r}\n" for k, v in keys.items())
    run = iai.train(toml, os.path.join(scratch, "words-run-toml"))
    assert read_metrics(run.folder) == read_metrics(words["run"])[:1]


@pytest.fixture
def image_run(images):
    return iai.load_run(images["run"])


def binary(n, d=64):
    torch.manual_seed(0)
    return torch.bernoulli(torch.full((n, d), 0.4))


@pytest.mark.parametrize("make_x, message", [
    (lambda: binary(3, 65), r"x must be \(N, 64\): one example per row; "
                            r"got shape \[3, 65\]"),
    (lambda: binary(3).view(3, 8, 8),
     r"got shape \[3, 8, 8\] \(flatten each row"),
    (lambda: binary(3).to(torch.uint8), r"x must be float32, the model's "
                                        r"dtype, got Byte"),
    (lambda: binary(3).double(), r"x must be float32.*got Double"),
    (lambda: binary(0), r"x holds no rows"),
    (lambda: binary(3).index_put_((torch.tensor([1]), torch.tensor([5])),
                                  torch.tensor(float("nan"))),
     r"x holds NaN or infinite values \(in 1 of its 3 rows, the first row "
     r"1\)"),
    (lambda: binary(3) * 2, r"x holds values in \[0, 2\], outside \[0, 1\], "
                            r"the support of this run's Bernoulli"),
])
def test_bad_examples_raise_iai_error(image_run, make_x, message):
    with pytest.raises(iai.Error, match=message):
        image_run.infer(make_x())
    # The process lives on and the run still works.
    assert torch.isfinite(image_run.infer(binary(2)).elbo).all()


def test_negative_word_counts_raise(words):
    run = iai.load_run(words["run"])
    x = words["x"].clone()
    x[2, 3] = -1
    with pytest.raises(iai.Error, match=r"negative values \(as low as -1\)"):
        run.log_px(x, k=5)


def test_iai_error_is_a_runtime_error():
    assert issubclass(iai.Error, RuntimeError)


def test_missing_and_corrupt_runs_raise(image_run, images, scratch):
    missing = os.path.join(scratch, "no-such-run")
    with pytest.raises(iai.Error, match="no-such-run"):
        iai.load_run(missing)
    corrupt = os.path.join(scratch, "corrupt-run")
    shutil.copytree(images["run"], corrupt)
    for name in os.listdir(corrupt):
        if name.endswith(".pt"):
            with open(os.path.join(corrupt, name), "wb") as f:
                f.write(b"not a checkpoint")
    with pytest.raises(iai.Error, match="corrupt-run"):
        iai.load_run(corrupt)


def test_bad_latents_and_sample_counts_raise(image_run):
    with pytest.raises(iai.Error, match=r"z must be \(N, 4\)"):
        image_run.decode(torch.zeros(2, 5))
    with pytest.raises(iai.Error, match="number of samples must be positive"):
        image_run.sample(0)
    with pytest.raises(iai.Error, match="iterations must be a whole number"):
        image_run.infer(binary(2), iterations=0)


def test_decode_and_sample_give_probabilities(image_run):
    p = image_run.decode(torch.zeros(3, 4))
    assert p.shape == (3, 64) and 0 <= p.min() and p.max() <= 1
    torch.manual_seed(1)
    first = image_run.sample(5)
    torch.manual_seed(1)
    again = image_run.sample(5)
    assert first.x.shape == (5, 64) and first.z.shape == (5, 4)
    assert torch.equal(first.z, again.z)  # drawn from torch's generator
    assert torch.allclose(image_run.decode(first.z), first.x)


def test_bad_train_configs_raise(images, scratch):
    out = os.path.join(scratch, "never")
    with pytest.raises(iai.Error, match=r"config: unknown key 'batchsize' "
                                        r"\(keys are the flags of 'iai "
                                        r"train'"):
        iai.train({"batchsize": 8}, out)
    with pytest.raises(iai.Error, match=r"config 'epochs' must be a whole "
                                        r"number, got \"2\""):
        iai.train({"epochs": "2"}, out)
    with pytest.raises(iai.Error, match="--batch-size must be"):
        iai.train({"batch-size": 0, "data-dir": images["data"]}, out)
    with pytest.raises(iai.Error, match="cannot read config file"):
        iai.train(os.path.join(scratch, "missing.toml"), out)
    with pytest.raises(iai.Error, match="config must be a dict"):
        iai.train(["epochs", 1], out)
    with pytest.raises(iai.Error, match="decoder must be a "
                                        "torch.jit.ScriptModule"):
        iai.train({}, out, decoder=object())
    with pytest.raises(iai.Error, match="cannot read the decoder"):
        iai.train({"data-dir": images["data"]}, out,
                  decoder=os.path.join(scratch, "missing.pt"))
    assert not os.path.exists(os.path.join(out, "checkpoint.pt"))


def test_parameters_share_storage_with_the_run(image_run):
    params = image_run.parameters()
    assert params and all(isinstance(p, torch.Tensor) for p in
                          params.values())
    # The same storage on every call: no copy.
    again = image_run.parameters()
    assert all(params[k].data_ptr() == again[k].data_ptr() for k in params)
    z = torch.randn(4, 4)
    assert not torch.allclose(image_run.decode(z)[0], image_run.decode(z)[1])
    # Zeroing the output layer in Python changes what the C++ model decodes:
    # every z then gives the same probabilities.
    head = [k for k in params if k.startswith("model.head.")]
    with torch.no_grad():
        for k in head:
            if k.endswith("weight"):
                params[k].zero_()
    p = image_run.decode(z)
    assert torch.allclose(p[0], p[1]) and torch.allclose(p[0], p[3])


def test_the_api_has_signatures_docs_and_a_stub():
    sig = inspect.signature(iai.Run.infer)
    assert list(sig.parameters)[:4] == ["self", "x", "iterations", "samples"]
    for f in (iai.load_run, iai.train, iai.evaluate, iai.Run.infer,
              iai.Run.log_px, iai.Run.elbo, iai.Run.decode, iai.Run.sample):
        assert f.__doc__ and len(f.__doc__) > 40, f
    stub = os.path.join(os.path.dirname(iai.__file__), "__init__.pyi")
    assert os.path.exists(stub)


INTERRUPTED = textwrap.dedent("""
    import os, signal, sys
    import iai
    keys, out = {keys!r}, {out!r}
    try:
        iai.train(keys, out)
    except KeyboardInterrupt as e:
        assert os.path.exists(os.path.join(out, "checkpoint.pt"))
        print("KeyboardInterrupt:", e, flush=True)
    else:
        sys.exit("trained to the end without an interrupt")
    # Python's own handler is back: the next Ctrl-C interrupts Python.
    try:
        signal.raise_signal(signal.SIGINT)
        sys.exit("a SIGINT after training raised no KeyboardInterrupt")
    except KeyboardInterrupt:
        print("Python's handler is back", flush=True)
""")


def test_ctrl_c_raises_keyboard_interrupt_after_the_checkpoint(words, scratch):
    out = os.path.join(scratch, "words-run-interrupted")
    keys = config_dict(TINY_MODEL)
    keys.update({"dataset": "rcv1", "data-dir": words["data"],
                 "epochs": 100000, "checkpoint-every": 1})
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED.format(keys=keys, out=out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Interrupt once training has written its first checkpoint.
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(out, "checkpoint.pt")):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 0, stderr
    assert "KeyboardInterrupt: interrupted by SIGINT" in stdout
    assert "--resume" in stdout
    assert "Python's handler is back" in stdout


def test_hierarchical_samples_and_point_estimates(images, scratch):
    common = ["--data-dir", images["data"], "--epochs", "1", *TINY_MODEL]
    hierarchical = os.path.join(scratch, "images-hierarchical")
    run_cli("train", *common, "--model", "hierarchical", "--upper-latent",
            "3", "--upper-hidden", "8", "--out", hierarchical)
    run = iai.load_run(hierarchical)
    assert run.latent_dim == 4 + 3
    torch.manual_seed(4)
    s = run.sample(6)
    assert s.z.shape == (6, 7) and s.x.shape == (6, 64)
    assert torch.isfinite(s.z).all() and s.z[:, :4].std() > 0
    assert torch.allclose(run.decode(s.z), s.x)

    point = os.path.join(scratch, "images-point")
    run_cli("train", *common, "--posterior", "point", "--out", point)
    run = iai.load_run(point)
    mu, logvar, elbo = run.infer(binary(3))
    assert logvar is None and mu.shape == (3, 4) and elbo.shape == (3, 3)
    with pytest.raises(iai.Error, match="point estimates q = delta\\(mu\\)"):
        run.log_px(binary(3), k=10)


class ConvDecoder(torch.nn.Module):
    """z (N, 4) -> an 8 x 8 image's logits (N, 64) through two transposed
    convolutions: a decoder no MLP option describes."""

    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(4, 8 * 2 * 2)
        self.up = torch.nn.Sequential(
            torch.nn.ELU(), torch.nn.ConvTranspose2d(8, 4, 4, 2, 1),
            torch.nn.ELU(), torch.nn.ConvTranspose2d(4, 1, 4, 2, 1))

    def forward(self, z):
        h = self.dense(z).view(-1, 8, 2, 2)
        return self.up(h).reshape(-1, 64)


def test_train_takes_a_scripted_decoder_and_the_run_carries_it(images,
                                                               scratch):
    torch.manual_seed(0)
    module = torch.jit.script(ConvDecoder())
    keys = config_dict(TINY_MODEL)
    keys.update({"data_dir": images["data"], "epochs": 2})
    out = os.path.join(scratch, "conv-run")
    run = iai.train(keys, out, decoder=module)
    assert run.config["decoder"].endswith("ConvDecoder.pt")
    names = run.parameters().keys()
    assert "model.decoder.dense.weight" in names
    assert "model.decoder.up.1.weight" in names
    assert not any(n.startswith("model.body.") for n in names)
    # The run decodes with the module's weights as trained, with no file but
    # the checkpoint: the module given, with the run's parameters, agrees.
    trained = {k[len("model.decoder."):]: v
               for k, v in run.parameters().items()
               if k.startswith("model.decoder.")}
    reference = ConvDecoder()
    reference.load_state_dict(trained)
    z = torch.randn(5, 4)
    with torch.no_grad():
        assert torch.allclose(run.decode(z), torch.sigmoid(reference(z)),
                              atol=1e-6)
    # Training moved them.
    assert not torch.allclose(trained["dense.weight"],
                              module.dense.weight.detach())
    metrics = read_metrics(out)
    assert len(metrics) == 2
