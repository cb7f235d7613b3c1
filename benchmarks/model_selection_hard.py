"""A harder synthetic suite for PID-guided model selection: no single model wins everywhere.

The first synthetic suite (``benchmarks/model_selection_study.py``) builds its synergy from one
kind of cross-modal interaction (a sum modulo k of two discrete factors), and tensor fusion is
within 1% of the best on every one of its datasets. This suite varies what makes the data hard:

- synergy through several kinds of cross-modal interaction: the XOR of two signs, a sum
  modulo 3, the sign of a product of two continuous latents, a threshold on the sum of two
  continuous latents (each modality alone says a little; an additive model says it all; a
  unimodal ensemble cannot), and a redundant factor plus an XOR;
- a dominant, nearly noiseless modality next to a weak, noisy one carrying a little extra
  information;
- the same redundant information with very unequal noise in the two modalities;
- plain unique and redundant information (where the unimodal ensemble is expected to do well).

Each modality is 16-dimensional: its latent code and two nuisance variables pass through a random
one-hidden-layer tanh network, are standardised and get Gaussian noise (its own level per
modality). 4,000 samples: 2,000 train, 500 validation, 1,500 test. Every registered fusion, the
balanced trainings (:data:`interplay.analysis.recommend.BALANCED`: late and gated fusion trained
with modality dropout or MMPareto) and the unimodal ensemble (one classifier per modality, trained
alone, probabilities averaged) is trained with a small model: an MLP encoder per modality (16 -> 32
-> 8), the fusion (output 16), a linear head; Adam (lr 3e-3), batch 64, at most 25 epochs, early
stopping on validation accuracy (patience 5); one thread; seeds 0 and 1. Test accuracy, parameter
count and training time of every run are cached in ``benchmarks/results/model_selection_hard.json``
the moment they are measured, so an interrupted run resumes and the analysis reruns without
training::

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/model_selection_hard.py --train
    python benchmarks/model_selection_hard.py          # analysis only (profiles cached too)

The analysis is the real-data benchmark's (``benchmarks/model_selection_real.py``): leave one
dataset out, every policy's regret and rank. It writes
``benchmarks/results/model_selection_hard.md`` and ``docs/figures/model_selection_hard_regret.svg``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
CACHE = RESULTS / "model_selection_hard.json"
ENSEMBLE = "ensemble"
DIM = 16
N_TRAIN, N_VAL, N_TEST = 2000, 500, 1500
SEEDS = (0, 1)
MAX_EPOCHS, PATIENCE = 25, 5

Latents = tuple[np.ndarray, np.ndarray, np.ndarray]


def _signs(rng: np.random.Generator, n: int) -> Latents:
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    return z1[:, None], z2[:, None], ((z1 > 0) ^ (z2 > 0)).astype(np.int64)


def _mod3(rng: np.random.Generator, n: int) -> Latents:
    a, b = rng.integers(0, 3, n), rng.integers(0, 3, n)
    return np.eye(3)[a], np.eye(3)[b], (a + b) % 3


def _product(rng: np.random.Generator, n: int) -> Latents:
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    p = z1 * z2
    cuts = np.quantile(p, [1 / 3, 2 / 3])
    return z1[:, None], z2[:, None], np.digitize(p, cuts).astype(np.int64)


def _threshold_sum(rng: np.random.Generator, n: int) -> Latents:
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    s = z1 + z2
    cuts = np.quantile(s, [0.25, 0.5, 0.75])
    return z1[:, None], z2[:, None], np.digitize(s, cuts).astype(np.int64)


def _redundant_xor(rng: np.random.Generator, n: int) -> Latents:
    r, a, b = rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 2, n)
    return (np.stack([r, a], axis=1).astype(float), np.stack([r, b], axis=1).astype(float),
            2 * r + (a ^ b))


def _dominant(rng: np.random.Generator, n: int) -> Latents:
    u1, u2 = rng.integers(0, 4, n), rng.integers(0, 2, n)
    return np.eye(4)[u1], np.eye(2)[u2], 2 * u1 + u2


def _redundant(rng: np.random.Generator, n: int) -> Latents:
    r = rng.integers(0, 6, n)
    return np.eye(6)[r], np.eye(6)[r], r


def _unique(rng: np.random.Generator, n: int) -> Latents:
    u1, u2 = rng.integers(0, 3, n), rng.integers(0, 3, n)
    return np.eye(3)[u1], np.eye(3)[u2], 3 * u1 + u2


def _xor_plus_unique(rng: np.random.Generator, n: int) -> Latents:
    u, a, b = rng.integers(0, 3, n), rng.integers(0, 2, n), rng.integers(0, 2, n)
    return (np.concatenate([np.eye(3)[u], a[:, None]], axis=1), b[:, None].astype(float),
            2 * u + (a ^ b))


@dataclass(frozen=True)
class Recipe:
    """A label built from per-modality latent codes, and the noise of each modality."""

    name: str
    latents: Callable[[np.random.Generator, int], Latents]
    noise1: float
    noise2: float
    about: str


SUITE = (
    Recipe("xor-signs", _signs, 0.3, 0.3, "XOR of the signs of two continuous latents"),
    Recipe("sum-mod-3", _mod3, 0.5, 0.5, "(a + b) mod 3 of two 3-valued factors"),
    Recipe("product-sign", _product, 0.3, 0.3,
           "tercile of the product of two continuous latents"),
    Recipe("threshold-sum", _threshold_sum, 0.3, 0.3,
           "quartile of the sum of two continuous latents (additive, not unimodal)"),
    Recipe("redundant+xor", _redundant_xor, 0.8, 0.8,
           "a shared bit and the XOR of two private bits"),
    Recipe("unique+xor", _xor_plus_unique, 0.6, 0.6,
           "a 3-valued factor seen by X1 only and an XOR across the modalities"),
    Recipe("dominant+weak", _dominant, 0.2, 2.0,
           "X1 nearly noiseless (4 classes), X2 noisy with one extra bit"),
    Recipe("unequal-noise", _redundant, 0.4, 2.5,
           "one 6-valued factor seen by both, X2 five times noisier"),
    Recipe("redundant", _redundant, 1.2, 1.2, "one 6-valued factor seen by both"),
    Recipe("unique", _unique, 0.8, 0.8, "a 3-valued factor in each modality"),
)


def make_dataset(recipe: Recipe, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples ``(x1, x2, y)`` of one recipe (fixed seed per recipe)."""
    n = N_TRAIN + N_VAL + N_TEST
    rng = np.random.default_rng(2000 + index)
    c1, c2, y = recipe.latents(rng, n)

    def modality(code: np.ndarray, noise: float) -> np.ndarray:
        code = np.concatenate([code, 0.5 * rng.standard_normal((n, 2))], axis=1)
        hidden = np.tanh(code @ (1.5 * rng.standard_normal((code.shape[1], 32)))
                         + 0.5 * rng.standard_normal(32))
        x = hidden @ (rng.standard_normal((32, DIM)) / np.sqrt(32))
        x = (x - x.mean(axis=0)) / x.std(axis=0)
        return (x + noise * rng.standard_normal(x.shape)).astype(np.float32)

    return modality(c1, recipe.noise1), modality(c2, recipe.noise2), y.astype(np.int64)


