"""Pieces shared by the renderers: section defaults, PID bar charts, tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._figures import ATOM_COLOURS, ATOM_LABELS, fmt, interval

ATOMS = ("redundancy", "unique1", "unique2", "synergy")
ATOM_NAMES = {"redundancy": "R  redundancy", "unique1": "U1 unique to X1",
              "unique2": "U2 unique to X2", "synergy": "S  synergy"}


def section(**context: Any) -> dict[str, Any]:
    """A section's template variables with the empty defaults every template may use."""
    base: dict[str, Any] = {"lead": None, "highlight": None, "figures": [], "tables": [],
                            "notes": [], "warnings": [], "subtitle": None}
    base.update(context)
    return base


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str | None = None,
          text_columns: Sequence[str] = ()) -> dict[str, Any]:
    """A table for the ``table`` macro of ``sections/_base.html.j2``."""
    return {"headers": list(headers), "rows": [list(r) for r in rows], "caption": caption,
            "text_columns": list(text_columns)}


def has_keys(data: Mapping[str, Any], *keys: str) -> bool:
    """True when every key is in ``data``."""
    return all(k in data for k in keys)


def is_pid(data: Any) -> bool:
    """True for the dictionary of a PIDResult."""
    return (isinstance(data, Mapping) and has_keys(data, *ATOMS, "mi_joint", "mi_x1", "mi_x2")
            and all(isinstance(data[a], (int, float)) for a in ATOMS))


def units(data: Mapping[str, Any]) -> str:
    """The units of a PID dictionary (bits unless it says otherwise)."""
    return str(data.get("units") or "bits")


def pid_table(pid: Mapping[str, Any], caption: str | None = None,
              labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The four atoms with their interval and p-value when present."""
    names = {**ATOM_NAMES, **(labels or {})}
    headers = ["atom", f"value ({units(pid)})"]
    ci, p_values = pid.get("ci"), pid.get("p_values")
    if ci:
        level = (pid.get("settings") or {}).get("confidence", 0.95)
        headers.append(f"{level:.0%} interval")
    if p_values:
        headers.append("p-value")
    rows = []
    for atom in ATOMS:
        row = [names[atom], fmt(pid[atom], 4)]
        if ci:
            row.append(interval(ci.get(atom), 4))
        if p_values:
            row.append(_p(p_values.get(atom)))
        rows.append(row)
    rows.append(["I(X1,X2;Y) total", fmt(pid["mi_joint"], 4), *[""] * (len(headers) - 2)])
    return table(headers, rows, caption)


def _p(value: Any) -> str:
    return "-" if value is None else f"{value:.3g}"


def paint_atoms(ax: Any, pids: Sequence[Mapping[str, Any]], names: Sequence[str],
                ylabel: str) -> None:
    """Grouped bars of the four atoms for one or more PIDs, with interval whiskers and
    p-values (when the PIDs carry them) above the bars."""
    import numpy as np

    n = len(pids)
    width = 0.8 / n
    x = np.arange(len(ATOMS))
    hatches = ("", "//", "..", "xx")
    for j, (pid, name) in enumerate(zip(pids, names, strict=True)):
        values = [pid[a] or 0.0 for a in ATOMS]
        offsets = x - 0.4 + width * (j + 0.5)
        bars = ax.bar(offsets, values, width * 0.92, color=[ATOM_COLOURS[a] for a in ATOMS],
                      hatch=hatches[j % len(hatches)], edgecolor="white" if j == 0 else "#333",
                      linewidth=0.6, label=name)
        ci = pid.get("ci")
        if ci:
            lows = [values[i] - ci[a][0] for i, a in enumerate(ATOMS)]
            highs = [ci[a][1] - values[i] for i, a in enumerate(ATOMS)]
            ax.errorbar(offsets, values, yerr=[np.clip(lows, 0, None), np.clip(highs, 0, None)],
                        fmt="none", ecolor="#222", capsize=3, linewidth=1)
        p_values = pid.get("p_values")
        if p_values:
            tops = [ci[a][1] if ci else values[i] for i, a in enumerate(ATOMS)]
            for bar, top, atom in zip(bars, tops, ATOMS, strict=True):
                ax.annotate(f"p={_p(p_values.get(atom))}", (bar.get_x() + bar.get_width() / 2, top),
                            xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7)
    ax.set_xticks(x, [f"{ATOM_LABELS[a]}" for a in ATOMS])
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="#888", linewidth=0.6)
    ax.margins(y=0.15)
    if n > 1:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(facecolor="#bbb", hatch=hatches[j % len(hatches)],
                                 edgecolor="#333", label=name) for j, name in enumerate(names)],
                  frameon=False)


def paint_stack(ax: Any, pid: Mapping[str, Any], ylabel: str) -> None:
    """How the atoms add up: I(X1;Y) = R + U1, I(X2;Y) = R + U2, I(X1,X2;Y) = R + U1 + U2 + S."""
    parts = {"I(X1;Y)": ("redundancy", "unique1"), "I(X2;Y)": ("redundancy", "unique2"),
             "I(X1,X2;Y)": ATOMS}
    for i, atoms in enumerate(parts.values()):
        bottom = 0.0
        for atom in atoms:
            value = max(pid[atom] or 0.0, 0.0)
            ax.bar(i, value, 0.6, bottom=bottom, color=ATOM_COLOURS[atom],
                   label=ATOM_LABELS[atom] if i == 2 else None, edgecolor="white", linewidth=0.6)
            bottom += value
    ax.set_xticks(range(3), list(parts))
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, ncols=4, loc="upper left", bbox_to_anchor=(0, 1.12))
