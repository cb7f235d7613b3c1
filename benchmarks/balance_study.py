"""Balancing study: joint training, every balancer and the unimodal ensemble, side by side.

For each dataset, one late-fusion model (the fusion table's encoders, see
``benchmarks/fusion_table.py``) is trained with no balancing and with each balancer of
:func:`interplay.balance.list_balancers` (registry defaults), and the unimodal ensemble is
built from unimodal models with the same encoders. Every method gets the same tuning budget:
two trials, the Adam learning rates 1e-3 and 3e-3, chosen on validation accuracy of seed 0; the
chosen rate is then trained with every seed. The balancers' own hyperparameters stay at their
defaults (the budget is the same for all; no method is tuned more than the baselines).

Reported on the test split, mean ± std over seeds: accuracy, accuracy with each modality
missing (masked), each modality's exact Shapley contribution to accuracy
(:func:`interplay.balance.modality_shapley`) and the Shapley imbalance
``(max φ - min φ) / Σ|φ|``; and per epoch, each modality's validation accuracy with the others
masked and the gradient norm reaching its encoder (``Task(..., modality_curves=True)``), drawn
as learning curves. The per-epoch time of each balancer is reported relative to joint training
without balancing (curves logged in both).

Datasets: ``av-digits`` (8x8 digit image + MFCCs of the spoken digit; also ``mfeat`` with
fou + kar + mor, and ``av-digits-synergy``, whose parity target needs both, with ``--datasets``
and ``--add``), and ``one-easy``, a
synthetic set built so that one modality is much easier to learn than the other: the label is
``y = 2 b1 + b2`` with ``b2`` read off the easy modality almost linearly (4 features) and ``b1``
the XOR of the signs of two of the hard modality's 16 features. Either modality alone reaches
at most one half; both are needed.

Run (about 15 minutes of one CPU core for the default protocol)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/balance_study.py

It writes ``benchmarks/results/balance_study.json`` (``"kind": "balance_study"``), the tables
``benchmarks/results/balance_study.md`` and ``docs/figures/balance_curves.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from interplay import __version__
from interplay._json import jsonable
from interplay.balance import create_balancer, list_balancers, modality_shapley
from interplay.models import (
    MultimodalModel,
    UnimodalEnsemble,
    UnimodalModel,
    create_encoder,
    create_fusion,
    create_head,
)
from interplay.training import Task, Trainer, atomic_write, seed_everything
from interplay.training.config import config_from_dict
from interplay.training.run import prepare_data

ROOT = Path(__file__).resolve().parent.parent
ENSEMBLE, JOINT = "unimodal ensemble", "joint (no balancing)"
Split = tuple[dict[str, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Protocol:
    """Everything that is the same for every method."""

    seeds: tuple[int, ...] = (0, 1, 2)
    lrs: tuple[float, ...] = (1e-3, 3e-3)
    max_epochs: int = 30
    patience: int = 6
    batch_size: int = 64
    encoder_dim: int = 16
    fused_dim: int = 32
    n_synthetic: int = 3000
    max_samples: int | None = None


QUICK = Protocol(seeds=(0, 1), lrs=(3e-3,), max_epochs=2, patience=2, n_synthetic=400,
                 max_samples=300)


@dataclass
class Data:
    """Standardised float32 tensors of one dataset's splits."""

    modalities: tuple[str, ...]
    kinds: dict[str, str]
    input_shapes: dict[str, tuple[int, ...]]
    n_outputs: int
    train: Split
    validation: Split
    test: Split


# ------------------------------------------------------------------------------------ data
def bundled(name: str, modalities: Sequence[str], target: str, images: Sequence[str],
            protocol: Protocol) -> Data:
    """A bundled dataset through the ``interplay train`` data path (65/10/25 split, seed 0)."""
    cfg = config_from_dict({
        "dataset": {"name": name, "max_samples": protocol.max_samples},
        "modalities": list(modalities), "target": target,
        "split": {"validation": 0.10, "test": 0.25, "seed": 0},
        "encoders": {m: {"kind": "image" if m in images else "vector"} for m in modalities},
    }, source=f"the {name} protocol")
    d = prepare_data(cfg)
    if d.validation is None:
        raise RuntimeError("the protocol needs a validation split")
    return Data(d.modalities, d.kinds, d.input_shapes, d.n_outputs, d.train, d.validation,
                d.test)


