#!/usr/bin/python3
"""The same work as build/bench/iai_bench, written in Python PyTorch.

The reference point for iai's speed: Debian's python3-torch runs the same
LibTorch and the same OpenBLAS as iai, so the ratio measures the code around
the kernels. Written the way a careful PyTorch user would write it: fused
binary cross-entropy with logits, torch.autograd.grad for the gradient with
respect to lambda, zero_grad(set_to_none=True), no_grad where no gradient is
needed. The model is the paper's MNIST single-level one (docs/reference.md): D =
784, Z = 64, encoder highway 2x512, decoder sequential 2x512, ELU, Bernoulli
output, batch 64.

Cases (names as iai_bench's):
  step/standard/S:1/T:1    one training step of a standard encoder
  step/iterative/S:10/T:5  one training step of a gradient-encoding iterative
                           model (the paper's procedure: inputs detached,
                           encoder gradient averaged over T, decoder gradient
                           from L_T; one Adam step for each)
  infer/iterative/S:10/T:5 T inference iterations on 250 examples, no training
  iw/K:5000                importance-weighted log p(x), K = 5000, on 16
                           examples, 2048 samples per decoder call

  /usr/bin/python3 bench/pytorch_baseline.py --threads 1 [--seconds 2] [--json]
                                             [--device cuda] [--compile]

--compile runs every network through torch.compile(mode="reduce-overhead")
(Inductor kernels, CUDA graphs on a GPU): what a PyTorch 2 user would reach
for first. It needs PyTorch 2; Debian 12's python3-torch is 1.13.
"""

import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

D, Z, H, B = 784, 64, 512, 64
DEVICE = torch.device("cpu")  # --device
COMPILE = False  # --compile


def placed(module):
    """A network on DEVICE, compiled with --compile."""
    module = module.to(DEVICE)
    return torch.compile(module, mode="reduce-overhead") if COMPILE else module
INFER_B, IW_B, IW_K, IW_ROWS = 250, 16, 5000, 1024


class Highway(nn.Module):
    """h <- g * (k = 0 ? W'_0 x : h) + (1 - g) * elu(W_k h), fused as iai's."""

    def __init__(self, inp, hidden, layers=2):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(inp if k == 0 else hidden, (3 if k == 0 else 2) * hidden)
            for k in range(layers))

    def forward(self, x):
        h = x
        for k, layer in enumerate(self.layers):
            parts = layer(h).chunk(3 if k == 0 else 2, dim=1)
            gate = torch.sigmoid(parts[1])
            carry = parts[2] if k == 0 else h
            h = gate * carry + (1 - gate) * F.elu(parts[0])
        return h


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(Z, H), nn.ELU(), nn.Linear(H, H),
                                 nn.ELU(), nn.Linear(H, D))

    def forward(self, z):
        return self.net(z)  # Bernoulli logits


class StandardEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Highway(D, H)
        self.head = nn.Linear(H, 2 * Z)

    def forward(self, x):
        mu, logvar = self.head(self.body(x - 0.5)).chunk(2, dim=1)
        return mu, logvar.clamp(-15, 15)


class IterativeEncoder(nn.Module):
    """Gradient encoding (log |g|, sign g for mu and log var), lambda and
    x - 0.5 in; highway (gated) update of mu and log var out."""

    def __init__(self):
        super().__init__()
        self.body = Highway(6 * Z + D, H)
        self.head = nn.Linear(H, 4 * Z)

    def forward(self, x, mu, logvar, g_mu, g_logvar):
        inputs = torch.cat([
            torch.log(g_mu.abs() + 1e-5), torch.sign(g_mu),
            torch.log(g_logvar.abs() + 1e-5), torch.sign(g_logvar),
            mu, logvar, x - 0.5], dim=1)
        m, m_gate, v, v_gate = self.head(self.body(inputs)).chunk(4, dim=1)
        m_gate, v_gate = torch.sigmoid(m_gate), torch.sigmoid(v_gate)
        mu = m_gate * mu + (1 - m_gate) * m
        logvar = v_gate * logvar + (1 - v_gate) * v
        return mu, logvar.clamp(-15, 15)


