#!/usr/bin/env python3
"""The run records of scripts/reproduce.sh (standard library only).

  reproduce_record.py machine [--device D]   one line naming this machine
  reproduce_record.py epochs RUN             completed epochs of a run folder
  reproduce_record.py evaluation RUN EVAL_JSON --epoch E --seconds S
                      --commit C --machine M
                                             append one point to
                                             RUN/evaluations.jsonl
  reproduce_record.py stretch FILE --model M --status S --seconds S
                      --epochs-before A --epochs-after B --target T
                      --device D --threads N --commit C --machine M
                                             append one line to FILE
"""

import argparse
import datetime
import json
import os
import platform
import sys


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine(args):
    cores = os.cpu_count() or 0
    text = f"{cpu_name()}, {cores} cores"
    if args.device.startswith("cuda") or args.device == "auto":
        try:
            import subprocess

            gpu = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20).stdout.strip()
            if gpu:
                text = f"{gpu.splitlines()[0]} ({text})"
        except (OSError, subprocess.SubprocessError):
            pass
    print(text)


def completed_epochs(run):
    """The last epoch line of metrics.jsonl; a line cut by a kill is skipped
    (iai train rewrites the file to match its checkpoint on resume)."""
    last = 0
    try:
        with open(os.path.join(run, "metrics.jsonl")) as f:
            for line in f:
                try:
                    last = max(last, int(json.loads(line)["epoch"]))
                except (ValueError, KeyError, TypeError):
                    continue
    except FileNotFoundError:
        pass
    return last


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def append(path, record):
    with open(path, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def evaluation(args):
    with open(args.eval_json) as f:
        e = json.load(f)
    if int(e["epochs"]) != args.epoch:
        sys.exit(f"reproduce: {args.eval_json} evaluated epoch {e['epochs']}, "
                 f"expected {args.epoch}")
    record = {
        "epoch": args.epoch,
        "elbo": e["elbo"],
        "elbo_samples": e["elbo_samples"],
        "examples": e["examples"],
        "log_px": e.get("log_px"),
        "iw_samples": e.get("iw_samples"),
        "seconds": args.seconds,
        "device": e.get("device"),
        "machine": args.machine,
        "commit": args.commit,
        "date": now(),
    }
    # The data set's own measure, where it has one (bits/dim, perplexity).
    for key in ("bits_per_dim", "bits_per_dim_elbo", "perplexity",
                "perplexity_bound"):
        if key in e:
            record[key] = e[key]
    path = os.path.join(args.run, "evaluations.jsonl")
    # A point evaluated twice (a call stopped between eval and this line)
    # keeps its first record.
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    if json.loads(line)["epoch"] == args.epoch:
                        return
                except (ValueError, KeyError):
                    continue
    append(path, record)


def stretch(args):
    append(args.file, {
        "model": args.model,
        "status": args.status,
        "seconds": args.seconds,
        "epochs_before": args.epochs_before,
        "epochs_after": args.epochs_after,
        "target": args.target,
        "device": args.device,
        "threads": args.threads,
        "machine": args.machine,
        "commit": args.commit,
        "date": now(),
    })


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("machine")
    p.add_argument("--device", default="auto")
    p = sub.add_parser("epochs")
    p.add_argument("run")
    p = sub.add_parser("evaluation")
    p.add_argument("run")
    p.add_argument("eval_json")
    p.add_argument("--epoch", type=int, required=True)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--machine", required=True)
    p = sub.add_parser("stretch")
    p.add_argument("file")
    for flag in ("--model", "--status", "--device", "--commit", "--machine"):
        p.add_argument(flag, required=True)
    for flag in ("--seconds", "--epochs-before", "--epochs-after", "--target",
                 "--threads"):
        p.add_argument(flag, type=int, required=True)
    args = parser.parse_args()
    if args.command == "machine":
        machine(args)
    elif args.command == "epochs":
        print(completed_epochs(args.run))
    elif args.command == "evaluation":
        evaluation(args)
    else:
        stretch(args)


if __name__ == "__main__":
    main()
