#!/usr/bin/env python3
"""Writes docs/results.md (and its figures in docs/results/) from the run
folders of scripts/reproduce.sh, and copies the page's first table into
README.md between its results markers. Standard library and gnuplot only.

  python3 scripts/results-page.py [--runs runs/reproduce] [--out docs/results.md]
                                  [--readme README.md] [--date YYYY-MM-DD]

For each row of the paper's Tables 1 and 2 the page shows the paper's
number, iai's latest importance-weighted estimate with the epochs reached
and the test examples it used, the machines, commits and wall time of the
campaign, the -log p(x)-against-epochs curves of the experiment's models,
the difference iterative - standard at equal epochs, and whether the row is
still unconverged (short of its config's epochs). Where a run has a point
on the whole test set, the estimate of when it reaches the paper's number
is moved by how much better the fixed subset reads there. Figure 4's
comparison (iai compare over 500 iterations on the T = 16 model) and
Figure 7's sweep follow, as far as they have come.
"""

import argparse
import datetime
import json
import math
import os
import shutil
import subprocess

# experiment -> (title, measure, {model: paper value}, table)
EXPERIMENTS = {
    "mnist-single": ("MNIST, single-level", "nats",
                     {"standard": 84.14, "iterative": 83.84}, 1),
    "mnist-hierarchical": ("MNIST, hierarchical", "nats",
                           {"standard": 82.63, "iterative": 82.457,
                            "ladder": None}, 1),
    "cifar10-single": ("CIFAR-10, single-level", "bits/dim",
                       {"standard": 5.823, "iterative": 5.64}, 2),
    "cifar10-hierarchical": ("CIFAR-10, hierarchical", "bits/dim",
                             {"standard": 5.565, "iterative": 5.456}, 2),
    "rcv1": ("RCV1", "perplexity",
             {"standard": 323.0, "iterative": 285.0}, 2),
    "fig4": ("MNIST, iterative at T = 16 (Figure 4's model)", "nats",
             {"iterative-t16": None}, 0),
    "init": ("MNIST iterative, per-matrix against fused initialisation "
             "(6,400 training examples)", "nats",
             {"per-matrix-seed1": None, "fused-seed1": None,
              "per-matrix-seed2": None, "fused-seed2": None}, 0),
}
# The epochs an experiment trains toward where no config says: the
# initialisation comparison runs 30.
TARGET_EPOCHS = {"init": 30}
README_BEGIN = "<!-- results: begin (scripts/results-page.py) -->"
README_END = "<!-- results: end -->"


def read_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    except FileNotFoundError:
        pass
    return out


def measure_of(point, measure):
    """The paper's measure of one evaluation point (lower is better)."""
    if measure == "bits/dim":
        return point.get("bits_per_dim")
    if measure == "perplexity":
        return point.get("perplexity")
    lp = point.get("log_px")
    return None if lp is None else -lp


def config_epochs(experiment, model):
    """The epochs of the model's config in configs/ (what the paper's runs
    are trained toward), as scripts/reproduce.sh maps models to configs."""
    if experiment in TARGET_EPOCHS:
        return TARGET_EPOCHS[experiment]
    name = {"rcv1": f"rcv1-{model}",
            "fig4": "mnist-single-iterative-t16"}.get(experiment,
                                                      f"{experiment}-{model}")
    try:
        with open(os.path.join("configs", name + ".toml")) as f:
            for line in f:
                if line.split("=")[0].strip() == "epochs":
                    return int(line.split("=")[1].split("#")[0])
    except (OSError, ValueError):
        pass
    return 0


def fit_power_law(points):
    """y(e) = y_inf + b e^-c fitted by least squares over a grid of c; None
    with fewer than 4 points."""
    if len(points) < 4:
        return None
    best = None
    for i in range(1, 300):
        c = i / 100.0
        xs = [e ** -c for e, _ in points]
        ys = [y for _, y in points]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx == 0:
            continue
        b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        a = my - b * mx
        err = sum((a + b * x - y) ** 2 for x, y in zip(xs, ys))
        if best is None or err < best[0]:
            best = (err, a, b, c)
    return None if best is None else best[1:]


