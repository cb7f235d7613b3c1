"""``analysis`` results (``interplay analyze``'s analysis.json): the run's headline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import fmt, mean_std
from .._registry import Renderer, register_renderer
from ._common import ATOM_NAMES, has_keys, section, table


def _pm(stats: Mapping[str, Any] | None) -> str:
    return "-" if not stats else mean_std(stats.get("mean"), stats.get("std"))


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    h = data["headline"]
    pair = h["pair"]
    shares = h["profile"]
    profile = ", ".join(f"{ATOM_NAMES[a].split()[0]} {100 * v:.0f}%" for a, v in shares.items())
    fusion = h.get("fusion") or h["recommended"]
    if h["recommended"] == "ensemble":
        highlight = (f"Recommended for {pair[0]} + {pair[1]} → {h['target']}: the unimodal "
                     "ensemble (no fusion is predicted to do better within the uncertainty). "
                     f"Test accuracy {_pm(h['accuracy'].get('ensemble'))}, against "
                     f"{_pm(h['accuracy']['fusion'])} for the {fusion} fusion trained beside it.")
    else:
        highlight = (f"Recommended fusion for {pair[0]} + {pair[1]} → {h['target']}: "
                     f"{fusion}. Test accuracy {_pm(h['accuracy']['fusion'])} against "
                     f"{_pm(h['accuracy'].get('ensemble'))} for the unimodal ensemble.")
    lead = (f"{h['dataset']}: {h['n_samples']} samples; modalities analysed: "
            f"{', '.join(h['modalities'])}; the most informative pair, {pair[0]} and {pair[1]}, "
            f"has the profile {profile} (shares of R + U1 + U2 + S).")
    rows = []
    for name, key in ((f"{fusion} fusion", "fusion"), ("unimodal ensemble", "ensemble")):
        if not h["accuracy"].get(key):
            continue
        dropped = h["dropped"].get(key) or {}
        rows.append([name, _pm(h["accuracy"][key]), *(_pm(dropped.get(m)) for m in pair)])
    tables = [table(["model", "test accuracy", *(f"{m} dropped" for m in pair)], rows,
                    "Test accuracy (mean ± std over seeds)")]
    if h.get("relative_robustness"):
        tables.append(table(
            ["noised modality", "relative robustness", "effective robustness"],
            [[m, fmt(v), fmt((h.get("effective_robustness") or {}).get(m))]
             for m, v in h["relative_robustness"].items()],
            "The fusion's robustness to noise against the ensemble (> 1 and > 0: more robust)"))
    tables.append(table(["step", "file", "seconds"],
                        [[s["step"], s["file"], fmt(s.get("seconds"), 1)] for s in data["steps"]],
                        f"Steps ({fmt(data.get('seconds'), 1)} s in all)",
                        text_columns=["file"]))
    notes = []
    if h.get("agreement") is not None:
        notes.append(f"Model-vs-data PID agreement α = {h['agreement']:.3f} bits (see the "
                     "evaluation section).")
    return section(subtitle=f"{h['dataset']}", highlight=highlight, lead=lead, tables=tables,
                   notes=notes)


def detect(data: Mapping[str, Any]) -> bool:
    return has_keys(data, "headline", "steps")


register_renderer(Renderer(kind="analysis", title="Analysis", template="analysis.html.j2",
                           build=build, detect=detect))
