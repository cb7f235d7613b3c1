"""``model_pid`` results: the PID of a model's predictions next to the data's PID."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import draw, fmt
from .._registry import Renderer, register_renderer
from ._common import ATOM_NAMES, ATOMS, has_keys, paint_atoms, section, table, units


def model_pid_parts(block: Mapping[str, Any]) -> tuple[list[Any], list[Any], list[str]]:
    """Figure, tables and notes of a model-PID block (as ``evaluate`` writes it)."""
    data_pid = block["data"]
    model = block["model"]
    model_atoms = model["mean"] if "mean" in model else model
    u = units(data_pid)
    pair = block.get("modalities") or ["X1", "X2"]
    disc = block.get("discretization") or {}
    figure = draw(lambda fig, ax: paint_atoms(ax, [data_pid, model_atoms],
                                              ["data (true labels)", "model (its predictions)"],
                                              f"information ({u})"),
                  width=5.5, height=3.0, alt="model PID next to data PID",
                  caption=(f"PID atoms of {pair[0]} (X1) and {pair[1]} (X2) about the true "
                           "labels (plain bars) and about the model's predicted classes "
                           f"(hatched, mean over seeds), in {u}, on the same k-means "
                           f"discretization ({disc.get('n_clusters', '?')} clusters per "
                           f"modality, {disc.get('split', 'test')} split). A model that uses the "
                           "interactions the task needs has atoms like the data's."))
    rows = [[ATOM_NAMES[a], fmt(data_pid[a], 4), fmt(model_atoms[a], 4)] for a in ATOMS]
    agreement = (block.get("agreement") or {}).get("mean")
    notes = [f"Agreement α (Liang et al. 2023: the model's atoms weighted by the data's "
             f"shares) = {fmt(agreement, 4)} {u}."] if agreement is not None else []
    return ([figure], [table(["atom", f"data ({u})", f"model ({u})"], rows,
                             "Data PID and model PID")], notes)


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    figures, tables, notes = model_pid_parts(data)
    return section(figures=figures, tables=tables, notes=notes,
                   warnings=list(data["data"].get("warnings") or []))


def detect(data: Mapping[str, Any]) -> bool:
    return has_keys(data, "data", "model", "agreement") and isinstance(data["data"], Mapping) \
        and "redundancy" in data["data"]


register_renderer(Renderer(kind="model_pid", title="Model PID next to the data's",
                           template="model_pid.html.j2", build=build, detect=detect))
