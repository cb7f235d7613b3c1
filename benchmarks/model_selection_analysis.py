"""Leave-one-dataset-out analysis shared by the model-selection benchmarks.

Used by ``benchmarks/model_selection_real.py`` (real modality sets) and
``benchmarks/model_selection_hard.py`` (the hard synthetic suite). A *case* is one dataset with
the mean test accuracy of every candidate (every fusion, the balanced trainings of
``interplay.analysis.recommend.BALANCED`` and the unimodal ensemble), its
interaction profile (estimated on the training split with ``recommend``'s defaults) and the
test accuracy of each unimodal model.

For each held-out case the recommender is calibrated on a *pool* that leaves it out: the other
cases of its own suite plus every case of the other suite. The affinity table takes its
redundancy and unique columns from the real cases of the pool and its synergy column from the
synthetic cases of the pool (the only ones with learnable synergy and a measured unimodal
ensemble on it). The ensemble's unimodal-skill gate is recommend's fixed default
(``ENSEMBLE_MIN_SKILL``, 0.5), not fitted. Nothing of the held-out case enters its own
recommendation except its profile and its unimodal accuracies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENSEMBLE = "ensemble"
#: Policies in the tables and the figure, in this order.
POLICIES = ("recommender", "recommender, no unimodal gate", "top score",
            "recommender + balanced", "unimodal skill, no PID", "always late", "always tensor",
            "always ensemble", "best on others", "random")


def fusion_and_balancer(name: str) -> tuple[str, Any]:
    """The registered fusion of candidate ``name`` and a fresh balancer to train it with (None
    for a plain fusion; a balanced training of ``interplay.analysis.recommend.BALANCED``
    otherwise)."""
    from interplay.analysis.recommend import BALANCED
    from interplay.balance import create_balancer

    if name not in BALANCED:
        return name, None
    fusion, balancer, options = BALANCED[name]
    return fusion, create_balancer(balancer, **dict(options))


@dataclass(frozen=True)
class Case:
    """One dataset of a suite."""

    key: str
    suite: str                       # "real" or "synthetic"
    accuracy: dict[str, float]       # mean test accuracy per candidate
    seeds: int
    seed_sd: float
    profile: dict[str, Any]          # cached InteractionProfile.to_dict()
    unimodal: tuple[float, float]    # mean test accuracy of X1 alone, X2 alone
    n_classes: int

    @property
    def relative(self) -> dict[str, float]:
        best = max(self.accuracy.values())
        return {m: a / best for m, a in self.accuracy.items()}

    @property
    def skill(self) -> float:
        from interplay.analysis.recommend import unimodal_skill

        return max(unimodal_skill(a, self.n_classes) for a in self.unimodal)


def as_profile(entry: dict[str, Any]) -> Any:
    """The cached profile as something :func:`recommend_fusion` reads (shares and intervals)."""
    from interplay.analysis.recommend import InteractionProfile
    from interplay.info.pid import PIDResult

    fields = {k: v for k, v in entry["pid"].items() if k in PIDResult.__dataclass_fields__}
    fields.update(ci=None, p_values=None, diagnostics=None,
                  warnings=tuple(fields.get("warnings") or ()))
    ci = entry.get("share_ci")
    return InteractionProfile(shares=entry["shares"], pid=PIDResult(**fields),
                              estimator=entry["estimator"], reason=entry["reason"],
                              share_ci=None if ci is None else {k: tuple(v)
                                                                for k, v in ci.items()})


def affinity_for(pool: Sequence[Case], source: str) -> Any:
    """Redundancy and unique columns from the real cases of ``pool``, synergy from its
    synthetic cases."""
    from interplay.analysis.recommend import FusionAffinity, calibrate_affinity

    def calibrate(cases: Sequence[Case]) -> Any:
        return calibrate_affinity([c.profile["shares"] for c in cases],
                                  [c.accuracy for c in cases])

    real = calibrate([c for c in pool if c.suite == "real"])
    synthetic = calibrate([c for c in pool if c.suite == "synthetic"])
    table = {f: {**row, "synergy": synthetic.table[f]["synergy"]}
             for f, row in real.table.items()}
    spread = {f: {**row, "synergy": synthetic.spread[f]["synergy"]}
              for f, row in real.spread.items()}
    return FusionAffinity(table=table, source=source, n_datasets=len(pool), spread=spread)


def leave_one_out(held: Sequence[Case], extra: Sequence[Case]) -> list[dict[str, Any]]:
    """Every policy's pick, regret and rank on each case of ``held``, calibrated on the others
    and on ``extra``. The recommender ranks what ``recommend`` ships as candidates (every
    fusion and the ensemble); "recommender + balanced" ranks the balanced trainings too."""
    from interplay.analysis.recommend import BALANCED, ENSEMBLE_MIN_SKILL, recommend_fusion

    rows = []
    for case in held:
        same = [c for c in held if c.key != case.key]
        pool = [*same, *extra]
        aff = affinity_for(pool, f"{len(pool)} other sets")
        profile = as_profile(case.profile)
        shipped = sorted(f for f in aff.table if f not in BALANCED)
        rec = recommend_fusion(profile, shipped, affinity=aff, unimodal_accuracy=case.unimodal,
                               n_classes=case.n_classes)
        ungated = recommend_fusion(profile, shipped, affinity=aff)
        balanced = recommend_fusion(profile, affinity=aff, unimodal_accuracy=case.unimodal,
                                    n_classes=case.n_classes)
        rel_others = {m: float(np.mean([c.relative[m] for c in same])) for m in case.accuracy}
        fusion_others = max((m for m in rel_others if m != ENSEMBLE), key=rel_others.get)
        no_pid = ENSEMBLE if case.skill >= ENSEMBLE_MIN_SKILL else fusion_others
        choice = {"recommender": rec.best, "recommender, no unimodal gate": ungated.best,
                  "top score": rec.ranking[0].name, "recommender + balanced": balanced.best,
                  "unimodal skill, no PID": no_pid,
                  "always late": "late",
                  "always tensor": "tensor", "always ensemble": ENSEMBLE,
                  "best on others": max(rel_others, key=rel_others.get)}
        acc = case.accuracy
        best = max(acc.values())
        order = sorted(acc, key=acc.get, reverse=True)
        row = {"set": case.key, "best": order[0], "best_accuracy": best, "seeds": case.seeds,
               "seed_sd": case.seed_sd, "skill": case.skill,
               "separated": rec.separated, "why": rec.why,
               "within_noise": [r.name for r in rec.ranking if r.within_noise],
               "choice": choice, "regret": {}, "rank": {}}
        for policy, model in choice.items():
            row["regret"][policy] = 1.0 - acc[model] / best
            row["rank"][policy] = order.index(model) + 1
        row["regret"]["random"] = float(np.mean([1.0 - a / best for a in acc.values()]))
        row["rank"]["random"] = (len(acc) + 1) / 2
        rows.append(row)
    return rows


def summary(rows: Sequence[dict[str, Any]], cases: Sequence[Case]) -> dict[str, Any]:
    """Mean and worst % of the best, share within 1%, mean rank per policy; and the best fixed
    policy in hindsight (the one candidate with the best mean relative accuracy)."""
    out: dict[str, Any] = {
        p: {"relative": 100 * (1 - float(np.mean([r["regret"][p] for r in rows]))),
            "worst": 100 * (1 - max(r["regret"][p] for r in rows)),
            "within_1pct": float(np.mean([r["regret"][p] <= 0.01 for r in rows])),
            "rank": float(np.mean([r["rank"][p] for r in rows]))} for p in POLICIES}
    means = {m: 100 * float(np.mean([c.relative[m] for c in cases])) for m in cases[0].accuracy}
    fixed = max(means, key=means.get)
    out["best fixed in hindsight"] = {"model": fixed, "relative": means[fixed]}
    out["fixed"] = {m: {"relative": means[m],
                        "worst": 100 * min(c.relative[m] for c in cases),
                        "within_1pct": float(np.mean([c.relative[m] >= 0.99 for c in cases])),
                        "rank": float(np.mean([sorted(c.accuracy, key=c.accuracy.get,
                                                      reverse=True).index(m) + 1
                                               for c in cases]))}
                    for m in sorted(means, key=means.get, reverse=True)}
    return out


def write_figure(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "model-selection"  # the same figure, the same bytes

    colours = ("#000000", "#E69F00", "#999999", "#882255", "#CC79A7", "#56B4E9", "#009E73",
               "#F0E442", "#0072B2", "#D55E00")
    hatches = ("", "//", "\\\\", "oo", "++", "", "..", "", "xx", "")
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(rows)), 5.0))
    width = 0.8 / len(POLICIES)
    x = np.arange(len(rows))
    for j, policy in enumerate(POLICIES):
        ax.bar(x + (j - len(POLICIES) / 2 + 0.5) * width,
               [100 * r["regret"][policy] for r in rows], width, label=policy,
               color=colours[j], hatch=hatches[j], edgecolor="#444444", linewidth=0.4)
    ax.set_xticks(x, [r["set"].replace("->", "\n-> ").replace(":", ":\n") for r in rows],
                  fontsize=6.5)
    ax.set_yscale("symlog", linthresh=1.0)  # linear below 1%, where the goal is judged
    ax.axhline(1.0, color="#444444", linewidth=0.6, linestyle=":")
    ax.set_ylabel("regret (% below the best model; log above 1%)")
    ax.set_title(f"Leave-one-dataset-out: regret of each policy ({title})")
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.2),
              frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)


def markdown(rows: Sequence[dict[str, Any]], summ: dict[str, Any], cases: Sequence[Case],
             title: str, source: str, shown: dict[str, dict[str, float]] | None = None,
             notes: Sequence[str] = ()) -> str:
    lines = [f"# Model selection, leave one dataset out: {title}", "",
             f"Written by {source}.", "",
             "## Summary over the sets", "",
             "| policy | mean % of best | worst % of best | within 1% of best | mean rank |",
             "|---|---:|---:|---:|---:|"]
    for p in POLICIES:
        v = summ[p]
        lines.append(f"| {p} | {v['relative']:.2f}% | {v['worst']:.2f}% | "
                     f"{v['within_1pct']:.0%} | {v['rank']:.1f} |")
    fixed = summ["best fixed in hindsight"]
    lines += ["", f"Best fixed policy in hindsight: always {fixed['model']}, "
              f"{fixed['relative']:.2f}% of the best on average.", "",
              "## Every fixed policy (always one candidate)", "",
              "| always | mean % of best | worst % of best | within 1% of best | mean rank |",
              "|---|---:|---:|---:|---:|"]
    lines += [f"| {m} | {v['relative']:.2f}% | {v['worst']:.2f}% | {v['within_1pct']:.0%} | "
              f"{v['rank']:.1f} |" for m, v in summ["fixed"].items()]
    lines += ["", "## Per set", "",
              "| set | seeds | best model (acc.) | seed sd | profile R/U1/U2/S | unimodal skill "
              "| separated | recommended | regret | rank | best on others | regret |",
              "|---|---:|---|---:|---|---:|---|---|---:|---:|---|---:|"]
    by_key = {c.key: c for c in cases}
    for r in rows:
        sh = by_key[r["set"]].profile["shares"]
        lines.append(
            f"| {r['set']} | {r['seeds']} | {r['best']} ({r['best_accuracy']:.3f}) | "
            f"{r['seed_sd']:.3f} | " + "/".join(f"{sh[a]:.2f}" for a in
                                                ("redundancy", "unique1", "unique2", "synergy"))
            + f" | {round(r['skill'], 2) + 0.0:.2f} | "
            f"{'yes' if r['separated'] else 'no'} | {r['choice']['recommender']} | "
            f"{100 * r['regret']['recommender']:.2f}% | {r['rank']['recommender']} | "
            f"{r['choice']['best on others']} | {100 * r['regret']['best on others']:.2f}% |")
    lines += ["", "## Regret per set and policy (%)", "",
              "| set | " + " | ".join(POLICIES) + " |", "|---|" + "---:|" * len(POLICIES)]
    for r in rows:
        lines.append(f"| {r['set']} | " + " | ".join(f"{100 * r['regret'][p]:.2f}"
                                                     for p in POLICIES) + " |")
    table = {c.key: c.accuracy for c in cases} | dict(shown or {})
    names = sorted(cases[0].accuracy)
    lines += ["", "## Test accuracy of every candidate (mean over seeds)", "",
              "| set | X1 alone | X2 alone | " + " | ".join(names) + " |",
              "|---|---:|---:|" + "---:|" * len(names)]
    uni = {c.key: c.unimodal for c in cases}
    for key, acc in table.items():
        u = uni.get(key)
        lines.append(f"| {key} | " + ("| |" if u is None else f"{u[0]:.3f} | {u[1]:.3f} |")
                     + " " + " | ".join(f"{acc[n]:.3f}" for n in names) + " |")
    lines += ["", *notes]
    return "\n".join(lines) + "\n"


def analyse_suite(held: Sequence[Case], extra: Sequence[Case], *, title: str, stem: str,
                  root: Path, source: str, shown: dict[str, dict[str, float]] | None = None,
                  notes: Sequence[str] = ()) -> dict[str, Any]:
    """Leave-one-out over ``held`` (calibrated on the rest and ``extra``): print the summary,
    write ``benchmarks/results/<stem>.md`` and ``docs/figures/<stem>_regret.svg``."""
    from interplay._atomic import atomic_write_text

    rows = leave_one_out(held, extra)
    summ = summary(rows, held)
    for p in POLICIES:
        v = summ[p]
        print(f"{p:30s} {v['relative']:6.2f}% of best (worst {v['worst']:.2f}%), "
              f"within 1%: {v['within_1pct']:.0%}, mean rank {v['rank']:.1f}")
    fixed = summ["best fixed in hindsight"]
    print(f"best fixed in hindsight: {fixed['model']} {fixed['relative']:.2f}%")
    atomic_write_text(root / "benchmarks" / "results" / f"{stem}.md",
                      markdown(rows, summ, held, title, source, shown, notes))
    write_figure(rows, root / "docs" / "figures" / f"{stem}_regret.svg", title)
    return {"rows": rows, "summary": summ}
