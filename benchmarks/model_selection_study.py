"""PID-guided model selection on a suite of synthetic datasets with known interactions.

Claim under test (Liang et al., NeurIPS 2023): from a dataset's PID profile alone, pick a
fusion whose accuracy comes close to the best fusion's (they report 99.91 % of the best on
their synthetic suite).

The suite. Independent uniform latent factors: ``r`` (seen by both modalities), ``u1`` (only by
X1), ``u2`` (only by X2), and ``s1``, ``s2`` (one per modality). The label is the tuple
``(r, u1, u2, (s1 + s2) mod k_s)``, so on the latent level the BROJA atoms are exactly
``R = log2 k_r``, ``U1 = log2 k_u1``, ``U2 = log2 k_u2``, ``S = log2 k_s`` bits (a factor with one
value is absent; see :func:`interplay.make_mixture`). Each modality is a 16-dimensional vector:
the one-hot codes of its factors and two continuous nuisance variables pass through a random
one-hidden-layer tanh network, are standardised, and get Gaussian noise of a set level.

The protocol. Per dataset: 6000 samples, split 3000 train / 1000 validation / 2000 test. The
interaction profile is estimated on the training split with
:func:`interplay.analysis.recommend.profile_interactions` (``estimator="auto"``, which picks the
cluster estimator here). Every fusion of the registry is trained with the same small model:
an MLP encoder per modality (16 -> 32 -> 8), the fusion (output 16, default options), a linear
classification head; Adam (lr 3e-3), batch 64, at most 20 epochs, early stopping on validation
accuracy (patience 4), best epoch restored; one CPU thread; seeds 0 and 1. The test accuracy
of a fusion is its mean over seeds.

The datasets are split *by recipe* into a calibration half, on which the affinities of the
ranking rule are computed (:func:`~interplay.analysis.recommend.calibrate_affinity`), and an
evaluation half, on which the rule is judged: recommended fusion's accuracy / best fusion's
accuracy, against always using the one fusion that was best on the calibration half, and the
average fusion. Leave-one-dataset-out over the whole suite is reported as well.

Run (single-threaded, about 20 minutes on one core; ``--quick``: a smoke run of a minute)::

    OMP_NUM_THREADS=1 python benchmarks/model_selection_study.py
    OMP_NUM_THREADS=1 python benchmarks/model_selection_study.py --quick --out /tmp/ms

It writes ``model_selection.json`` (every accuracy and profile) and ``model_selection.md`` (the
tables) into ``--out`` (default ``benchmarks/results``); ``--analyse-only JSON`` redoes the
analysis and tables from a saved ``model_selection.json`` without training.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from interplay.analysis.recommend import (
    DEFAULT_TOLERANCE,
    FusionAffinity,
    calibrate_affinity,
    profile_interactions,
    recommend_fusion,
)
from interplay.exceptions import SmallSampleWarning
from interplay.models import (
    MultimodalModel,
    create_encoder,
    create_fusion,
    create_head,
    list_fusions,
)
from interplay.training import Task, Trainer, atomic_write, seed_everything

DIM = 16
N_TRAIN, N_VAL, N_TEST = 3000, 1000, 2000


@dataclass(frozen=True)
class Recipe:
    """Alphabet sizes of the latent factors (1 = absent), the noise level, and the split."""

    name: str
    redundant: int
    unique1: int
    unique2: int
    synergistic: int
    noise: float
    split: str  # "calibration" or "evaluation"

    @property
    def truth_shares(self) -> dict[str, float]:
        bits = {a: float(np.log2(k)) for a, k in (("redundancy", self.redundant),
                                                   ("unique1", self.unique1),
                                                   ("unique2", self.unique2),
                                                   ("synergy", self.synergistic))}
        total = sum(bits.values())
        return {a: v / total for a, v in bits.items()}


SUITE = (
    # calibration: one kind of interaction at a time, then simple pairs, then all four
    Recipe("cal-R4", 4, 1, 1, 1, 1.0, "calibration"),
    Recipe("cal-U1x4", 1, 4, 1, 1, 1.0, "calibration"),
    Recipe("cal-U1U2", 1, 2, 2, 1, 1.0, "calibration"),
    Recipe("cal-S2", 1, 1, 1, 2, 0.8, "calibration"),
    Recipe("cal-R2S2", 2, 1, 1, 2, 0.8, "calibration"),
    Recipe("cal-R2U1", 2, 2, 1, 1, 1.2, "calibration"),
    Recipe("cal-U2S2", 1, 1, 2, 2, 0.8, "calibration"),
    Recipe("cal-RUUS", 2, 2, 2, 2, 0.8, "calibration"),
    # evaluation: other alphabets, other mixtures, other noise levels
    Recipe("eval-R2", 2, 1, 1, 1, 1.5, "evaluation"),
    Recipe("eval-R2U2", 2, 1, 2, 1, 1.0, "evaluation"),
    Recipe("eval-S3", 1, 1, 1, 3, 0.6, "evaluation"),
    Recipe("eval-R4S2", 4, 1, 1, 2, 0.8, "evaluation"),
    Recipe("eval-U1x4U2", 1, 4, 2, 1, 1.0, "evaluation"),
    Recipe("eval-U1S2", 1, 2, 1, 2, 1.0, "evaluation"),
    Recipe("eval-RUU", 2, 2, 2, 1, 1.0, "evaluation"),
    Recipe("eval-UUS", 1, 2, 2, 2, 0.6, "evaluation"),
)
QUICK = ("cal-R4", "cal-S2", "eval-R2", "eval-U1S2")
#: The Occam rule the study compares with the default ranking: scores this close count as equal.
OCCAM_TOLERANCE = 0.005


def make_dataset(recipe: Recipe, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples ``(x1, x2, y)`` of one recipe (see the module docstring)."""
    rng = np.random.default_rng(seed)
    sizes = {"r": recipe.redundant, "u1": recipe.unique1, "u2": recipe.unique2,
             "s1": recipe.synergistic, "s2": recipe.synergistic}
    z = {k: rng.integers(0, m, n) for k, m in sizes.items()}

    def modality(factors: tuple[str, ...]) -> np.ndarray:
        code = np.concatenate(
            [np.eye(sizes[f])[z[f]] for f in factors if sizes[f] > 1]
            + [0.5 * rng.standard_normal((n, 2))], axis=1)
        hidden = np.tanh(code @ (1.5 * rng.standard_normal((code.shape[1], 32)))
                         + 0.5 * rng.standard_normal(32))
        x = hidden @ (rng.standard_normal((32, DIM)) / np.sqrt(32))
        x = (x - x.mean(axis=0)) / x.std(axis=0)
        return (x + recipe.noise * rng.standard_normal(x.shape)).astype(np.float32)

    x1, x2 = modality(("r", "u1", "s1")), modality(("r", "u2", "s2"))
    ks = recipe.synergistic
    y = ((z["r"] * recipe.unique1 + z["u1"]) * recipe.unique2 + z["u2"]) * ks \
        + (z["s1"] + z["s2"]) % ks
    return x1, x2, y.astype(np.int64)


