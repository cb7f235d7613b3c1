"""The per-modality embeddings part of an ``evaluation`` result: retrieval between modality
pairs, alignment, the modality gap and linear-probe accuracy (tables and one figure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._figures import PALETTE, Figure, draw, mean_std
from ._common import table


def _ms(stats: Mapping[str, Any] | None, digits: int = 3) -> str:
    return "-" if stats is None else mean_std(stats["mean"], stats.get("std"), digits)


def _mean(stats: Mapping[str, Any] | None) -> float:
    return float("nan") if stats is None or stats["mean"] is None else float(stats["mean"])


def _std(stats: Mapping[str, Any] | None) -> float:
    return 0.0 if stats is None or stats.get("std") is None else float(stats["std"])


def _paint(axes: Any, reps: Mapping[str, Any]) -> None:
    ax = axes[0] if isinstance(axes, np.ndarray) else axes
    pairs = [p for p in reps["pairs"] if "a_to_b_R@1" in p["metrics"]]
    labels = [" → ".join(p["modalities"]) for p in pairs]
    x = np.arange(len(pairs))
    for j, key in enumerate(("R@1", "R@10")):
        stats = [p["metrics"][f"a_to_b_{key}"] for p in pairs]
        ax.bar(x - 0.2 + 0.4 * j, [_mean(s) for s in stats], 0.38,
               yerr=[_std(s) for s in stats], capsize=3, color=PALETTE[j], label=key,
               error_kw={"linewidth": 1})
        ax.axhline(reps["chance"][key], color=PALETTE[j], linestyle=":", linewidth=1)
    ax.set_xticks(x, labels, rotation=30 if len(pairs) > 3 else 0, ha="right"
                  if len(pairs) > 3 else "center")
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("recall")
    ax.set_title("retrieval a → b (dotted: chance)")
    ax.legend(frameon=False, ncols=2, loc="upper left")
    if isinstance(axes, np.ndarray) and reps.get("probe"):
        names = list(reps["probe"])
        stats = [reps["probe"][n] for n in names]
        axes[1].bar(np.arange(len(names)), [_mean(s) for s in stats], 0.6,
                    yerr=[_std(s) for s in stats], capsize=3, color=PALETTE[2],
                    error_kw={"linewidth": 1})
        axes[1].set_xticks(np.arange(len(names)), names)
        axes[1].set_ylim(0, 1)
        axes[1].set_ylabel("test accuracy")
        axes[1].set_title("linear probe on the embeddings")


def representation_parts(reps: Mapping[str, Any],
                         spread: str) -> tuple[list[Figure], list[dict[str, Any]], list[str]]:
    """Figures, tables and notes for ``result["representations"]``."""
    chance = reps["chance"]
    rows = []
    for p in reps["pairs"]:
        m = p["metrics"]
        rows.append([" → ".join(p["modalities"]), _ms(m.get("a_to_b_R@1")),
                     _ms(m.get("a_to_b_R@10")), _ms(m.get("a_to_b_median_rank"), 1),
                     _ms(m.get("b_to_a_R@1")), _ms(m.get("b_to_a_R@10")), _ms(m["mutual_knn"]),
                     _ms(m["cka"]), _ms(m["gap"])])
    rows.append(["chance", mean_std(chance["R@1"], None), mean_std(chance["R@10"], None),
                 mean_std(chance["median_rank"], None, 1), mean_std(chance["R@1"], None),
                 mean_std(chance["R@10"], None), "", "", ""])
    what = f" ({reps['objective']} objective)" if reps.get("objective") else ""
    tables = [table(["a → b", "R@1", "R@10", "median rank", "b → a R@1", "b → a R@10",
                     "mutual kNN", "CKA", "gap"], rows,
                    f"Representations{what} on {reps['n_samples']} test samples, {spread} "
                    "(each modality's encoder embedding, or the factors the objective trains): "
                    "retrieval of the paired sample among all test samples (cosine "
                    "similarity), mutual 10-NN overlap, debiased linear CKA, and the modality "
                    "gap (distance between the means of the unit-normalised embeddings).")]
    if reps.get("probe"):
        tables.append(table(["embedding", "probe test accuracy"],
                            [[name, _ms(s)] for name, s in reps["probe"].items()],
                            "Linear probe (logistic regression fitted on the training split's "
                            "embeddings, C chosen on 20% of it) on each modality's embedding "
                            "and on all of them concatenated"))
    notes = [f"{' and '.join(p['modalities'])}: {p['note']}" for p in reps["pairs"]
             if p.get("note")]
    figures = []
    if any("a_to_b_R@1" in p["metrics"] for p in reps["pairs"]):
        ncols = 2 if reps.get("probe") else 1
        figures.append(draw(lambda fig, axes: _paint(axes, reps), ncols=ncols,
                            width=4.0 * ncols + 1.0, height=3.0,
                            alt="cross-modal retrieval and probe accuracy",
                            caption=("R@1 and R@10 of retrieving each pair's second "
                                     "modality from its first, dotted lines at chance"
                                     + ("; right: linear-probe test accuracy" if ncols == 2
                                        else "")
                                     + f". Whiskers ±1 std over seeds ({spread}).")))
    return figures, tables, notes
