"""``evaluation`` results (``interplay evaluate``'s evaluation.json): robustness curves against a
baseline, cross-modal consistency, and the model's PID next to the data's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._figures import PALETTE, draw, fmt, mean_std
from .._registry import Renderer, register_renderer
from ._common import section, table
from ._representations import representation_parts
from .model_pid import model_pid_parts
from .robustness import paint_noise


def _paint_dropped(ax: Any, model: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                   names: tuple[str, str], metric: str) -> None:
    conditions = ["none", *model["dropped"]]
    x = np.arange(len(conditions))
    runs = [(model, names[0], PALETTE[0])] + ([(baseline, names[1], PALETTE[1])]
                                              if baseline else [])
    width = 0.8 / len(runs)
    for j, (run, name, colour) in enumerate(runs):
        stats = [run["clean"], *(run["dropped"][m] for m in model["dropped"])]
        means = [s["mean"] for s in stats]
        stds = [0.0 if s.get("std") is None else s["std"] for s in stats]
        ax.bar(x - 0.4 + width * (j + 0.5), means, width * 0.92, yerr=stds, capsize=3,
               color=colour, label=name, error_kw={"linewidth": 1})
    if model.get("chance") is not None:
        ax.axhline(model["chance"], color="#777", linestyle=":", linewidth=1, label="chance")
    ax.set_xticks(x, conditions)
    ax.set_xlabel("modality dropped")
    ax.set_ylabel(metric)
    ax.legend(frameon=False, fontsize=7, ncols=3, loc="lower left", bbox_to_anchor=(0, 1.0))


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    model, baseline = data["model"], data.get("baseline")
    metric = model["metric"]
    levels = data["settings"]["noise_levels"]
    names = (f"{data.get('fusion', 'model')} fusion",
             (baseline or {}).get("name") or "baseline")
    seeds = data.get("seeds") or []
    spread = f"mean ± std over {len(seeds)} seeds" if len(seeds) > 1 else "one seed"
    figures = [
        draw(lambda fig, axes: paint_noise(axes, levels, model["noisy"],
                                           baseline["noisy"] if baseline else None, names,
                                           metric, model.get("chance")),
             ncols=len(model["noisy"]), width=min(2.7 * len(model["noisy"]) + 0.8, 10),
             height=2.9, alt="robustness curves against the baseline",
             caption=(f"Test {metric} against the level of Gaussian noise added to one modality "
                      "(in units of that input's standard deviation): the model (solid) and "
                      f"the baseline {names[1]} (dashed); bands ±1 std over seeds ({spread}); "
                      "dotted: chance.")),
        draw(lambda fig, ax: _paint_dropped(ax, model, baseline, names, metric), width=5.5,
             height=2.9, alt="score with each modality dropped",
             caption=(f"Test {metric} with every modality present and with each one dropped "
                      f"(its input zeroed and masked), {spread} as whiskers.")),
    ]
    rows = [["all present", mean_std(model["clean"]["mean"], model["clean"].get("std")),
             mean_std(baseline["clean"]["mean"], baseline["clean"].get("std"))
             if baseline else "-"]]
    for m, stats in model["dropped"].items():
        rows.append([f"{m} dropped", mean_std(stats["mean"], stats.get("std")),
                     mean_std(baseline["dropped"][m]["mean"], baseline["dropped"][m].get("std"))
                     if baseline else "-"])
    tables = [table(["condition", names[0], names[1] if baseline else "baseline"], rows,
                    f"Test {metric} ({spread})")]
    comparison = data.get("comparison")
    if comparison:
        tables.append(table(
            ["noised modality", "relative robustness", "effective robustness"],
            [[m, fmt(comparison["relative_robustness"].get(m)),
              fmt(comparison["effective_robustness"].get(m))]
             for m in comparison["effective_robustness"]],
            f"Robustness of the model against {names[1]} over the noise range (relative: "
            "ratio of curve areas, > 1 is more robust; effective: area gained once both "
            "curves start at 0, > 0 is more robust)"))
    if data.get("consistency"):
        tables.append(table(["modalities", "agreement of predictions"],
                            [[" and ".join(c["modalities"]), fmt(c["mean"])]
                             for c in data["consistency"]],
                            "Cross-modal consistency: how often the model predicts the same "
                            "class from each modality alone"))
    notes: list[str] = []
    warnings: list[str] = []
    if data.get("pid"):
        pid_figures, pid_tables, notes = model_pid_parts(data["pid"])
        figures += pid_figures
        tables += pid_tables
        warnings = list(data["pid"]["data"].get("warnings") or [])
    if data.get("representations"):
        rep_figures, rep_tables, rep_notes = representation_parts(data["representations"],
                                                                  spread)
        figures += rep_figures
        tables += rep_tables
        notes += rep_notes
    return section(subtitle=f"{names[0]} on {data.get('n_test_samples', '?')} test samples",
                   figures=figures, tables=tables, notes=notes, warnings=warnings)


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    settings = data.get("settings") or {}
    return {"data": data.get("run_dir"), "seed": settings.get("random_state"),
            "settings": settings}


def detect(data: Mapping[str, Any]) -> bool:
    return str(data.get("format", "")).startswith("interplay-evaluation/")


register_renderer(Renderer(kind="evaluation", title="Evaluation", template="evaluation.html.j2",
                           build=build, detect=detect, aliases=("evaluate",),
                           provenance=provenance))
