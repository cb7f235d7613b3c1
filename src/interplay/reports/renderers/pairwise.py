"""``pairwise_pid`` results: the PID of every pair of modalities about one target, as heat maps
of redundancy, unique information and synergy, and bars with bootstrap whiskers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._figures import HEATMAP, draw, fmt, interval
from .._registry import Renderer, register_renderer
from ._common import ATOMS, has_keys, section, table, units


def pairs_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{"x1", "x2", "pid"}]`` from analyze's format or from ``SweepResult.to_dict()``."""
    if "pairs" in data:
        return list(data["pairs"])
    out = []
    for i, task in enumerate(data["task"]):
        a, _, b = str(task).partition(", ")
        pid = {k: data[k][i] for k in (*ATOMS, "mi_joint", "mi_x1", "mi_x2") if k in data}
        if all(f"{a_}_low" in data for a_ in ATOMS):
            pid["ci"] = {a_: [data[f"{a_}_low"][i], data[f"{a_}_high"][i]] for a_ in ATOMS}
        out.append({"x1": a or str(task), "x2": b or "?", "pid": pid})
    return out


def _matrices(pairs: list[dict[str, Any]]) -> tuple[list[str], dict[str, np.ndarray]]:
    names: list[str] = []
    for p in pairs:
        for m in (p["x1"], p["x2"]):
            if m not in names:
                names.append(m)
    index = {m: i for i, m in enumerate(names)}
    mats = {k: np.full((len(names), len(names)), np.nan) for k in ("R", "U", "S")}
    for p in pairs:
        i, j, pid = index[p["x1"]], index[p["x2"]], p["pid"]
        for key, atom in (("R", "redundancy"), ("S", "synergy")):
            mats[key][i, j] = mats[key][j, i] = pid[atom]
        mats["U"][i, j] = pid["unique1"]
        mats["U"][j, i] = pid["unique2"]
    return names, mats


def _paint_maps(fig: Any, axes: Any, names: list[str], mats: dict[str, np.ndarray],
                unit: str) -> None:
    vmax = max(float(np.nanmax(m)) for m in mats.values() if np.isfinite(m).any()) or 1.0
    titles = {"R": "redundancy R", "U": "unique U (row's, against column)", "S": "synergy S"}
    image = None
    for ax, key in zip(axes, ("R", "U", "S"), strict=True):
        image = ax.imshow(mats[key], cmap=HEATMAP, vmin=0, vmax=vmax)
        ax.set_title(titles[key])
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names if key == "R" else [""] * len(names))
        for (i, j), value in np.ndenumerate(mats[key]):
            if np.isfinite(value) and len(names) <= 8:
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6.5,
                        color="black" if value > 0.6 * vmax else "white")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label=f"information ({unit})")


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    pairs = pairs_of(data)
    if not pairs:
        return section(lead="No pairs were analysed.")
    unit = units(pairs[0]["pid"])
    names, mats = _matrices(pairs)
    target = data.get("target") or "Y"
    figures = [draw(lambda fig, axes: _paint_maps(fig, axes, names, mats, unit), ncols=3,
                    width=min(3.0 * 3 + 1.2, 11), height=3.4,
                    alt="interaction map: redundancy, unique information and synergy per pair",
                    caption=(f"Interaction map: the PID of every pair of modalities about "
                             f"{target}, in {unit}. Redundancy and synergy are symmetric; the "
                             "unique-information map is read by row: cell (row, column) is the "
                             "information about the target that only the row modality has, "
                             "against the column modality. Empty cells: pair not analysed."))]
    labels = [f"{p['x1']}, {p['x2']}" for p in pairs]
    if len(pairs) <= 15:
        figures.append(draw(
            lambda fig, ax: _paint_pairs(ax, pairs, labels, unit),
            width=min(max(3.5, 1.0 + 0.6 * len(pairs)), 10), height=3.2,
            alt="PID atoms per pair with bootstrap intervals",
            caption=(f"The four PID atoms of each pair (X1, X2) about {target}, in {unit}"
                     + ("; whiskers: 95% bootstrap intervals." if any(
                         p["pid"].get("ci") for p in pairs) else "."))))
    has_ci = any(p["pid"].get("ci") for p in pairs)
    headers = ["X1", "X2", *(f"{a} ({unit})" for a in ("R", "U1", "U2", "S")),
               f"I(X1,X2;Y) ({unit})"]
    rows = []
    for p in pairs:
        pid, ci = p["pid"], p["pid"].get("ci") or {}
        rows.append([p["x1"], p["x2"],
                     *(fmt(pid[a]) + (f" {interval(ci.get(a))}" if has_ci else "")
                       for a in ATOMS), fmt(pid["mi_joint"])])
    notes = []
    disc = data.get("discretization")
    if disc:
        notes.append(f"Estimators per modality: {data.get('estimators')}; cluster estimator: "
                     f"{disc.get('n_components')} principal components, "
                     f"{disc.get('n_clusters')} k-means clusters per modality (seed "
                     f"{disc.get('random_state')}); the bootstrap ({data.get('n_bootstrap')} "
                     "resamples, 95% percentile intervals) holds the clustering fixed.")
    return section(subtitle=f"{len(pairs)} pair{'s' if len(pairs) > 1 else ''} about {target}",
                   figures=figures,
                   tables=[table(headers, rows, "PID of every pair"
                                 + (" (value [95% bootstrap interval])" if has_ci else ""),
                                 text_columns=["X2"])],
                   notes=notes)


def _paint_pairs(ax: Any, pairs: list[dict[str, Any]], labels: list[str], unit: str) -> None:
    from .._figures import ATOM_COLOURS, ATOM_LABELS

    x = np.arange(len(pairs))
    width = 0.8 / len(ATOMS)
    for k, atom in enumerate(ATOMS):
        values = np.array([p["pid"][atom] or 0.0 for p in pairs])
        offsets = x - 0.4 + width * (k + 0.5)
        ax.bar(offsets, values, width * 0.9, color=ATOM_COLOURS[atom], label=ATOM_LABELS[atom])
        cis = [(p["pid"].get("ci") or {}).get(atom) for p in pairs]
        if all(ci is not None for ci in cis):
            low = np.clip(values - np.array([ci[0] for ci in cis]), 0, None)
            high = np.clip(np.array([ci[1] for ci in cis]) - values, 0, None)
            ax.errorbar(offsets, values, yerr=[low, high], fmt="none", ecolor="#222",
                        capsize=2, linewidth=0.8)
    ax.set_xticks(x, labels, rotation=45 if len(pairs) > 4 else 0,
                  ha="right" if len(pairs) > 4 else "center")
    ax.set_ylabel(f"information ({unit})")
    ax.legend(frameon=False, ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0))


def detect(data: Mapping[str, Any]) -> bool:
    if has_keys(data, "pairs") and isinstance(data["pairs"], list):
        return all(isinstance(p, Mapping) and has_keys(p, "x1", "x2", "pid")
                   for p in data["pairs"])
    return has_keys(data, "task", *ATOMS) and isinstance(data["task"], list)


register_renderer(Renderer(kind="pairwise_pid", title="Pairwise PID", template="pairwise.html.j2",
                           build=build, detect=detect, aliases=("pid_sweep",)))