def epochs_to_reach(fit, value):
    """The epoch at which the fitted curve reaches value, or None."""
    if fit is None:
        return None
    a, b, c = fit
    if b <= 0 or value <= a:
        return None
    return (b / (value - a)) ** (1.0 / c)


def plot(experiment, series, measure, path, xlabel="epoch", ylabel=None):
    """-measure against epochs, one line per model (gnuplot PNG); or, given
    the labels, any series against any x."""
    if not shutil.which("gnuplot") or not any(series.values()):
        return False
    data = path[:-4] + ".dat"
    with open(data, "w") as f:
        for model, pts in series.items():
            f.write(f'"{model}"\n')
            for e, y in pts:
                f.write(f"{e} {y}\n")
            f.write("\n\n")
    def quoted(text):  # a gnuplot single-quoted string
        return "'" + str(text).replace("'", "''") + "'"
    plots = ", ".join(
        f"'{os.path.basename(data)}' index {i} using 1:2 with linespoints "
        f"title {quoted(m)}" for i, m in enumerate(series))
    script = (
        "set terminal pngcairo size 720,420 noenhanced\n" if subprocess.run(
            ["gnuplot", "-e", "set terminal pngcairo"],
            capture_output=True).returncode == 0 else
        "set terminal png size 720,420\n")
    ylabel = ylabel or {"nats": "-log p(x) (nats, IW)",
                        "bits/dim": "bits/dim (IW)",
                        "perplexity": "perplexity (IW)"}[measure]
    script += (f"set output '{os.path.basename(path)}'\n"
               f"set title {quoted(experiment)}\nset xlabel {quoted(xlabel)}\n"
               f"set ylabel '{ylabel}'\nset key top right\nset grid\n"
               f"plot {plots}\n")
    gp = path[:-4] + ".gp"
    with open(gp, "w") as f:
        f.write(script)
    subprocess.run(["gnuplot", os.path.basename(gp)], cwd=os.path.dirname(path),
                   check=True, capture_output=True)
    return True


def fmt(v, measure):
    if v is None:
        return "–"
    return f"{v:.3f}" if measure == "bits/dim" else f"{v:.2f}"


def hours(seconds):
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def summarise(runs_dir, experiment):
    title, measure, paper, table = EXPERIMENTS[experiment]
    exp_dir = os.path.join(runs_dir, experiment)
    stretches = read_jsonl(os.path.join(exp_dir, "stretches.jsonl"))
    models = []
    for model, paper_value in paper.items():
        run = os.path.join(exp_dir, model)
        if not os.path.isdir(run):
            continue
        evals = read_jsonl(os.path.join(run, "evaluations.jsonl"))
        metrics = read_jsonl(os.path.join(run, "metrics.jsonl"))
        epochs = max([int(m.get("epoch", 0)) for m in metrics] or [0])
        # The curve holds the points on one set of test examples, the
        # fixed subset (the most common size; the smaller on a tie): a
        # last point on the whole test set is another measurement, shown
        # in the table but not fitted or differenced with the subset's.
        sizes = [p.get("examples") for p in evals]
        subset = (max(set(sizes), key=lambda n: (sizes.count(n), -(n or 0)))
                  if sizes else None)
        curve = [(p["epoch"], measure_of(p, measure)) for p in evals
                 if measure_of(p, measure) is not None
                 and p.get("examples") == subset]
        mine = [s for s in stretches if s.get("model") == model]
        models.append({
            "model": model, "paper": paper_value, "run": run,
            "epochs": epochs, "target": config_epochs(experiment, model),
            "last": evals[-1] if evals else None,
            "value": measure_of(evals[-1], measure) if evals else None,
            "curve": sorted(curve),
            "subset": subset,
            "seconds": sum(s.get("seconds", 0) for s in mine),
            "machines": sorted({s.get("machine", "?") for s in mine}),
            "commits": sorted({s.get("commit", "?") for s in mine}),
            "stretches": mine,
        })
    return {"experiment": experiment, "title": title, "measure": measure,
            "table": table, "models": models}