def elbo(decoder, x, mu, logvar, samples):
    """(B) ELBO per example: S reparameterised samples, analytic KL."""
    eps = torch.randn((samples,) + mu.shape, device=mu.device)
    z = (mu + torch.exp(0.5 * logvar) * eps).reshape(-1, Z)
    logits = decoder(z).view(samples, x.shape[0], D)
    rec = -F.binary_cross_entropy_with_logits(
        logits, x.expand_as(logits), reduction="none").sum(-1).mean(0)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)
    return rec - kl


def make_step(iterative, samples, iterations):
    decoder = placed(Decoder())
    encoder = placed(IterativeEncoder() if iterative else StandardEncoder())
    opt_theta = torch.optim.Adam(decoder.parameters(), lr=2e-4)
    opt_phi = torch.optim.Adam(encoder.parameters(), lr=2e-4)
    theta = list(decoder.parameters())
    x = torch.bernoulli(torch.rand(B, D, device=DEVICE))

    def standard_step():
        opt_theta.zero_grad(set_to_none=True)
        opt_phi.zero_grad(set_to_none=True)
        mu, logvar = encoder(x)
        loss = -elbo(decoder, x, mu, logvar, samples).mean()
        loss.backward()
        opt_theta.step()
        opt_phi.step()

    def iterative_step():
        opt_theta.zero_grad(set_to_none=True)
        opt_phi.zero_grad(set_to_none=True)
        mu = torch.zeros(B, Z, device=DEVICE, requires_grad=True)
        logvar = torch.zeros(B, Z, device=DEVICE, requires_grad=True)
        g_mu, g_logvar = torch.autograd.grad(
            elbo(decoder, x, mu, logvar, samples).mean(), [mu, logvar])
        mu, logvar = mu.detach(), logvar.detach()
        for t in range(1, iterations + 1):
            new_mu, new_logvar = encoder(x, mu, logvar, g_mu, g_logvar)
            at_mu = new_mu.detach().requires_grad_()
            at_logvar = new_logvar.detach().requires_grad_()
            wrt = [at_mu, at_logvar] + (theta if t == iterations else [])
            grads = torch.autograd.grad(
                elbo(decoder, x, at_mu, at_logvar, samples).mean(), wrt)
            g_mu, g_logvar = grads[0], grads[1]
            # grad_phi(-L_t / T) through the t-th application only.
            torch.autograd.backward([new_mu, new_logvar],
                                    [-g_mu / iterations, -g_logvar / iterations])
            if t == iterations:
                for p, g in zip(theta, grads[2:]):
                    p.grad = -g
            mu, logvar = at_mu.detach(), at_logvar.detach()
        opt_theta.step()
        opt_phi.step()

    return iterative_step if iterative else standard_step


def make_infer(samples, iterations):
    decoder, encoder = placed(Decoder()), placed(IterativeEncoder())
    for p in list(decoder.parameters()) + list(encoder.parameters()):
        p.requires_grad_(False)
    x = torch.bernoulli(torch.rand(INFER_B, D, device=DEVICE))

    def infer():
        mu = torch.zeros(INFER_B, Z, device=DEVICE, requires_grad=True)
        logvar = torch.zeros(INFER_B, Z, device=DEVICE, requires_grad=True)
        for t in range(iterations + 1):
            if t > 0:
                with torch.no_grad():
                    new_mu, new_logvar = encoder(x, mu, logvar, g_mu, g_logvar)
                mu = new_mu.requires_grad_(t < iterations)
                logvar = new_logvar.requires_grad_(t < iterations)
            if t < iterations:
                # The gradient the next iteration encodes (batch-mean ELBO of
                # the training batch size).
                total = elbo(decoder, x, mu, logvar, samples).sum() / B
                g_mu, g_logvar = torch.autograd.grad(total, [mu, logvar])
            else:
                with torch.no_grad():
                    elbo(decoder, x, mu, logvar, samples)
    return infer