def train_accuracy(fusion: str, x1: np.ndarray, x2: np.ndarray, y: np.ndarray, seed: int,
                   max_epochs: int) -> float:
    """Test accuracy of one fusion trained on the train split (validation for early stopping)."""
    seed_everything(seed)
    encoders = {m: create_encoder("vector", DIM, 8, hidden_dims=(32,)) for m in ("x1", "x2")}
    model = MultimodalModel(encoders, create_fusion(fusion, {"x1": 8, "x2": 8}, 16),
                            create_head("classification", 16, int(y.max()) + 1))
    inputs = {"x1": torch.from_numpy(x1), "x2": torch.from_numpy(x2)}
    target = torch.from_numpy(y)
    parts = (slice(0, N_TRAIN), slice(N_TRAIN, N_TRAIN + N_VAL),
             slice(N_TRAIN + N_VAL, N_TRAIN + N_VAL + N_TEST))
    train, val, test = (({k: v[p] for k, v in inputs.items()}, target[p]) for p in parts)
    trainer = Trainer(max_epochs=max_epochs, batch_size=64, lr=3e-3, seed=seed, progress=False,
                      monitor="val_accuracy", patience=4)
    task = Task(model)
    trainer.fit(task, train, val)
    return trainer.evaluate(task, test)["accuracy"]