# Runs whose numbers are known to be wrong: their status in the tables, and
# why, on the experiment's section. The page shows them as such rather than
# as results.
KNOWN_PROBLEMS = {}
# What a reader needs to know about a run, on its experiment's section.
NOTES = {
    ("mnist-hierarchical", "iterative"): (
        "trained with raw errors (`error-weighting = \"none\"` in "
        "configs/mnist-hierarchical-iterative.toml: x - E[x|z] and "
        "z - mu_p, as the reference code computes them). With the "
        "precision-weighted errors of eq. 11-12 its level-1 training KL "
        "diverged to 1e9-1e10 nats from the first epoch: batch "
        "normalisation in the decoder lets a lower level's learnt prior "
        "variance collapse, and errors divided by it blow up (on 2,048 "
        "examples at T = 2: KL 3.2e9 nats weighted, 44 raw). This run was "
        "started afresh with raw errors"),
}
# Figure 4's procedures as `iai compare` names them, and the iterations shown.
FIG4_ITERATIONS = (1, 5, 16, 50, 100, 200, 500)


def read_csv(path):
    try:
        with open(path) as f:
            rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
    except FileNotFoundError:
        return []
    if not rows:
        return []
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def figure4_section(summary, fig_dir):
    """ELBO per inference iteration of each procedure of `iai compare` on
    the T = 16 model, and how far the iterative model drifts from its best
    by iteration 500; compare's own figure (with its zoomed panel)."""
    out = []
    for m in summary["models"]:
        rows = read_csv(os.path.join(m["run"], "compare", "compare.csv"))
        if not rows:
            out += [f"Figure 4's comparison (`iai compare --iterations 500`) "
                    f"runs when a call of `reproduce.sh fig4` ends its "
                    f"training (at its `--until-epoch`, else the config's "
                    f"epochs); {m['model']} is at epoch {m['epochs']}, not "
                    f"compared yet.", ""]
            continue
        curves = {}
        for r in rows:
            name = r["procedure"] + (f" (step {float(r['step_size']):g})"
                                     if r.get("step_size") not in ("", "0", None)
                                     else "")
            curves.setdefault(name, {})[int(r["iteration"])] = float(r["elbo"])
        shown = [t for t in FIG4_ITERATIONS
                 if any(t in c for c in curves.values())]
        out += [f"ELBO (nats, 200 test examples) after t inference "
                f"iterations, {m['model']} at epoch {m['epochs']} "
                f"(`iai compare --iterations 500`):", "",
                "| procedure | " + " | ".join(f"t = {t}" for t in shown) + " |",
                "|---|" + "---|" * len(shown)]
        for name, c in sorted(curves.items(), key=lambda kv: -max(kv[1].values())):
            out.append(f"| {name} | " + " | ".join(
                f"{c[t]:.2f}" if t in c else "–" for t in shown) + " |")
        out.append("")
        figure = os.path.join(m["run"], "compare", "compare_iterations.png")
        if os.path.exists(figure):
            shutil.copy(figure, os.path.join(fig_dir, "fig4-iterations.png"))
            out += ["![Figure 4: ELBO against inference iterations, with a "
                    "panel zoomed on the top nats](results/fig4-iterations.png)",
                    ""]
        # `iai compare` calls the run's own procedure "model".
        model_curve = next((c for n, c in curves.items()
                            if n == "model" or n.startswith("iterative")), None)
        if model_curve:
            last = max(model_curve)
            best_t = max(model_curve, key=model_curve.get)
            drift = model_curve[best_t] - model_curve[last]
            verdict = ("stable" if drift < 0.5 else
                       "drifts down" if drift < 5 else "unstable")
            out += [f"The iterative model (trained at T = 16) peaks at "
                    f"{model_curve[best_t]:.2f} at t = {best_t} and ends at "
                    f"{model_curve[last]:.2f} at t = {last}: {drift:.2f} nats "
                    f"below its peak ({verdict}).", ""]
    return out