def one_easy(protocol: Protocol) -> Data:
    """``y = 2 b1 + b2``: ``b2`` is nearly linear in the easy modality, ``b1`` is an XOR of
    two coordinates of the hard one (split 65/10/25, standardised with training statistics)."""
    rng = np.random.default_rng(0)
    n = protocol.n_synthetic
    b2 = rng.integers(0, 2, n)
    easy = rng.standard_normal((n, 4))
    easy[:, 0] += 3.0 * (2 * b2 - 1)
    hard = rng.standard_normal((n, 16))
    b1 = (hard[:, 0] * hard[:, 1] > 0).astype(np.int64)
    y = torch.as_tensor(2 * b1 + b2)
    order = rng.permutation(n)
    n_val, n_test = round(0.10 * n), round(0.25 * n)
    parts = (order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test])
    arrays = {"easy": easy, "hard": hard}
    stats = {m: (x[parts[0]].mean(0), x[parts[0]].std(0)) for m, x in arrays.items()}

    def take(rows: np.ndarray) -> Split:
        return ({m: torch.as_tensor((x[rows] - stats[m][0]) / stats[m][1], dtype=torch.float32)
                 for m, x in arrays.items()}, y[rows])

    return Data(("easy", "hard"), {"easy": "vector", "hard": "vector"},
                {"easy": (4,), "hard": (16,)}, 4, take(parts[0]), take(parts[1]),
                take(parts[2]))


DATASETS = {
    "av-digits": lambda p: bundled("av-digits", ("image", "audio"), "digit", ("image",), p),
    "av-digits-synergy": lambda p: bundled("av-digits-synergy", ("image", "audio"), "parity",
                                           ("image",), p),
    "mfeat": lambda p: bundled("mfeat", ("fou", "kar", "mor"), "digit", (), p),
    "one-easy": one_easy,
}


# ---------------------------------------------------------------------------------- models
def encoder(data: Data, m: str, protocol: Protocol) -> nn.Module:
    if data.kinds[m] == "image":
        return create_encoder("image", data.input_shapes[m], protocol.encoder_dim,
                              channels=(16, 32))
    return create_encoder("vector", data.input_shapes[m], protocol.encoder_dim, hidden_dims=(64,))


def joint_model(data: Data, protocol: Protocol) -> MultimodalModel:
    enc = {m: encoder(data, m, protocol) for m in data.modalities}
    fusion = create_fusion("late", {m: protocol.encoder_dim for m in data.modalities},
                           protocol.fused_dim)
    return MultimodalModel(enc, fusion,
                           create_head("classification", protocol.fused_dim, data.n_outputs))


def unimodal_model(data: Data, m: str, protocol: Protocol) -> UnimodalModel:
    return UnimodalModel(m, encoder(data, m, protocol),
                         create_head("classification", protocol.encoder_dim, data.n_outputs))


def trainer(protocol: Protocol, lr: float, seed: int) -> Trainer:
    return Trainer(max_epochs=protocol.max_epochs, batch_size=protocol.batch_size, lr=lr,
                   seed=seed, patience=protocol.patience, monitor="val_accuracy",
                   progress=False)


# -------------------------------------------------------------------------------- measuring
def test_metrics(model: nn.Module, data: Data) -> dict[str, Any]:
    """Test accuracy, accuracy with each modality masked, Shapley values and imbalance."""
    inputs, y = data.test
    shapley = modality_shapley(model, inputs, y)
    out = {"accuracy": shapley.subsets["+".join(data.modalities)],
           "shapley": shapley.values, "imbalance": shapley.imbalance}
    for m in data.modalities:
        rest = "+".join(k for k in data.modalities if k != m)
        out[f"accuracy_without_{m}"] = shapley.subsets[rest]
    return out


def balancer_of(method: str) -> Any:
    """``"name"`` or ``"name:key=value,key=value"`` (numbers parsed) -> a balancer."""
    name, _, spec = method.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, _, raw = item.partition("=")
        try:
            options[key] = float(raw) if "." in raw or "e" in raw else int(raw)
        except ValueError:
            options[key] = raw
    return create_balancer(name, **options)


def fit_joint(data: Data, protocol: Protocol, method: str, lr: float,
              seed: int) -> dict[str, Any]:
    seed_everything(seed)
    model = joint_model(data, protocol)
    balancer = None if method == JOINT else balancer_of(method)
    task = Task(model, balancer=balancer, modality_curves=True)
    start = time.perf_counter()
    fit = trainer(protocol, lr, seed).fit(task, data.train, data.validation)
    seconds = time.perf_counter() - start
    curves = {key: [row[key] for row in fit.history] for key in fit.history[0]
              if "_only_" in key or "gradnorm" in key}
    return {"seed": seed, "lr": lr, "val_accuracy": fit.metrics["val_accuracy"],
            "epochs": fit.epochs_completed, "best_epoch": fit.best_epoch, "seconds": seconds,
            "seconds_per_epoch": float(np.mean([row["seconds"] for row in fit.history])),
            "curves": curves, **test_metrics(model.eval(), data)}


