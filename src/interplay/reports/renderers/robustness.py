"""``robustness`` results (a :class:`~interplay.analysis.RobustnessResult` as JSON): score with
each modality dropped and against the noise level, next to a baseline when there is one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._figures import PALETTE, draw, fmt
from .._registry import Renderer, register_renderer
from ._common import has_keys, section, table

Curves = Mapping[str, Mapping[str, Any]]


def paint_noise(axes: Any, levels: Sequence[float], model: Curves, baseline: Curves | None,
                names: tuple[str, str], metric: str, chance: float | None) -> None:
    """One panel per modality: the model's curve (mean, ±1 std band) and the baseline's."""
    axes = np.atleast_1d(axes)
    x = np.asarray(levels, dtype=float)
    for ax, modality in zip(axes, model, strict=False):
        for curves, name, colour, style in ((model, names[0], PALETTE[0], "-o"),
                                            (baseline, names[1], PALETTE[1], "--s")):
            if curves is None or modality not in curves:
                continue
            mean = np.asarray(curves[modality]["mean"], dtype=float)
            std = np.asarray([np.nan if s is None else s
                              for s in (curves[modality].get("std") or [None] * len(mean))],
                             dtype=float)
            ax.plot(x, mean, style, color=colour, label=name, markersize=3.5, linewidth=1.4)
            if np.isfinite(std).any():
                ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.18, linewidth=0)
        if chance is not None:
            ax.axhline(chance, color="#777", linestyle=":", linewidth=1, label="chance")
        ax.set_title(f"noise on {modality}")
        ax.set_xlabel("noise level (× std of the input)")
    axes[0].set_ylabel(metric)
    axes[0].legend(frameon=False, fontsize=7)


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    metric = data["metric"]
    levels = data["noise_levels"]
    curves = {m: {"mean": v, "std": (data.get("noisy_std") or {}).get(m)}
              for m, v in data["noisy"].items()}
    figure = draw(lambda fig, axes: paint_noise(axes, levels, curves, None, ("model", ""), metric,
                                                data.get("chance")),
                  ncols=len(curves), width=min(2.6 * len(curves) + 0.8, 10), height=2.8,
                  alt="robustness curves",
                  caption=(f"{metric} against the level of Gaussian noise added to one modality "
                           "(in units of that input's standard deviation), averaged over "
                           f"{data.get('n_repeats', 1)} draw(s); the band is ±1 std over the "
                           "draws; dotted: chance (most common class)."))
    rows = [["all modalities present", fmt(data["clean"])]]
    rows += [[f"{m} dropped", fmt(v)] for m, v in data["dropped"].items()]
    return section(figures=[figure],
                   tables=[table(["condition", metric], rows,
                                 f"{metric} on {data.get('n_samples', '?')} samples")])


def detect(data: Mapping[str, Any]) -> bool:
    return has_keys(data, "metric", "clean", "dropped", "noise_levels", "noisy")


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    settings = data.get("settings") or {}
    return {"seed": settings.get("random_state"), "settings": settings}


register_renderer(Renderer(kind="robustness", title="Robustness to missing and noisy modalities",
                           template="robustness.html.j2", build=build, detect=detect,
                           provenance=provenance))
