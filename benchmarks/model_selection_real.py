"""PID-guided model selection judged on real data, leave one dataset out.

Ground truth is measured: on each real modality pair (``SETS``) every registered fusion and the
unimodal ensemble are trained with the fusion table's protocol (``benchmarks/fusion_table.py``:
the same split, encoders, optimiser, epochs and early stopping), several seeds, and their test
accuracies kept. ``av-digits`` (image, audio -> digit) is not retrained: its accuracies are read
from ``benchmarks/results/fusion_table.json`` (3 seeds). The interaction profile of each pair
is estimated on its training split with :func:`interplay.analysis.recommend.profile_interactions`
(``recommend``'s defaults, bootstrap intervals of the shares).

Every run and profile is cached in ``benchmarks/results/model_selection_real.json`` the moment
it is measured, so an interrupted run resumes and the analysis reruns without training::

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/model_selection_real.py --train
    python benchmarks/model_selection_real.py            # analysis only, from the cache

The analysis (leave one dataset out): for each held-out set, the recommender is calibrated on
the other sets (:func:`~interplay.analysis.recommend.calibrate_affinity`) and asked for the
held-out profile; its choice is scored by the regret ``1 - acc(choice) / acc(best)`` and by the
rank of the choice, next to fixed policies (always late, always tensor, always the unimodal
ensemble, the model best on the other sets) and a random choice (its expected regret). It
writes ``benchmarks/results/model_selection_real.md`` and
``docs/figures/model_selection_real_regret.svg``.
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
SEEDS = (0, 1)
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
    """Train every fusion and both unimodal baselines of ``spec`` that the cache lacks."""
    import fusion_table as ft

    from interplay.exceptions import ConvergenceError
    from interplay.models import UnimodalEnsemble, list_fusions
    from interplay.training import seed_everything

    if spec.key in FROM_FUSION_TABLE:
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

        if not done(ENSEMBLE):
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
        for name in list_fusions():
            if done(name):
                continue
            seed_everything(seed)
            model = ft.build_fusion_model(ft.Variant(name, name), data, protocol)
            try:
                fit = ft.train(model, data, protocol, seed)
            except ConvergenceError as exc:
                print(f"{spec.key} {name} seed {seed}: failed ({exc})", flush=True)
                continue
            keep(name, model, {**fit, **ft.sweep(model, data, protocol, seed, order)})


def profile_set(spec: PairSet, cache: dict[str, Any]) -> None:
    """Estimate the interaction profile of the training split (``recommend``'s defaults)."""
    import fusion_table as ft

    from interplay.analysis.recommend import profile_interactions

    if spec.key in cache["profiles"]:
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
    cache["profiles"][spec.key] = {**profile.to_dict(),
                                   "seconds": time.perf_counter() - start}
    save_cache(cache)
    print(f"{spec.key} profile: " + ", ".join(
        f"{a} {v:.2f}" for a, v in profile.shares.items()), flush=True)


def fusion_table_accuracies(key: str) -> dict[str, list[float]]:
    """Per-model test accuracies (over seeds) of a set measured by the fusion table."""
    table = json.loads(FUSION_TABLE.read_text())["datasets"][FROM_FUSION_TABLE[key]]["models"]
    out = {}
    for name, entry in table.items():
        if entry["kind"] in ("fusion", "ensemble"):
            out[ENSEMBLE if entry["kind"] == "ensemble" else name] = [
                r["test_accuracy"] for r in entry["runs"]]
    return out


# -------------------------------------------------------------------------------- analysis
SYNTHETIC = RESULTS / "model_selection.json"
POLICIES = ("recommender", "top score", "recommender, real only", "always late",
            "always tensor", "always ensemble", "best on others", "random")


def accuracies(cache: dict[str, Any], spec: PairSet) -> dict[str, list[float]] | None:
    """Test accuracies per candidate over the seeds where all were measured (None: no seed)."""
    from interplay.models import list_fusions

    if spec.key in FROM_FUSION_TABLE:
        return fusion_table_accuracies(spec.key)
    names = (ENSEMBLE, *list_fusions())
    complete = [seed for seed in SEEDS
                if all(f"{spec.key}|{n}|{seed}" in cache["runs"] for n in names)]
    if not complete:
        return None  # only seeds where every candidate was measured
    return {n: [cache["runs"][f"{spec.key}|{n}|{seed}"]["test_accuracy"] for seed in complete]
            for n in names}


def synthetic_synergy() -> tuple[dict[str, float], dict[str, float]]:
    """Synergy affinity and spread of each fusion from the synthetic suite (16 datasets),
    the only suite where synergy is learnt; the ensemble takes late fusion's (both add one
    term per modality, so neither represents synergy; not measured)."""
    from interplay.analysis.recommend import calibrate_affinity

    data = json.loads(SYNTHETIC.read_text())["datasets"]
    aff = calibrate_affinity([d["profile"]["shares"] for d in data],
                             [d["accuracy"] for d in data])
    table = {f: row["synergy"] for f, row in aff.table.items()}
    spread = {f: row["synergy"] for f, row in aff.spread.items()}
    table[ENSEMBLE], spread[ENSEMBLE] = table["late"], spread["late"]
    return table, spread


def real_affinity(profiles: Sequence[dict[str, float]], accs: Sequence[dict[str, float]],
                  source: str, synthetic: bool = True) -> Any:
    """Redundancy and unique affinities from real sets, synergy from the synthetic suite
    (``synthetic=False``: every kind from the real sets, an uncovered kind falling back to the
    mean relative accuracy)."""
    from interplay.analysis.recommend import FusionAffinity, calibrate_affinity

    aff = calibrate_affinity(list(profiles), list(accs), source=source)
    if not synthetic:
        return aff
    syn, syn_sd = synthetic_synergy()
    table = {f: {**row, "synergy": syn[f]} for f, row in aff.table.items()}
    spread = {f: {**row, "synergy": syn_sd[f]} for f, row in aff.spread.items()}
    return FusionAffinity(table=table, source=source, n_datasets=len(profiles), spread=spread)


def as_profile(entry: dict[str, Any]) -> Any:
    """The cached profile as something :func:`recommend_fusion` reads (shares and intervals)."""
    from interplay.analysis.recommend import InteractionProfile
    from interplay.info.pid import PIDResult

    fields = {k: v for k, v in entry["pid"].items() if k in PIDResult.__dataclass_fields__}
    fields.update(ci=None, p_values=None, diagnostics=None,
                  warnings=tuple(fields.get("warnings") or ()))
    ci = entry.get("share_ci")
    return InteractionProfile(shares=entry["shares"], pid=PIDResult(**fields),
                              estimator=entry["estimator"],
                              reason=entry["reason"],
                              share_ci=None if ci is None else {k: tuple(v)
                                                                for k, v in ci.items()})


def leave_one_out(cache: dict[str, Any], sets: Sequence[PairSet]) -> dict[str, Any]:
    """Every policy's choice, regret and rank on each set, calibrated on the others."""
    from interplay.analysis.recommend import recommend_fusion

    measured = {s.key: a for s in sets if (a := accuracies(cache, s)) is not None
                and s.key in cache["profiles"] and s.key not in EXCLUDED}
    means = {k: {m: float(np.mean(v)) for m, v in a.items()} for k, a in measured.items()}
    rows = []
    for key, acc in means.items():
        others = [k for k in means if k != key]
        aff = real_affinity([cache["profiles"][k]["shares"] for k in others],
                            [means[k] for k in others], f"the {len(others)} other real sets")
        rec = recommend_fusion(as_profile(cache["profiles"][key]), affinity=aff)
        real_only = recommend_fusion(as_profile(cache["profiles"][key]), affinity=real_affinity(
            [cache["profiles"][k]["shares"] for k in others], [means[k] for k in others],
            "real only", synthetic=False))
        rel_others = {m: np.mean([means[k][m] / max(means[k].values()) for k in others])
                      for m in acc}
        choice = {"recommender": rec.best, "top score": rec.ranking[0].name,
                  "recommender, real only": real_only.best,
                  "always late": "late", "always tensor": "tensor",
                  "always ensemble": ENSEMBLE,
                  "best on others": max(rel_others, key=rel_others.get)}
        best = max(acc.values())
        order = sorted(acc, key=acc.get, reverse=True)
        row = {"set": key, "best": order[0], "best_accuracy": best,
               "seeds": min(len(v) for v in measured[key].values()),
               "seed_sd": float(np.mean([np.std(v, ddof=1) if len(v) > 1 else np.nan
                                         for v in measured[key].values()])),
               "separated": rec.separated, "why": rec.why,
               "within_noise": [r.name for r in rec.ranking if r.within_noise],
               "choice": choice, "regret": {}, "rank": {}}
        for policy, model in choice.items():
            row["regret"][policy] = 1.0 - acc[model] / best
            row["rank"][policy] = order.index(model) + 1
        row["regret"]["random"] = float(np.mean([1.0 - a / best for a in acc.values()]))
        row["rank"]["random"] = (len(acc) + 1) / 2
        rows.append(row)
    return {"rows": rows, "accuracy": means}


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {p: {"relative": 100 * (1 - float(np.mean([r["regret"][p] for r in rows]))),
                "worst": 100 * (1 - max(r["regret"][p] for r in rows)),
                "within_1pct": float(np.mean([r["regret"][p] <= 0.01 for r in rows])),
                "rank": float(np.mean([r["rank"][p] for r in rows]))} for p in POLICIES}


def write_figure(rows: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = ("#000000", "#E69F00", "#999999", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
               "#D55E00")
    hatches = ("", "//", "\\\\", "", "..", "", "xx", "")
    fig, ax = plt.subplots(figsize=(11, 4.2))
    width = 0.8 / len(POLICIES)
    x = np.arange(len(rows))
    for j, policy in enumerate(POLICIES):
        ax.bar(x + (j - len(POLICIES) / 2 + 0.5) * width,
               [100 * r["regret"][policy] for r in rows], width, label=policy,
               color=colours[j], hatch=hatches[j], edgecolor="#444444", linewidth=0.4)
    ax.set_xticks(x, [r["set"].replace("->", "\n-> ") for r in rows], fontsize=7)
    ax.set_ylabel("regret (% below the best model)")
    ax.set_title("Leave-one-dataset-out: regret of each policy on each real set")
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_markdown(result: dict[str, Any], cache: dict[str, Any], path: Path) -> None:
    from interplay._atomic import atomic_write_text

    rows, summ = result["rows"], result["summary"]
    lines = ["# Model selection on real data (leave one dataset out)", "",
             "Written by `benchmarks/model_selection_real.py` from "
             "`benchmarks/results/model_selection_real.json`.", "",
             "## Summary over the sets", "",
             "| policy | mean % of best | worst % of best | within 1% of best | mean rank |",
             "|---|---:|---:|---:|---:|"]
    for p, v in summ.items():
        lines.append(f"| {p} | {v['relative']:.2f}% | {v['worst']:.2f}% | "
                     f"{v['within_1pct']:.0%} | {v['rank']:.1f} |")
    lines += ["", "## Per set", "",
              "| set | seeds | best model (acc.) | seed sd | profile R/U1/U2/S | separated | "
              "recommended | regret | rank | best on others | regret |",
              "|---|---:|---|---:|---|---|---|---:|---:|---|---:|"]
    for r in rows:
        sh = cache["profiles"][r["set"]]["shares"]
        lines.append(
            f"| {r['set']} | {r['seeds']} | {r['best']} ({r['best_accuracy']:.3f}) | "
            f"{r['seed_sd']:.3f} | " + "/".join(f"{sh[a]:.2f}" for a in
                                                ("redundancy", "unique1", "unique2", "synergy"))
            + f" | {'yes' if r['separated'] else 'no'} | {r['choice']['recommender']} | "
            f"{100 * r['regret']['recommender']:.2f}% | {r['rank']['recommender']} | "
            f"{r['choice']['best on others']} | {100 * r['regret']['best on others']:.2f}% |")
    lines += ["", "## Accuracy of every candidate (mean over seeds)", ""]
    names = sorted(next(iter(result["accuracy"].values())))
    lines += ["| set | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    shown = dict(result["accuracy"])
    for spec in SETS:
        if spec.key in EXCLUDED and (acc := accuracies(cache, spec)) is not None:
            shown[spec.key + " (excluded)"] = {n: float(np.mean(v)) for n, v in acc.items()}
    for key, acc in shown.items():
        lines.append(f"| {key} | " + " | ".join(f"{acc[n]:.3f}" for n in names) + " |")
    lines += ["", "Excluded from the summary and the calibration:", ""]
    lines += [f"- `{k}`: {why}." for k, why in EXCLUDED.items()]
    atomic_write_text(path, "\n".join(lines) + "\n")


def analyse(cache: dict[str, Any], sets: Sequence[PairSet]) -> dict[str, Any]:
    """Leave-one-dataset-out tables, figure, and the default affinity table from every set."""
    result = leave_one_out(cache, sets)
    if len(result["rows"]) < 2:
        print("fewer than two sets measured: nothing to analyse yet")
        return result
    result["summary"] = summary(result["rows"])
    for p, v in result["summary"].items():
        print(f"{p:16s} {v['relative']:6.2f}% of best (worst {v['worst']:.2f}%), "
              f"within 1%: {v['within_1pct']:.0%}, mean rank {v['rank']:.1f}")
    write_markdown(result, cache, RESULTS / "model_selection_real.md")
    write_figure(result["rows"], ROOT / "docs" / "figures" / "model_selection_real_regret.svg")
    means = result["accuracy"]
    aff = real_affinity([cache["profiles"][k]["shares"] for k in means], list(means.values()),
                        f"{len(means)} real sets of benchmarks/model_selection_real.py "
                        "(redundancy, unique) and the synthetic suite of "
                        "benchmarks/model_selection_study.py (synergy)")
    result["default_affinity"] = aff.to_dict()
    return result


# ------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true",
                        help="train and profile what the cache lacks (slow), then analyse")
    parser.add_argument("--sets", nargs="+", default=None, help="only these set keys")
    parser.add_argument("--print-default", action="store_true",
                        help="print the affinity table calibrated on every measured set")
    args = parser.parse_args(argv)
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
    result = analyse(cache, SETS)
    if args.print_default and "default_affinity" in result:
        print(json.dumps(result["default_affinity"], indent=1))


if __name__ == "__main__":
    main()