def make_iw():
    decoder = placed(Decoder())
    x = torch.bernoulli(torch.rand(IW_B, D, device=DEVICE))
    mu = torch.randn(IW_B, Z, device=DEVICE) * 0.5
    logvar = torch.full((IW_B, Z), -2.0, device=DEVICE)
    # iai's default_iw_rows: 1024 decoder rows a chunk on the CPU, 32768 on
    # a GPU.
    chunk = max(1, (IW_ROWS if DEVICE.type == "cpu" else 32768) // IW_B)

    @torch.no_grad()
    def iw():
        total = torch.full((IW_B,), -math.inf, device=DEVICE)
        std = torch.exp(0.5 * logvar)
        for done in range(0, IW_K, chunk):
            k = min(chunk, IW_K - done)
            eps = torch.randn(k, IW_B, Z, device=DEVICE)
            z = mu + std * eps
            logits = decoder(z.view(-1, Z)).view(k, IW_B, D)
            log_px_z = -F.binary_cross_entropy_with_logits(
                logits, x.expand_as(logits), reduction="none").sum(-1)
            log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
            log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)
            total = torch.logaddexp(total, torch.logsumexp(log_px_z + log_pz - log_qz, 0))
        return total - math.log(IW_K)
    return iw


def synchronize():
    """Waits for the GPU's queued work (a no-op on the CPU)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def time_case(fn, seconds):
    """Mean seconds per call after a warm-up, over at least `seconds`; on a
    GPU, until the queued work has finished."""
    fn()
    synchronize()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        if calls % 10 == 0 or DEVICE.type != "cuda":
            synchronize()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and calls >= 3:
                return elapsed / calls


def openblas_core():
    """The kernels OpenBLAS runs in this process (as iai's blas::openblas_core),
    or None when torch's BLAS is not OpenBLAS."""
    import ctypes
    for lib in ("libblas.so.3", "libopenblas.so.0"):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
        except (OSError, AttributeError):
            continue
        f.restype = ctypes.c_char_p
        return f().decode()
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="minimum time per case")
    parser.add_argument("--filter", default="",
                        help="run only cases whose name contains this")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object on stdout instead of a table")
    parser.add_argument("--precision", default="fp32",
                        choices=["fp32", "bf16"],
                        help="bf16: every case under torch.autocast in "
                             "bfloat16 (iai's --precision bf16)")
    parser.add_argument("--device", default="cpu",
                        help="cpu, cuda or cuda:N (the GPU benchmarks of "
                             "scripts/gpu-check.sh)")
    parser.add_argument("--compile", action="store_true",
                        help='every network through torch.compile(mode='
                             '"reduce-overhead") (PyTorch 2)')
    args = parser.parse_args()
    global DEVICE, COMPILE
    DEVICE = torch.device(args.device)
    COMPILE = args.compile
    if COMPILE and not hasattr(torch, "compile"):
        sys.exit(f"pytorch_baseline: --compile needs PyTorch 2 "
                 f"(torch.compile); this is torch {torch.__version__}")
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        sys.exit(f"pytorch_baseline: --device {args.device}: this torch "
                 "has no usable GPU")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    cases = [
        ("step/standard/S:1/T:1", make_step(False, 1, 1), B),
        ("step/iterative/S:10/T:5", make_step(True, 10, 5), B),
        ("infer/iterative/S:10/T:5", make_infer(10, 5), INFER_B),
        ("iw/K:5000", make_iw(), IW_B),
    ]
    results = {}
    for name, fn, examples in cases:
        if args.filter and args.filter not in name:
            continue
        with torch.autocast(device_type=DEVICE.type, dtype=torch.bfloat16,
                            enabled=args.precision == "bf16",
                            cache_enabled=False):
            s = time_case(fn, args.seconds)
        results[name] = {"ms": 1e3 * s, "ex_s": examples / s}
        if not args.json:
            print(f"{name:<28} {1e3 * s:10.2f} ms {examples / s:10.1f} ex/s",
                  file=sys.stderr if args.json else sys.stdout, flush=True)
    if args.json:
        json.dump({"torch": torch.__version__, "threads": args.threads,
                   "openblas_core": openblas_core(),
                   "precision": args.precision,
                   "compile": COMPILE,
                   "device": str(DEVICE),
                   "results": results}, sys.stdout)
        print()


if __name__ == "__main__":
    main()