def fit_ensemble(data: Data, protocol: Protocol, lr: float, seed: int) -> dict[str, Any]:
    models, seconds, epochs = {}, 0.0, 0
    for m in data.modalities:
        seed_everything(seed)
        model = unimodal_model(data, m, protocol)
        start = time.perf_counter()
        fit = trainer(protocol, lr, seed).fit(Task(model), data.train, data.validation)
        seconds += time.perf_counter() - start
        epochs += fit.epochs_completed
        models[m] = model.eval()
    ensemble = UnimodalEnsemble(models).eval()
    inputs, y = data.validation
    with torch.no_grad():
        val = float((ensemble(inputs).logits.argmax(1) == y).double().mean())
    return {"seed": seed, "lr": lr, "val_accuracy": val, "epochs": epochs, "seconds": seconds,
            "seconds_per_epoch": seconds / max(epochs, 1), **test_metrics(ensemble, data)}


def run_method(data: Data, protocol: Protocol, method: str) -> dict[str, Any]:
    """Tune the learning rate on seed 0 (equal budget), then train every seed with it."""
    def fit(lr: float, seed: int) -> dict[str, Any]:
        if method == ENSEMBLE:
            return fit_ensemble(data, protocol, lr, seed)
        return fit_joint(data, protocol, method, lr, seed)

    first = protocol.seeds[0]
    trials = [fit(lr, first) for lr in protocol.lrs]
    best = max(trials, key=lambda r: r["val_accuracy"])
    runs = [best, *(fit(best["lr"], s) for s in protocol.seeds[1:])]
    return {"lr": best["lr"], "trials": [{k: t[k] for k in ("lr", "val_accuracy")}
                                         for t in trials], "runs": runs,
            "summary": summarise(runs, data.modalities)}


def summarise(runs: list[dict[str, Any]], modalities: Sequence[str]) -> dict[str, Any]:
    def stat(values: list[float]) -> dict[str, float]:
        arr = np.asarray(values, dtype=np.float64)
        return {"mean": float(arr.mean()),
                "std": float(arr.std(ddof=1)) if len(arr) > 1 else float("nan")}

    keys = ["accuracy", "imbalance", "seconds_per_epoch",
            *(f"accuracy_without_{m}" for m in modalities)]
    out = {k: stat([r[k] for r in runs]) for k in keys}
    out.update({f"shapley_{m}": stat([r["shapley"][m] for r in runs]) for m in modalities})
    return out


def epoch_costs(data: Data, protocol: Protocol, methods: Sequence[str], epochs: int = 3,
                repeats: int = 3) -> dict[str, Any]:
    """Median seconds per training epoch of each method (no curves, no validation), the
    methods interleaved within each repeat so that load changes hit them alike; and each
    one's ratio to joint training without balancing."""
    times: dict[str, list[float]] = {m: [] for m in methods}
    for r in range(repeats):
        for method in methods if r % 2 == 0 else list(reversed(methods)):
            seed_everything(r)
            balancer = None if method == JOINT else balancer_of(method)
            task = Task(joint_model(data, protocol), balancer=balancer)
            fit = Trainer(max_epochs=epochs, batch_size=protocol.batch_size, lr=1e-3, seed=r,
                          patience=None, progress=False).fit(task, data.train)
            times[method] += [row["seconds"] for row in fit.history[1:]]  # first: warm-up
    median = {m: float(np.median(t)) for m, t in times.items()}
    return {"epochs": epochs, "repeats": repeats, "seconds_per_epoch": median,
            "ratio": {m: median[m] / median[JOINT] for m in methods}}


# ---------------------------------------------------------------------------------- output
def pm(s: dict[str, float], digits: int = 3) -> str:
    std = "" if not np.isfinite(s["std"]) else f" ± {s['std']:.{digits}f}"
    return f"{s['mean']:.{digits}f}{std}"


def tables(results: dict[str, Any]) -> str:
    lines = []
    for name, res in results["datasets"].items():
        mods = res["modalities"]
        lines += [f"### {name}", "",
                  "| method | lr | accuracy | " + " | ".join(f"without {m}" for m in mods)
                  + " | " + " | ".join(f"φ {m}" for m in mods) + " | imbalance | time/epoch |",
                  "|---|---|---|" + "---|" * (2 * len(mods)) + "---|---|"]
        base = res["methods"][JOINT]["summary"]["seconds_per_epoch"]["mean"]
        for method, r in res["methods"].items():
            s = r["summary"]
            cost = ("(unimodal models)" if method == ENSEMBLE
                    else f"{s['seconds_per_epoch']['mean'] / base:.2f}x")
            lines.append(
                f"| {method} | {r['lr']:g} | {pm(s['accuracy'])} | "
                + " | ".join(pm(s[f"accuracy_without_{m}"]) for m in mods) + " | "
                + " | ".join(pm(s[f"shapley_{m}"]) for m in mods)
                + f" | {pm(s['imbalance'], 2)} | {cost} |")
        lines.append("")
    return "\n".join(lines)