def figure7_section(runs_dir, fig_dir):
    """Figure 7 as far as the sweep has come: each setting's test ELBO at
    the epochs it reached (sweep.csv, rewritten after every setting)."""
    rows = read_csv(os.path.join(runs_dir, "fig7", "sweep", "sweep.csv"))
    if not rows:
        return []
    out = ["## Figure 7: inference iterations T and samples S", "",
           "Each setting of `configs/sweep-fig7-paper.toml` trained on all "
           "60,000 training examples, its test ELBO (whole test set, the "
           "training T and S) at the epochs it has reached; the sweep "
           "advances every setting to the same epoch before going further "
           "(`scripts/reproduce.sh fig7 --until-epoch E`). Settings not "
           "listed have not started.", "",
           "| variant | T | S | epochs | test ELBO |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['variant']} | {r['iterations']} | {r['samples']} | "
                   f"{r.get('epochs', '–')} | {float(r['test_elbo']):.2f} |")
    out.append("")
    # The curves as far as they have come: test ELBO against T at the fixed
    # S, and against S at the fixed T (the paper config's), one line per
    # variant.
    fixed = {"fixed-samples": 1, "fixed-iterations": 5}
    try:
        with open(os.path.join("configs", "sweep-fig7-paper.toml")) as f:
            for line in f:
                key = line.split("=")[0].strip()
                if key in fixed:
                    fixed[key] = int(line.split("=")[1].split("#")[0])
    except (OSError, ValueError):
        pass
    for axis, other, fixed_key, name in (
            ("iterations", "samples", "fixed-samples", "T"),
            ("samples", "iterations", "fixed-iterations", "S")):
        series = {}
        for r in rows:
            if r["variant"] == "standard" and axis == "iterations":
                continue
            if int(r[other]) == fixed[fixed_key] or r["variant"] == "standard":
                series.setdefault(r["variant"], []).append(
                    (int(r[axis]), float(r["test_elbo"])))
        series = {v: sorted(p) for v, p in series.items() if len(p) >= 2}
        png = os.path.join(fig_dir, f"fig7-{name}.png")
        if series and plot(f"Figure 7: test ELBO against {name} (as far as "
                           f"the sweep has come)", series, "nats", png,
                           xlabel=name, ylabel="test ELBO (nats)"):
            out += [f"![Figure 7: test ELBO against {name}]"
                    f"(results/fig7-{name}.png)", ""]
    for plot_name, what in (("sweep_iterations", "T"), ("sweep_samples", "S")):
        src = os.path.join(runs_dir, "fig7", "sweep", plot_name + ".png")
        if os.path.exists(src):
            shutil.copy(src, os.path.join(fig_dir, f"fig7-{plot_name}.png"))
            out += [f"![Figure 7: test ELBO against {what}]"
                    f"(results/fig7-{plot_name}.png)", ""]
    return out