# ------------------------------------------------------------------------------ the cache
def load_cache(path: Path = CACHE) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())
    return {"kind": "model_selection_hard", "runs": {}, "profiles": {}}


def save_cache(cache: dict[str, Any], path: Path = CACHE) -> None:
    from interplay import __version__
    from interplay._atomic import atomic_write_text

    cache["interplay_version"] = __version__
    atomic_write_text(path, json.dumps(cache, indent=1, sort_keys=True))


# ------------------------------------------------------------------------------- training
def _splits(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> list[tuple[dict, Any]]:
    import torch

    inputs = {"x1": torch.from_numpy(x1), "x2": torch.from_numpy(x2)}
    target = torch.from_numpy(y)
    parts = (slice(0, N_TRAIN), slice(N_TRAIN, N_TRAIN + N_VAL), slice(N_TRAIN + N_VAL, None))
    return [({k: v[p] for k, v in inputs.items()}, target[p]) for p in parts]


def _fit(model: Any, splits: Sequence[tuple[dict, Any]], seed: int,
         balancer: Any = None) -> dict[str, float]:
    from interplay.training import Task, Trainer

    train, val, test = splits
    trainer = Trainer(max_epochs=MAX_EPOCHS, batch_size=64, lr=3e-3, seed=seed,
                      progress=False, monitor="val_accuracy", patience=PATIENCE)
    task = Task(model, balancer=balancer)
    start = time.perf_counter()
    trainer.fit(task, train, val)
    seconds = time.perf_counter() - start
    return {"test_accuracy": float(trainer.evaluate(task, test)["accuracy"]),
            "train_seconds": seconds,
            "parameters": int(sum(p.numel() for p in model.parameters()))}


def train_recipe(recipe: Recipe, index: int, cache: dict[str, Any], seed: int) -> None:
    """Train every fusion, balanced training and the unimodal ensemble of ``recipe`` that the
    cache lacks."""
    from model_selection_analysis import fusion_and_balancer

    from interplay.analysis.recommend import BALANCED
    from interplay.models import (
        MultimodalModel,
        UnimodalEnsemble,
        UnimodalModel,
        create_encoder,
        create_fusion,
        create_head,
        list_fusions,
    )
    from interplay.training import seed_everything

    x1, x2, y = make_dataset(recipe, index)
    splits = _splits(x1, x2, y)
    classes = int(y.max()) + 1
    runs = cache["runs"]

    def keep(name: str, result: dict[str, float]) -> None:
        runs[f"{recipe.name}|{name}|{seed}"] = result
        save_cache(cache)
        print(f"{recipe.name} {name} seed {seed}: {result['test_accuracy']:.3f} "
              f"({result['train_seconds']:.1f} s)", flush=True)

    if f"{recipe.name}|{ENSEMBLE}|{seed}" not in runs:
        unimodal, seconds = {}, 0.0
        for m in ("x1", "x2"):
            seed_everything(seed)
            unimodal[m] = UnimodalModel(m, create_encoder("vector", DIM, 8, hidden_dims=(32,)),
                                        create_head("classification", 8, classes))
            fit = _fit(unimodal[m], splits, seed)
            seconds += fit["train_seconds"]
            keep(f"{m} only", fit)
        from interplay.training import Task, Trainer

        ensemble = UnimodalEnsemble(unimodal)
        acc = Trainer(batch_size=256, progress=False).evaluate(Task(ensemble), splits[2])
        keep(ENSEMBLE, {"test_accuracy": float(acc["accuracy"]), "train_seconds": seconds,
                        "parameters": int(sum(p.numel() for p in ensemble.parameters()))})
    for name in (*list_fusions(), *BALANCED):
        if f"{recipe.name}|{name}|{seed}" in runs:
            continue
        seed_everything(seed)
        fusion, balancer = fusion_and_balancer(name)
        encoders = {m: create_encoder("vector", DIM, 8, hidden_dims=(32,)) for m in ("x1", "x2")}
        model = MultimodalModel(encoders, create_fusion(fusion, {"x1": 8, "x2": 8}, 16),
                                create_head("classification", 16, classes))
        keep(name, _fit(model, splits, seed, balancer))


def profile_recipe(recipe: Recipe, index: int, cache: dict[str, Any]) -> None:
    """Profile of the training split with ``recommend``'s defaults (cached per setting)."""
    from interplay.analysis.recommend import profile_interactions

    key = f"{recipe.name}|{settings_key()}"
    if key in cache["profiles"]:
        return
    x1, x2, y = make_dataset(recipe, index)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = profile_interactions(x1[:N_TRAIN], x2[:N_TRAIN], y[:N_TRAIN],
                                       n_bootstrap=30, progress=False)
    cache["profiles"][key] = {**profile.to_dict(), "seconds": time.perf_counter() - start}
    save_cache(cache)
    print(f"{recipe.name} profile: " + ", ".join(
        f"{a} {v:.2f}" for a, v in profile.shares.items()), flush=True)


def settings_key() -> str:
    """The default cluster-estimator settings, as a cache key (profiles depend on them)."""
    from model_selection_real import settings_key as real_key

    return real_key()


# -------------------------------------------------------------------------------- analysis
def accuracies(cache: dict[str, Any], recipe: Recipe) -> dict[str, list[float]] | None:
    """Test accuracy per candidate (and unimodal model) over the seeds where all were measured."""
    from interplay.analysis.recommend import BALANCED
    from interplay.models import list_fusions

    names = (ENSEMBLE, *list_fusions(), *BALANCED, "x1 only", "x2 only")
    done = [s for s in SEEDS if all(f"{recipe.name}|{n}|{s}" in cache["runs"] for n in names)]
    if not done:
        return None
    return {n: [cache["runs"][f"{recipe.name}|{n}|{s}"]["test_accuracy"] for s in done]
            for n in names}


def hard_cases(cache: dict[str, Any]) -> list[Any]:
    """The measured and profiled recipes as analysis cases."""
    from model_selection_analysis import Case

    out = []
    for i, recipe in enumerate(SUITE):
        acc = accuracies(cache, recipe)
        entry = cache["profiles"].get(f"{recipe.name}|{settings_key()}")
        if acc is None or entry is None:
            continue
        uni = (float(np.mean(acc.pop("x1 only"))), float(np.mean(acc.pop("x2 only"))))
        out.append(Case(
            key=recipe.name, suite="synthetic",
            accuracy={m: float(np.mean(v)) for m, v in acc.items()},
            seeds=min(len(v) for v in acc.values()),
            seed_sd=float(np.mean([np.std(v, ddof=1) if len(v) > 1 else np.nan
                                   for v in acc.values()])),
            profile=entry, unimodal=uni,
            n_classes=int(make_dataset(recipe, i)[2].max()) + 1))
    return out


def probe_table() -> None:
    """Print the skill of ``interplay recommend``'s logistic-regression probe on every set of
    both suites (full data), to compare with the trained unimodal models of the benchmarks."""
    from model_selection_real import SETS as REAL

    from interplay.analysis.recommend import unimodal_skill
    from interplay.analysis.unimodal_probe import probe_accuracy
    from interplay.data import load_dataset

    def show(name: str, x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> None:
        acc = probe_accuracy(x1, x2, y)
        classes = np.unique(y).size
        print(f"| {name} | {acc[0]:.3f} | {acc[1]:.3f} | "
              f"{max(unimodal_skill(a, classes) for a in acc):.2f} |")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in REAL:
            ds = load_dataset(spec.dataset)
            y = np.asarray(ds.targets[spec.target])
            show(spec.key, *(np.asarray(ds.modalities[m]).reshape(len(y), -1)
                             for m in spec.modalities), y)
        for i, recipe in enumerate(SUITE):
            show(recipe.name, *make_dataset(recipe, i))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true",
                        help="train what the cache lacks (slow), then analyse")
    parser.add_argument("--recipes", nargs="+", default=None, help="only these recipes")
    parser.add_argument("--probe-table", action="store_true",
                        help="print the unimodal probe's skill on every set of both suites")
    args = parser.parse_args(argv)
    if args.probe_table:
        probe_table()
        return
    cache = load_cache()
    chosen = [(i, r) for i, r in enumerate(SUITE)
              if args.recipes is None or r.name in args.recipes]
    if args.train:
        import torch

        torch.set_num_threads(1)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        start = time.perf_counter()
        for seed in SEEDS:
            for i, recipe in chosen:
                train_recipe(recipe, i, cache, seed)
        cache.setdefault("train_seconds_log", []).append(time.perf_counter() - start)
        save_cache(cache)
    for i, recipe in enumerate(SUITE):
        profile_recipe(recipe, i, cache)
    import model_selection_analysis as msa
    import model_selection_real as real

    msa.analyse_suite(
        hard_cases(cache), real.real_cases(real.load_cache()), title="hard synthetic suite",
        stem="model_selection_hard", root=ROOT,
        source="`benchmarks/model_selection_hard.py` from "
               "`benchmarks/results/model_selection_hard.json`",
        notes=[f"- `{r.name}`: {r.about}; noise {r.noise1} (X1), {r.noise2} (X2)."
               for r in SUITE])


if __name__ == "__main__":
    main()
