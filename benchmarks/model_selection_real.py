"""PID-guided model selection judged on real data, leave one dataset out.

Ground truth is measured: on each real modality pair (``SETS``) every registered fusion, the
balanced trainings (:data:`interplay.analysis.recommend.BALANCED`: late and gated fusion
trained with modality dropout, the fusion table's ``+ mdrop`` rows, or with MMPareto) and the
unimodal ensemble are trained with the fusion table's protocol (``benchmarks/fusion_table.py``:
the same split, encoders, optimiser, epochs and early stopping), 3 seeds (:data:`SEEDS`: the
fusion table's), and their test accuracies kept. ``av-digits`` (image, audio -> digit) is not
retrained: its accuracies are read from ``benchmarks/results/fusion_table.json`` (3 seeds, the
``+ mdrop`` rows included); the balanced trainings it lacks are trained here with its
protocol. The interaction profile of each pair is estimated on its training split with
:func:`interplay.analysis.recommend.profile_interactions` (``recommend``'s defaults, bootstrap
intervals of the shares).

Every run and profile is cached in ``benchmarks/results/model_selection_real.json`` the moment
it is measured, so an interrupted run resumes and the analysis reruns without training::

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/model_selection_real.py --train
    python benchmarks/model_selection_real.py            # analysis only, from the cache

``av-digits-synergy`` (parity of the two digits) is at chance under that protocol; when
``benchmarks/results/synergy_recipe.json`` (``benchmarks/synergy_recipe.py``: per-modality
auxiliary digit targets) holds its runs, they replace the protocol's and the set joins the
analysis. Every set also keeps one model per modality alone (the unimodal accuracies).

The analysis (leave one dataset out, :mod:`model_selection_analysis`): for each held-out set,
the recommender is calibrated on the other real sets (redundancy, unique) and the hard synthetic
suite of ``benchmarks/model_selection_hard.py`` (synergy), and asked for the held-out profile
and unimodal accuracies; its choice is scored by the regret ``1 - acc(choice) / acc(best)`` and
by the rank of the choice, next to the rule without its unimodal gate, the unimodal accuracies
without PID, fixed policies (always late, tensor, the unimodal ensemble, the model best on the
other sets) and a random choice (its expected regret). It writes
``benchmarks/results/model_selection_real.md`` and
``docs/figures/model_selection_real_regret.svg``. ``--print-default`` prints what
``recommend.py`` ships; ``--defaults-table`` what the cluster estimator's old and current
defaults see on the bundled data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
CACHE = RESULTS / "model_selection_real.json"
FUSION_TABLE = RESULTS / "fusion_table.json"
ENSEMBLE = "ensemble"
SEEDS = (0, 1, 2)
N_BOOTSTRAP = 30


@dataclass(frozen=True)
class PairSet:
    """One real modality pair and target."""

    dataset: str
    modalities: tuple[str, str]
    target: str
    images: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.dataset}:{self.modalities[0]}+{self.modalities[1]}->{self.target}"


#: In the order they are trained (cheapest and most asked-about first).
SETS = (
    PairSet("mfeat", ("fou", "kar"), "digit"),
    PairSet("mfeat", ("fou", "mor"), "digit"),
    PairSet("mfeat", ("kar", "mor"), "digit"),
    PairSet("nutrimouse", ("gene", "lipid"), "genotype"),
    PairSet("nutrimouse", ("gene", "lipid"), "diet"),
    PairSet("mfeat", ("zer", "mor"), "digit"),
    PairSet("mfeat", ("fou", "zer"), "digit"),
    PairSet("av-digits-synergy", ("image", "audio"), "parity", images=("image",)),
    PairSet("mfeat", ("kar", "zer"), "digit"),
    PairSet("mfeat", ("fac", "mor"), "digit"),
    PairSet("av-digits", ("image", "audio"), "digit", images=("image",)),
    PairSet("noisy-digits", ("rotated", "noisy"), "digit", images=("rotated", "noisy")),
)
#: Sets trained and shown but left out of the leave-one-out summary and the calibration, why.
EXCLUDED = {
    "nutrimouse:gene+lipid->genotype": "40 mice: a test split of 10 cannot resolve "
    "differences below about 15 points (every model scores 1.0)",
    "nutrimouse:gene+lipid->diet": "40 mice: a test split of 10 cannot resolve differences "
    "below about 15 points (candidates from 0.45 to 0.9)",
    "av-digits-synergy:image+audio->parity": "no model learns it (every candidate within "
    "0.05 of chance, 0.5): there is no best model to find",
}
#: Sets whose accuracies come from the fusion table (same protocol, 3 seeds).
FROM_FUSION_TABLE = {"av-digits:image+audio->digit": "av-digits"}


# ------------------------------------------------------------------------------ the cache
def load_cache(path: Path = CACHE) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())
    return {"kind": "model_selection_real", "runs": {}, "profiles": {}}


def save_cache(cache: dict[str, Any], path: Path = CACHE) -> None:
    from interplay import __version__
    from interplay._atomic import atomic_write_text

    cache["interplay_version"] = __version__
    atomic_write_text(path, json.dumps(cache, indent=1, sort_keys=True))


# ------------------------------------------------------------------------------- training
def train_set(spec: PairSet, cache: dict[str, Any], seeds: Sequence[int]) -> None:
    """Train every fusion, balanced training and both unimodal baselines of ``spec`` that the
    cache lacks."""
    import fusion_table as ft
    from model_selection_analysis import fusion_and_balancer

    from interplay.analysis.recommend import BALANCED
    from interplay.exceptions import ConvergenceError
    from interplay.models import UnimodalEnsemble, list_fusions
    from interplay.training import seed_everything

    names: tuple[str, ...] = (*list_fusions(), *BALANCED)
    if spec.key in FROM_FUSION_TABLE:  # only the balanced trainings the fusion table lacks
        names = tuple(n for n in BALANCED if n not in fusion_table_accuracies(spec.key))
        if not names:
            return
    protocol = ft.Protocol(noise_levels=(0.0,), noise_repeats=1)
    data = ft.prepare(ft.DatasetSpec(spec.dataset, spec.modalities, spec.target, "",
                                     spec.images), protocol)
    order = data.modalities
    runs = cache["runs"]
    for seed in seeds:
        def done(name: str, seed: int = seed) -> bool:
            return f"{spec.key}|{name}|{seed}" in runs

        def keep(name: str, model: Any, result: dict[str, Any], seed: int = seed) -> None:
            runs[f"{spec.key}|{name}|{seed}"] = {
                "parameters": ft.n_parameters(model), **{
                    k: result[k] for k in ("test_accuracy", "val_accuracy", "train_seconds",
                                           "epochs", "best_epoch") if k in result}}
            save_cache(cache)
            print(f"{spec.key} {name} seed {seed}: {result['test_accuracy']:.3f} "
                  f"({result.get('train_seconds', 0):.1f} s)", flush=True)

        if not done(ENSEMBLE) and spec.key not in FROM_FUSION_TABLE:
            unimodal, seconds = {}, 0.0
            for m in order:
                seed_everything(seed)
                unimodal[m] = ft.build_unimodal_model(m, data, protocol)
                fit = ft.train(unimodal[m], data, protocol, seed)
                seconds += fit["train_seconds"]
                keep(f"{m} only", unimodal[m],
                     {**fit, **ft.sweep(unimodal[m], data, protocol, seed, order)})
            ensemble = UnimodalEnsemble(unimodal)
            keep(ENSEMBLE, ensemble, {"train_seconds": seconds,
                                      **ft.sweep(ensemble, data, protocol, seed, order)})
        for name in names:
            if done(name):
                continue
            seed_everything(seed)
            fusion, balancer = fusion_and_balancer(name)
            model = ft.build_fusion_model(ft.Variant(name, fusion), data, protocol)
            try:
                fit = fit_balanced(model, data, protocol, seed, balancer)
            except ConvergenceError as exc:
                print(f"{spec.key} {name} seed {seed}: failed ({exc})", flush=True)
                continue
            keep(name, model, {**fit, **ft.sweep(model, data, protocol, seed, order)})


def fit_balanced(model: Any, data: Any, protocol: Any, seed: int,
                 balancer: Any = None) -> dict[str, Any]:
    """``fusion_table.train`` (its protocol, metrics and timing) with any balancer."""
    from interplay.training import Task, Trainer

    trainer = Trainer(max_epochs=protocol.max_epochs, batch_size=protocol.batch_size,
                      lr=protocol.lr, seed=seed, patience=protocol.patience, progress=False)
    start = time.perf_counter()
    result = trainer.fit(Task(model, balancer=balancer), data.train, data.validation)
    return {"train_seconds": time.perf_counter() - start,
            "epochs": result.epochs_completed, "best_epoch": result.best_epoch,
            "val_accuracy": result.metrics["val_accuracy"]}


def profile_set(spec: PairSet, cache: dict[str, Any]) -> None:
    """Estimate the interaction profile of the training split (``recommend``'s defaults)."""
    import fusion_table as ft

    from interplay.analysis.recommend import profile_interactions

    if profile_key(spec.key) in cache["profiles"]:
        return
    protocol = ft.Protocol()
    data = ft.prepare(ft.DatasetSpec(spec.dataset, spec.modalities, spec.target, "", ()),
                      protocol)
    inputs, y = data.train
    x1, x2 = (inputs[m].numpy().reshape(len(y), -1) for m in spec.modalities)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = profile_interactions(x1, x2, y.numpy(), n_bootstrap=N_BOOTSTRAP,
                                       progress=False)
    cache["profiles"][profile_key(spec.key)] = {**profile.to_dict(),
                                                "seconds": time.perf_counter() - start}
    save_cache(cache)
    print(f"{spec.key} profile: " + ", ".join(
        f"{a} {v:.2f}" for a, v in profile.shares.items()), flush=True)


def settings_key() -> str:
    """The cluster estimator's default settings rule, as part of a profile's cache key (a
    profile estimated under other defaults is kept under its own key)."""
    from interplay.estimators.registry import CLUSTER_COMPONENTS, MAX_DEFAULT_CLUSTERS

    return f"auto-k<={MAX_DEFAULT_CLUSTERS},pcs={CLUSTER_COMPONENTS}"


def profile_key(key: str) -> str:
    """Cache key of a set's profile under the current default settings."""
    return f"{key}|{settings_key()}"


def fusion_table_accuracies(key: str) -> dict[str, list[float]]:
    """Per-model test accuracies (over seeds) of a set measured by the fusion table (its
    ``+ mdrop`` rows are the balanced trainings)."""
    from interplay.analysis.recommend import BALANCED

    table = json.loads(FUSION_TABLE.read_text())["datasets"][FROM_FUSION_TABLE[key]]["models"]
    out = {}
    for name, entry in table.items():
        if entry["kind"] in ("fusion", "ensemble", "unimodal") or name in BALANCED:
            out[ENSEMBLE if entry["kind"] == "ensemble" else name] = [
                r["test_accuracy"] for r in entry["runs"]]
    return out


# -------------------------------------------------------------------------------- analysis
#: Per-candidate accuracies of av-digits-synergy trained with the synergy recipe (another
#: benchmark, this cache's format); when present they replace the fusion-table protocol's runs.
SYNERGY_RECIPE = RESULTS / "synergy_recipe.json"
SYNERGY_KEY = "av-digits-synergy:image+audio->parity"


def recipe_runs() -> dict[str, Any]:
    """Runs of the synergy recipe, keyed like this cache's (empty when not measured yet)."""
    if not SYNERGY_RECIPE.exists():
        return {}
    return {k: v for k, v in json.loads(SYNERGY_RECIPE.read_text()).get("runs", {}).items()
            if k.startswith(SYNERGY_KEY + "|")}


def runs_of(cache: dict[str, Any], key: str) -> dict[str, Any]:
    recipe = recipe_runs() if key == SYNERGY_KEY else {}
    return recipe or cache["runs"]


def accuracies(cache: dict[str, Any], spec: PairSet) -> dict[str, list[float]] | None:
    """Test accuracies per candidate (and per unimodal model) over the seeds where all were
    measured (None: no seed)."""
    from interplay.analysis.recommend import BALANCED
    from interplay.models import list_fusions

    if spec.key in FROM_FUSION_TABLE:  # balanced trainings it lacks from this cache
        out = fusion_table_accuracies(spec.key)
        for name in BALANCED:
            seeds = [s for s in SEEDS if f"{spec.key}|{name}|{s}" in cache["runs"]]
            if name not in out and seeds:
                out[name] = [cache["runs"][f"{spec.key}|{name}|{s}"]["test_accuracy"]
                             for s in seeds]
        return out if all(name in out for name in BALANCED) else None
    runs = runs_of(cache, spec.key)  # the unimodal models always from this cache
    names = (ENSEMBLE, *list_fusions(), *BALANCED)
    alone = tuple(f"{m} only" for m in spec.modalities)
    seeds = sorted({int(k.rsplit("|", 1)[1]) for k in runs if k.startswith(spec.key + "|")})
    complete = [seed for seed in seeds
                if all(f"{spec.key}|{n}|{seed}" in runs for n in names)]
    single = [seed for seed in SEEDS
              if all(f"{spec.key}|{n}|{seed}" in cache["runs"] for n in alone)]
    if not complete or not single:
        return None  # only seeds where every candidate was measured
    out = {n: [runs[f"{spec.key}|{n}|{seed}"]["test_accuracy"] for seed in complete]
           for n in names}
    return out | {n: [cache["runs"][f"{spec.key}|{n}|{seed}"]["test_accuracy"]
                      for seed in single] for n in alone}


def excluded(cache: dict[str, Any]) -> dict[str, str]:
    """Sets left out of the analysis, and why (the synergy set joins once its recipe landed)."""
    out = dict(EXCLUDED)
    if recipe_runs():
        out.pop(SYNERGY_KEY, None)
    return out


def real_cases(cache: dict[str, Any], sets: Sequence[PairSet] = SETS) -> list[Any]:
    """The measured, profiled and not excluded real sets as analysis cases."""
    from model_selection_analysis import Case

    out = []
    left_out = excluded(cache)
    for spec in sets:
        acc = accuracies(cache, spec)
        entry = cache["profiles"].get(profile_key(spec.key))
        if acc is None or entry is None or spec.key in left_out:
            continue
        uni = tuple(float(np.mean(acc.pop(f"{m} only"))) for m in spec.modalities)
        out.append(Case(
            key=spec.key, suite="real", accuracy={m: float(np.mean(v)) for m, v in acc.items()},
            seeds=min(len(v) for v in acc.values()),
            seed_sd=float(np.mean([np.std(v, ddof=1) for v in acc.values()])),
            profile=entry, unimodal=uni,  # type: ignore[arg-type]
            n_classes=int(entry["pid"]["settings"]["alphabet_sizes"]["y"])))
    return out


def shown_excluded(cache: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Mean accuracies of the excluded sets, shown below the analysed ones."""
    out = {}
    for spec in SETS:
        if spec.key in excluded(cache) and (acc := accuracies(cache, spec)) is not None:
            out[spec.key + " (excluded)"] = {n: float(np.mean(v)) for n, v in acc.items()
                                             if not n.endswith(" only")}
    return out


def analyse(cache: dict[str, Any]) -> dict[str, Any]:
    """Leave one real set out (calibrated on the other real sets and the hard synthetic
    suite): tables and figure."""
    import model_selection_analysis as msa
    import model_selection_hard as hard

    held = real_cases(cache)
    if len(held) < 2:
        print("fewer than two sets measured: nothing to analyse yet")
        return {}
    notes = ["Excluded from the summary and the calibration:", ""]
    notes += [f"- `{k}`: {why}." for k, why in excluded(cache).items()]
    if recipe_runs():
        recipe = json.loads(SYNERGY_RECIPE.read_text()).get("recipe", {})
        notes += ["", f"`{SYNERGY_KEY}`: every candidate trained with the synergy recipe of "
                  "`benchmarks/synergy_recipe.py` (" + str(recipe.get("label", "")) + "), read "
                  "from `benchmarks/results/synergy_recipe.json`; its unimodal models are the "
                  "fusion-table protocol's (parity from one modality alone)."]
    return msa.analyse_suite(
        held, hard.hard_cases(hard.load_cache()), title="real sets",
        stem="model_selection_real", root=ROOT,
        source="`benchmarks/model_selection_real.py` from "
               "`benchmarks/results/model_selection_real.json`",
        shown=shown_excluded(cache), notes=notes)


def defaults(cache: dict[str, Any]) -> dict[str, Any]:
    """The affinity table calibrated on every case (real and hard synthetic) and the measured
    training times: what recommend.py and fusion_cost.py ship."""
    import model_selection_analysis as msa
    import model_selection_hard as hard

    from interplay.analysis.recommend import BALANCED

    cases = [*real_cases(cache), *hard.hard_cases(hard.load_cache())]
    aff = msa.affinity_for(cases, "")
    seconds: dict[str, list[float]] = {}
    epochs: dict[str, list[float]] = {}
    for key, run in cache["runs"].items():
        name = key.split("|")[1]
        if key.startswith("mfeat") and not name.endswith(" only"):
            seconds.setdefault(name, []).append(run["train_seconds"])
            epochs.setdefault(name, []).append(run.get("epochs", np.nan))
    median = {n: float(np.median(v)) for n, v in seconds.items()}
    # The balanced runs were timed in other sessions at another machine load, so their wall
    # times do not compare with the others': their time is their fusion's, scaled by the
    # epochs they ran and by the balancer's cost per epoch measured under control
    # (`benchmarks/balance_study.py --cost`, docs/balancing.md).
    per_epoch = json.loads((RESULTS / "balance_cost.json").read_text())["ratio"]
    for name, (fusion, balancer, _) in BALANCED.items():
        if name in median and fusion in median:
            median[name] = median[fusion] * per_epoch[balancer] * float(
                np.median(epochs[name]) / np.median(epochs[fusion]))
    # Shipped: every fusion and the ensemble; the balanced trainings' rows are printed apart
    # (relative to the best of all candidates, as in the benchmark), not default candidates.
    table = aff.to_dict()
    return {"affinity": {**table, **{k: {f: v for f, v in table[k].items() if f not in BALANCED}
                                     for k in ("table", "spread")}},
            "balanced_affinity": {k: {f: table[k][f] for f in BALANCED}
                                  for k in ("table", "spread")},
            "train_seconds": {n: round(v, 1) for n, v in sorted(median.items())}}


def defaults_table() -> None:
    """Print, as markdown rows, what the old fixed cluster settings (5 clusters, 2 components)
    and the current defaults see on the bundled data (full sets, ``quantify`` at defaults)."""
    from interplay import quantify
    from interplay.analysis.recommend import synergy_bias
    from interplay.data import load_dataset

    for name, m1, m2, t in (("mfeat", "fou", "kar", "digit"), ("mfeat", "kar", "zer", "digit"),
                            ("av-digits", "image", "audio", "digit"),
                            ("av-digits-synergy", "image", "audio", "parity")):
        ds = load_dataset(name)
        y = np.asarray(ds.targets[t])
        x1, x2 = (np.asarray(ds.modalities[m]).reshape(len(y), -1) for m in (m1, m2))
        for label, options in (("old 5 x 2 PCs", {"n_clusters": 5, "n_components": 2}),
                               ("new default", {})):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                r = quantify(x1, x2, y, progress=False, **options)
            print(f"| {name} {m1}+{m2} -> {t} | {label} | {r.settings['n_clusters']} x "
                  f"{r.settings['n_components']} | {r.mi_joint:.2f} | {r.synergy:.3f} | "
                  f"{synergy_bias(r):.3f} | {len(caught)} |")


# ------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true",
                        help="train and profile what the cache lacks (slow), then analyse")
    parser.add_argument("--sets", nargs="+", default=None, help="only these set keys")
    parser.add_argument("--print-default", action="store_true",
                        help="print what recommend.py ships: the affinity table and skill "
                             "threshold calibrated on every set, the measured training times")
    parser.add_argument("--defaults-table", action="store_true",
                        help="print what the old and the current cluster settings see on the "
                             "bundled data, then stop")
    args = parser.parse_args(argv)
    if args.defaults_table:
        defaults_table()
        return
    cache = load_cache()
    sets = [s for s in SETS if args.sets is None or s.key in args.sets]
    if args.train:
        import torch

        torch.set_num_threads(1)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        start = time.perf_counter()
        for spec in sets:
            profile_set(spec, cache)
        for seed in SEEDS:
            for spec in sets:
                train_set(spec, cache, (seed,))
        cache.setdefault("train_seconds_log", []).append(time.perf_counter() - start)
        save_cache(cache)
    analyse(cache)
    if args.print_default:
        print(json.dumps(defaults(cache), indent=1))


if __name__ == "__main__":
    main()