def page(runs_dir, out, date):
    fig_dir = os.path.join(os.path.dirname(out) or ".", "results")
    os.makedirs(fig_dir, exist_ok=True)
    summaries = [summarise(runs_dir, e) for e in EXPERIMENTS
                 if os.path.isdir(os.path.join(runs_dir, e))]
    lines = ["# Results against the paper", "",
             f"Generated on {date} by `python3 scripts/results-page.py` from "
             f"the run folders of `scripts/reproduce.sh` (see "
             f"[reproduce.md](reproduce.md)). Each number is the newest "
             f"evaluation point of a run: −log p(x) by importance sampling "
             f"with K samples from the final q (bits/dim for CIFAR-10, "
             f"perplexity for RCV1), on the fixed test subset named in the "
             f"*test examples* column (the whole test set once a run "
             f"reaches its last epoch). A run short of its config's epochs "
             f"is **unconverged**: its number is where training stands, not "
             f"what the method reaches. The curves, the fits and the "
             f"differences at equal epochs use the subset's points only.", ""]
    head = ("| experiment | model | paper | iai | at epoch | test examples | "
            "K | status |")
    rule = "|---|---|---|---|---|---|---|---|"
    summary_rows, table_rows = [], []
    for s in summaries:
        for m in s["models"]:
            last = m["last"] or {}
            status = ("done" if m["target"] and m["epochs"] >= m["target"]
                      else f"unconverged: {m['epochs']} of {m['target']} epochs")
            status = KNOWN_PROBLEMS.get((s["experiment"], m["model"]), (status,))[0]
            row = (f"| {s['title']} | {m['model']} | {fmt(m['paper'], s['measure'])} "
                   f"| {fmt(m['value'], s['measure'])} | {last.get('epoch', 0)} "
                   f"| {last.get('examples', '–')} | {last.get('iw_samples', '–')} "
                   f"| {status} |")
            summary_rows.append(row)
            if s["table"] in (1, 2):
                table_rows.append(row)
    lines += [head, rule] + summary_rows + [""]
    for s in summaries:
        measure = s["measure"]
        lines += [f"## {s['title']}", ""]
        for m in s["models"]:
            problem = KNOWN_PROBLEMS.get((s["experiment"], m["model"]))
            if problem:
                lines += [f"**{m['model']}**: {problem[1]}.", ""]
            note = NOTES.get((s["experiment"], m["model"]))
            if note:
                lines += [f"**{m['model']}**: {note}.", ""]
        series = {m["model"]: m["curve"] for m in s["models"]}
        png = os.path.join(fig_dir, f"{s['experiment']}.png")
        if plot(s["title"], series, measure, png):
            lines += [f"![{s['title']}: {measure} against epochs]"
                      f"(results/{s['experiment']}.png)", ""]
        lines += ["| model | epochs | wall time | machines | commits |",
                  "|---|---|---|---|---|"]
        for m in s["models"]:
            lines.append(f"| {m['model']} | {m['epochs']} of {m['target']} | "
                         f"{hours(m['seconds'])} | {'; '.join(m['machines'])} | "
                         f"{', '.join(m['commits'])} |")
        lines.append("")
        # Throughput per machine, from the stretches that trained.
        rates = {}
        for m in s["models"]:
            for st in m["stretches"]:
                gained = st.get("epochs_after", 0) - st.get("epochs_before", 0)
                key = (m["model"], st.get("machine", "?"), st.get("device", "?"))
                r = rates.setdefault(key, [0, 0])
                r[0] += gained
                r[1] += st.get("seconds", 0)
        if rates:
            lines += ["Throughput (epochs per hour, evaluations included):", ""]
            for (model, machine, device), (ep, sec) in sorted(rates.items()):
                if sec > 0:
                    lines.append(f"- {model} on {machine} ({device}): "
                                 f"{3600 * ep / sec:.1f}")
            lines.append("")
        by_model = {m["model"]: dict(m["curve"]) for m in s["models"]}
        if "standard" in by_model and "iterative" in by_model:
            common = sorted(set(by_model["standard"]) & set(by_model["iterative"]))
            if common:
                lines += ["Iterative − standard at equal epochs (negative: "
                          "iterative better):", "",
                          "| epoch | standard | iterative | difference |",
                          "|---|---|---|---|"]
                for e in common[-8:]:
                    a, b = by_model["standard"][e], by_model["iterative"][e]
                    lines.append(f"| {e} | {fmt(a, measure)} | {fmt(b, measure)}"
                                 f" | {b - a:+.2f} |")
                lines.append("")
        for seed in ("seed1", "seed2"):
            a = by_model.get(f"per-matrix-{seed}", {})
            b = by_model.get(f"fused-{seed}", {})
            common = sorted(set(a) & set(b))
            if common:
                lines += [f"Per-matrix − fused, {seed}, at equal epochs "
                          "(negative: per-matrix better):", "",
                          "| epoch | per-matrix | fused | difference |",
                          "|---|---|---|---|"]
                for e in common[-8:]:
                    lines.append(f"| {e} | {fmt(a[e], measure)} | "
                                 f"{fmt(b[e], measure)} | {a[e] - b[e]:+.2f} |")
                lines.append("")
        for m in s["models"]:
            if m["paper"] is None or len(m["curve"]) < 4:
                continue
            fit = fit_power_law(m["curve"])
            reach = epochs_to_reach(fit, m["paper"])
            if fit:
                a, b, c = fit
                where = (f"reaches the paper's {fmt(m['paper'], measure)} near "
                         f"epoch {reach:,.0f}" if reach else
                         f"levels off at {fmt(a, measure)}, above the paper's "
                         f"{fmt(m['paper'], measure)}")
                lines.append(f"- {m['model']}: the fit y = {a:.2f} + {b:.2f} "
                             f"e^-{c:.2f} over its {len(m['curve'])} points "
                             f"{where} (on the test subset; an extrapolation, not a "
                             f"measurement).")
                # The paper's number is on the whole test set: where the run
                # has a whole-set point beyond the subset's, the fit's value
                # there less the measured one is how much better the subset
                # reads, and the paper's number is moved by it.
                last = m["last"] or {}
                whole = m["value"]
                if (whole is not None and last.get("examples") != m["subset"]
                        and last.get("epoch")):
                    offset = (a + b * last["epoch"] ** -c) - whole
                    target = m["paper"] + offset
                    reach_whole = epochs_to_reach(fit, target)
                    at = (f"near epoch {reach_whole:,.0f}" if reach_whole else
                          f"never on this fit (it levels off at "
                          f"{fmt(a - offset, measure)} there)")
                    lines.append(
                        f"  On the whole test set: at epoch {last['epoch']} "
                        f"it reads {fmt(whole, measure)} against the fit's "
                        f"{fmt(whole + offset, measure)} (the subset "
                        f"{abs(offset):.2f} {'better' if offset < 0 else 'worse'}),"
                        f" so the paper's {fmt(m['paper'], measure)} on the "
                        f"whole set would come {at}.")
        lines.append("")
        if s["experiment"] == "fig4":
            lines += figure4_section(s, fig_dir)
    lines += figure7_section(runs_dir, fig_dir)
    text = "\n".join(lines).rstrip() + "\n"
    with open(out, "w") as f:
        f.write(text)
    return [head, rule] + table_rows


def update_readme(readme, rows, date):
    with open(readme) as f:
        text = f.read()
    if README_BEGIN not in text or README_END not in text:
        return False
    pre, rest = text.split(README_BEGIN, 1)
    _, post = rest.split(README_END, 1)
    block = "\n".join([README_BEGIN,
                       f"As of {date} (from [docs/results.md](docs/results.md)):",
                       ""] + rows + [README_END])
    with open(readme, "w") as f:
        f.write(pre + block + post)
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", default="runs/reproduce")
    p.add_argument("--out", default="docs/results.md")
    p.add_argument("--readme", default="README.md")
    p.add_argument("--date", default=datetime.date.today().isoformat())
    args = p.parse_args()
    if not os.path.isdir(args.runs):
        raise SystemExit(f"results-page: no campaign folder {args.runs} "
                         f"(scripts/reproduce.sh writes it)")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    rows = page(args.runs, args.out, args.date)
    if args.readme and update_readme(args.readme, rows, args.date):
        print(f"results-page: {args.out} and {args.readme} updated")
    else:
        print(f"results-page: {args.out} written")


if __name__ == "__main__":
    main()
