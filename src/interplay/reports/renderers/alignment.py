"""``alignment`` results (``interplay align --json``): representation-similarity scores against
their chance level and permutation null."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._figures import PALETTE, draw, fmt
from .._registry import Renderer, register_renderer
from ._common import section, table


def _label(name: str, row: Mapping[str, Any]) -> str:
    options = row.get("options") or {}
    return name + (f" (k={options['k']})" if "k" in options else "")


def _paint(ax: Any, metrics: Mapping[str, Mapping[str, Any]]) -> None:
    names = list(metrics)[::-1]
    y = np.arange(len(names))
    scores = [metrics[n]["score"] for n in names]
    ax.barh(y, scores, 0.6, color=PALETTE[0], label="score")
    for i, name in enumerate(names):
        row = metrics[name]
        if row.get("null_mean") is not None:
            ax.errorbar(row["null_mean"], i, xerr=2 * (row.get("null_std") or 0.0), fmt="o",
                        color=PALETTE[1], markersize=4, capsize=3,
                        label="permutation null (mean ± 2 sd)" if i == 0 else None)
        if row.get("chance") is not None:
            ax.plot([row["chance"]] * 2, [i - 0.35, i + 0.35], color="#222", linewidth=1.5,
                    label="analytic chance" if i == 0 else None)
    ax.set_yticks(y, [_label(n, metrics[n]) for n in names])
    ax.set_xlabel("similarity score (metric's own scale)")
    ax.axvline(0, color="#888", linewidth=0.6)
    ax.legend(frameon=False, fontsize=7, loc="lower right")


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    metrics = data["metrics"]
    inputs = data.get("inputs") or {}
    pair = f"{inputs.get('a', 'A')} and {inputs.get('b', 'B')}"
    figure = draw(lambda fig, ax: _paint(ax, metrics), width=6.0,
                  height=0.45 * len(metrics) + 1.2, alt=f"alignment of {pair}",
                  caption=(f"Representation similarity of {pair} ({data['n_samples']} paired "
                           f"samples; {data['d_a']} and {data['d_b']} dimensions) by each metric "
                           "(bars), against its analytic chance level (black tick) and, where "
                           "computed, the scores of randomly re-paired samples (orange: mean "
                           "± 2 sd)."))
    rows = []
    for name, row in metrics.items():
        null = "-" if row.get("null_mean") is None else \
            f"{fmt(row['null_mean'], 4)} ± {fmt(row.get('null_std'), 4)}"
        p = "-" if row.get("p_value") is None else f"{row['p_value']:.3g}"
        rows.append([_label(name, row), fmt(row["score"], 4), fmt(row.get("chance"), 4), null, p])
    return section(subtitle=pair, figures=[figure],
                   tables=[table(["metric", "score", "chance", "null mean ± sd", "p-value"],
                                 rows, "Alignment metrics")])


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    first = next(iter(data["metrics"].values()), {})
    return {"data": data.get("inputs"),
            "settings": {"k": data.get("k"), "clamp_quantile": data.get("clamp_quantile"),
                         "permutations": first.get("n_permutations")}}


register_renderer(Renderer(kind="alignment", title="Representation alignment",
                           template="alignment.html.j2", build=build, provenance=provenance))