def run_suite(recipes: list[Recipe], seeds: list[int], max_epochs: int,
              progress: bool, partial: Path | None = None) -> list[dict]:
    """Profile and train on every recipe; after each, the rows so far go to ``partial``."""
    fusions = sorted(list_fusions())
    rows = []
    bar = _bar(progress, len(recipes) * len(fusions) * len(seeds))
    with bar:
        task = bar.add_task("training", total=len(recipes) * len(fusions) * len(seeds))
        for i, recipe in enumerate(recipes):
            x1, x2, y = make_dataset(recipe, N_TRAIN + N_VAL + N_TEST, seed=1000 + i)
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SmallSampleWarning)
                profile = profile_interactions(x1[:N_TRAIN], x2[:N_TRAIN], y[:N_TRAIN],
                                               n_clusters=10, n_components=8,
                                               random_state=0, progress=False)
            profile_seconds = time.perf_counter() - t0
            acc: dict[str, list[float]] = {}
            t0 = time.perf_counter()
            for f in fusions:
                for s in seeds:
                    bar.update(task, description=f"{recipe.name} {f} seed {s}")
                    acc.setdefault(f, []).append(train_accuracy(f, x1, x2, y, s, max_epochs))
                    bar.advance(task)
            rows.append({
                "recipe": recipe.__dict__, "truth_shares": recipe.truth_shares,
                "profile": profile.to_dict(), "profile_seconds": profile_seconds,
                "profile_warnings": [str(w.message) for w in caught],
                "accuracy_per_seed": acc,
                "accuracy": {f: float(np.mean(v)) for f, v in acc.items()},
                "train_seconds": time.perf_counter() - t0,
            })
            if partial is not None:
                text = json.dumps({"datasets": rows}, indent=2)
                atomic_write(partial, lambda fh, text=text: fh.write(text.encode()))
            if not progress:
                print(f"{recipe.name}: {len(rows)}/{len(recipes)} done, "
                      f"{time.process_time() / 60:.1f} CPU min so far", flush=True)
    return rows


def _bar(enabled: bool, total: int):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), disable=not enabled)


# ------------------------------------------------------------------------------ analysis
def selection_ratios(rows: list[dict], affinity: FusionAffinity, shares_key: str,
                     tolerance: float = DEFAULT_TOLERANCE) -> list[dict]:
    """Per dataset: the recommended fusion and its accuracy relative to the best fusion."""
    out = []
    for row in rows:
        shares = row["profile"]["shares"] if shares_key == "estimated" else row["truth_shares"]
        rec = recommend_fusion(shares, affinity=affinity, tolerance=tolerance)
        best = max(row["accuracy"], key=row["accuracy"].get)
        out.append({"dataset": row["recipe"]["name"], "recommended": rec.best, "best": best,
                    "ratio": row["accuracy"][rec.best] / row["accuracy"][best]})
    return out


def relative(rows: list[dict]) -> dict[str, list[float]]:
    """Per fusion, its accuracy / the best fusion's accuracy on each dataset."""
    rel: dict[str, list[float]] = {}
    for row in rows:
        top = max(row["accuracy"].values())
        for f, a in row["accuracy"].items():
            rel.setdefault(f, []).append(a / top)
    return rel


def calibrate(rows: list[dict], source: str) -> FusionAffinity:
    return calibrate_affinity([r["profile"]["shares"] for r in rows],
                              [r["accuracy"] for r in rows], source=source)