def figure(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["datasets"])
    shown = [JOINT, "ogm_ge", "mmpareto", "mcr"]
    colours = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2"]
    fig, axes = plt.subplots(2, len(names), figsize=(5.5 * len(names), 7), squeeze=False)
    for j, name in enumerate(names):
        res = results["datasets"][name]
        for i, method in enumerate(m for m in shown if m in res["methods"]):
            curves = res["methods"][method]["runs"][0]["curves"]
            for k, m in enumerate(res["modalities"]):
                style = ("-", "--", ":", "-.")[k % 4]
                acc = curves[f"val_accuracy_only_{m}"]
                axes[0, j].plot(range(1, len(acc) + 1), acc, style, color=colours[i],
                                label=f"{method}: {m} alone")
                grad = curves[f"train_gradnorm_{m}"]
                axes[1, j].plot(range(1, len(grad) + 1), grad, style, color=colours[i],
                                label=f"{method}: {m}")
        axes[0, j].set_title(f"{name}: validation accuracy, other modality masked")
        axes[1, j].set_title(f"{name}: gradient norm reaching each encoder")
        axes[1, j].set_xlabel("epoch (seed 0)")
        axes[1, j].set_yscale("log")
        for ax in axes[:, j]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny protocol (smoke run)")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS),
                        default=["av-digits", "one-easy"])
    parser.add_argument("--cost", action="store_true",
                        help="only time one training epoch of each balancer on av-digits")
    parser.add_argument("--add", action="store_true",
                        help="add these datasets to the results already in --out")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="balancers to include (default: all), besides the baselines; "
                             "NAME:key=value,... sets options")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--figure", type=Path,
                        default=ROOT / "docs" / "figures" / "balance_curves.png")
    args = parser.parse_args(argv)
    unknown = {m.partition(":")[0] for m in args.methods or ()} - set(list_balancers())
    if unknown:
        parser.error(f"--methods: unknown balancer(s) {sorted(unknown)}; choose from "
                     f"{', '.join(list_balancers())}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(1)
    protocol = QUICK if args.quick else Protocol()
    methods = [JOINT, *(args.methods or sorted(list_balancers())), ENSEMBLE]
    if args.cost:
        return write_costs(args, protocol, methods[:-1])
    shown = sys.argv[1:] if argv is None else list(argv)
    results: dict[str, Any] = {
        "kind": "balance_study", "interplay_version": __version__,
        "command": " ".join(["python benchmarks/balance_study.py", *shown]),
        "protocol": asdict(protocol), "methods": methods,
        "environment": {"torch": torch.__version__, "python": platform.python_version(),
                        "torch_threads": torch.get_num_threads()},
        "datasets": {},
    }
    start = time.perf_counter()
    for name in args.datasets:
        data = DATASETS[name](protocol)
        res = {"modalities": list(data.modalities), "n_train": int(len(data.train[1])),
               "n_test": int(len(data.test[1])), "methods": {}}
        for method in methods:
            t0 = time.perf_counter()
            res["methods"][method] = run_method(data, protocol, method)
            print(f"{name}: {method} {pm(res['methods'][method]['summary']['accuracy'])} "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        results["datasets"][name] = res
    results["total_seconds"] = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / "balance_study.json"
    if args.add and previous.is_file():
        before = json.loads(previous.read_text())
        results["command"] = f"{before['command']}; {results['command']}"
        results["total_seconds"] += before["total_seconds"]
        results["datasets"] = {**before["datasets"], **results["datasets"]}
    text = json.dumps(jsonable(results), indent=1, allow_nan=False)
    atomic_write(args.out / "balance_study.json", lambda fh: fh.write(text.encode()))
    table = tables(results)
    atomic_write(args.out / "balance_study.md", lambda fh: fh.write(table.encode()))
    figure(results, args.figure)
    return results


def render_figure(json_path: Path, path: Path) -> None:
    """Redraw the figure from a results file (no training)."""
    figure(json.loads(json_path.read_text()), path)


def write_costs(args: argparse.Namespace, protocol: Protocol,
                methods: Sequence[str]) -> dict[str, Any]:
    name = args.datasets[0]
    cost = epoch_costs(DATASETS[name](protocol), protocol, methods,
                       epochs=2 if args.quick else 4, repeats=2 if args.quick else 3)
    result = {"kind": "balance_cost", "interplay_version": __version__, "dataset": name,
              "command": "python benchmarks/balance_study.py --cost --datasets " + name,
              "torch_threads": torch.get_num_threads(), **cost}
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jsonable(result), indent=1, allow_nan=False)
    atomic_write(args.out / "balance_cost.json", lambda fh: fh.write(text.encode()))
    for m in methods:
        print(f"{m}: {cost['seconds_per_epoch'][m]:.3f} s/epoch, {cost['ratio'][m]:.2f}x",
              file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
