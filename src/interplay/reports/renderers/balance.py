"""``modality_shapley`` results (``ModalityShapley.to_json()``): each modality's Shapley
contribution to a model's score, and the score of every subset of modalities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import colour, draw, fmt
from .._registry import Renderer, register_renderer
from ._common import section, table


def _paint(ax: Any, values: Mapping[str, float], metric: str) -> None:
    names = list(values)
    ax.bar(range(len(names)), [values[n] for n in names],
           color=[colour(i) for i in range(len(names))])
    ax.axhline(0, color="#888", linewidth=0.6)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel(f"Shapley contribution to {metric}")


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    metric = data["metric"]
    values = data["values"]
    figure = draw(lambda fig, ax: _paint(ax, values, metric),
                  width=max(3.0, 1.0 + 0.9 * len(values)), height=2.8,
                  alt="Shapley contribution of each modality",
                  caption=(f"Each modality's exact Shapley contribution to the model's {metric}: "
                           "its added score averaged over every order in which the modalities "
                           "are switched on (absent ones masked). The contributions add up to "
                           "the score with every modality minus the score with none."))
    subsets = sorted(data["subsets"].items(), key=lambda kv: (kv[0].count("+"), kv[0]))
    rows = [[name or "(none)", fmt(score)] for name, score in subsets]
    return section(lead=(f"Imbalance {fmt(data['imbalance'])}: 0 when every modality contributes "
                         "equally, 1 when one does all the work."),
                   figures=[figure],
                   tables=[table(["modality", "contribution"],
                                 [[m, fmt(v)] for m, v in values.items()], "Shapley values"),
                           table(["modalities present", metric], rows,
                                 f"{metric} of every subset of modalities")])


register_renderer(Renderer(kind="modality_shapley", title="Modality contributions (Shapley)",
                           template="balance.html.j2", build=build))