def analyse(rows: list[dict]) -> dict:
    cal = [r for r in rows if r["recipe"]["split"] == "calibration"]
    ev = [r for r in rows if r["recipe"]["split"] == "evaluation"]
    affinity = calibrate(cal, f"calibration split of benchmarks/model_selection_study.py "
                              f"({len(cal)} datasets)")
    cal_rel = relative(cal)
    always = max(cal_rel, key=lambda f: (np.mean(cal_rel[f]), f))
    summary: dict = {"affinity": affinity.to_dict(), "always_fusion": always}
    for split, part in (("calibration", cal), ("evaluation", ev)):
        if not part:
            continue
        rel = relative(part)
        picks = selection_ratios(part, affinity, "estimated")
        by_score = selection_ratios(part, affinity, "estimated", tolerance=OCCAM_TOLERANCE)
        truth = selection_ratios(part, affinity, "truth")
        summary[split] = {
            "picks": picks,
            "recommended_mean": float(np.mean([p["ratio"] for p in picks])),
            "recommended_min": float(np.min([p["ratio"] for p in picks])),
            "picks_occam": by_score,
            "occam_mean": float(np.mean([p["ratio"] for p in by_score])),
            "occam_min": float(np.min([p["ratio"] for p in by_score])),
            "truth_profile_mean": float(np.mean([p["ratio"] for p in truth])),
            "truth_profile_min": float(np.min([p["ratio"] for p in truth])),
            "always_mean": float(np.mean(rel[always])),
            "always_min": float(np.min(rel[always])),
            "average_model_mean": float(np.mean([np.mean(v) for v in rel.values()])),
            "per_fusion_mean": {f: float(np.mean(v)) for f, v in rel.items()},
            "per_fusion_min": {f: float(np.min(v)) for f, v in rel.items()},
        }
    loo = []
    for i, row in enumerate(rows):
        others = rows[:i] + rows[i + 1:]
        aff = calibrate(others, "leave one out")
        pick = selection_ratios([row], aff, "estimated")[0]
        rel_o = relative(others)
        fixed = max(rel_o, key=lambda f: (np.mean(rel_o[f]), f))
        top = max(row["accuracy"].values())
        loo.append({**pick, "always": fixed, "always_ratio": row["accuracy"][fixed] / top})
    summary["leave_one_out"] = {
        "picks": loo,
        "recommended_mean": float(np.mean([p["ratio"] for p in loo])),
        "recommended_min": float(np.min([p["ratio"] for p in loo])),
        "always_mean": float(np.mean([p["always_ratio"] for p in loo])),
        "always_min": float(np.min([p["always_ratio"] for p in loo])),
    }
    return summary


# ------------------------------------------------------------------------------- report
def markdown(rows: list[dict], summary: dict, meta: dict) -> str:
    fusions = sorted(rows[0]["accuracy"])
    short = {"cross_attention": "x-attn", "low_rank_tensor": "lr-tensor",
             "multiplicative": "mult"}
    lines = [
        "# PID-guided model selection study",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; torch {meta['torch']}, 1 thread; "
        f"wall time {meta['seconds'] / 60:.1f} min (CPU time {meta['cpu_seconds'] / 60:.1f} "
        f"min); seeds {meta['seeds']}; "
        f"at most {meta['max_epochs']} epochs.",
        "",
        "## Test accuracy of every fusion (mean over seeds) and the estimated profile",
        "",
        "Shares are R / U1 / U2 / S of the estimated PID (cluster estimator on the training "
        "split); *truth* is the latent-level PID. **Bold**: best fusion; `>` marks the "
        "recommended one.",
        "",
        "| dataset | split | shares R/U1/U2/S (est.) | truth | "
        + " | ".join(short.get(f, f) for f in fusions) + " |",
        "|---|---|---|---|" + "---:|" * len(fusions),
    ]
    picks = {p["dataset"]: p["recommended"] for split in ("calibration", "evaluation")
             if split in summary for p in summary[split]["picks"]}
    for row in rows:
        acc = row["accuracy"]
        best = max(acc, key=acc.get)
        sh = row["profile"]["shares"]
        tr = row["truth_shares"]
        cells = []
        for f in fusions:
            text = f"{acc[f]:.3f}"
            text = f"**{text}**" if f == best else text
            cells.append(("> " if picks.get(row["recipe"]["name"]) == f else "") + text)
        lines.append(
            f"| {row['recipe']['name']} | {row['recipe']['split'][:4]} | "
            + "/".join(f"{sh[a]:.2f}" for a in ("redundancy", "unique1", "unique2", "synergy"))
            + " | " + "/".join(f"{tr[a]:.2f}" for a in ("redundancy", "unique1", "unique2",
                                                        "synergy"))
            + " | " + " | ".join(cells) + " |")
    always = summary["always_fusion"]
    lines += [
        "",
        "## Selection: accuracy relative to the best fusion on each dataset",
        "",
        f"*Always-{always}*: the fusion with the best mean relative accuracy on the calibration "
        "split, used everywhere. *Average model*: mean over all fusions.",
        "",
        f"*Recommended*: `recommend_fusion` with its default tolerance ({DEFAULT_TOLERANCE}: "
        f"rank by predicted score); *Occam {OCCAM_TOLERANCE}*: scores within "
        f"{OCCAM_TOLERANCE} count as equal and the simpler fusion wins; *from true profile*: "
        "the latent-level shares instead of the estimated ones (default tolerance).",
        "",
        "| split | recommended (mean) | recommended (min) | "
        f"Occam {OCCAM_TOLERANCE} (mean / min) | "
        f"from true profile (mean) | always-{always} (mean) | always-{always} (min) | "
        "average model (mean) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for split in ("calibration", "evaluation"):
        if split not in summary:
            continue
        s = summary[split]
        lines.append(
            f"| {split} | {s['recommended_mean']:.2%} | {s['recommended_min']:.2%} | "
            f"{s['occam_mean']:.2%} / {s['occam_min']:.2%} | "
            f"{s['truth_profile_mean']:.2%} | {s['always_mean']:.2%} | {s['always_min']:.2%} | "
            f"{s['average_model_mean']:.2%} |")
    loo = summary["leave_one_out"]
    lines += [
        f"| leave-one-dataset-out (all {len(rows)}) | {loo['recommended_mean']:.2%} | "
        f"{loo['recommended_min']:.2%} | | | {loo['always_mean']:.2%} | "
        f"{loo['always_min']:.2%} | |",
        "",
        "Leave-one-out recalibrates on the other datasets each time; its *always* column uses "
        "the fusion best on those others.",
        "",
        "Recommended vs best fusion per dataset: "
        + "; ".join(f"{p['dataset']}: {p['recommended']} vs {p['best']} ({p['ratio']:.2%})"
                    for split in ("calibration", "evaluation") if split in summary
                    for p in summary[split]["picks"]) + ".",
        "",
        "## Every fixed choice on the evaluation split (mean / min relative accuracy)",
        "",
        "| fusion | mean | min |",
        "|---|---:|---:|",
    ]
    if "evaluation" in summary:
        ev = summary["evaluation"]
        for f in sorted(ev["per_fusion_mean"], key=lambda f: -ev["per_fusion_mean"][f]):
            lines.append(f"| {f} | {ev['per_fusion_mean'][f]:.2%} | "
                         f"{ev['per_fusion_min'][f]:.2%} |")
    lines += ["", "## Affinities calibrated on the calibration split", "",
              "| fusion | redundancy | unique | synergy |", "|---|---:|---:|---:|"]
    for f, a in sorted(summary["affinity"]["table"].items()):
        lines.append(f"| {f} | {a['redundancy']:.4f} | {a['unique']:.4f} | {a['synergy']:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="4 datasets, 1 seed, 5 epochs: a smoke run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--analyse-only", type=Path, default=None, metavar="JSON",
                        help="redo the analysis and tables from a saved model_selection.json")
    args = parser.parse_args()
    if args.analyse_only is not None:
        saved = json.loads(args.analyse_only.read_text())
        write_results(args.out, saved["datasets"], saved["meta"])
        return
    torch.set_num_threads(1)
    chosen = [r for r in SUITE if not args.quick or r.name in QUICK]
    # calibration and evaluation datasets alternate, so a partial run holds some of each
    cal = [r for r in chosen if r.split == "calibration"]
    ev = [r for r in chosen if r.split == "evaluation"]
    recipes = [r for pair in zip(cal, ev, strict=True) for r in pair]
    seeds = args.seeds[:1] if args.quick else args.seeds
    epochs = 5 if args.quick else args.max_epochs
    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = run_suite(recipes, seeds, epochs, progress=not args.no_progress,
                     partial=args.out / "model_selection.partial.json")
    meta = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/model_selection_study.py"
                   + (" --quick" if args.quick else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), "
                   f"{platform.python_implementation()} {platform.python_version()}",
        "torch": torch.__version__, "seeds": seeds, "max_epochs": epochs,
        "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time(),
    }
    write_results(args.out, rows, meta)
    (args.out / "model_selection.partial.json").unlink(missing_ok=True)


def write_results(out: Path, rows: list[dict], meta: dict) -> None:
    """Analyse the rows and write ``model_selection.json`` and ``.md`` atomically into ``out``."""
    summary = analyse(rows)
    out.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"meta": meta, "summary": summary, "datasets": rows}, indent=2)
    atomic_write(out / "model_selection.json", lambda fh: fh.write(payload.encode()))
    text = markdown(rows, summary, meta)
    atomic_write(out / "model_selection.md", lambda fh: fh.write(text.encode()))
    print(text)


if __name__ == "__main__":
    main()
