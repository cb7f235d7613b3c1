"""Figures for reports: matplotlib (Agg, no pyplot state) to an inline SVG data URI.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); heat maps use ``cividis``, readable in grey and by colour-blind readers.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Okabe & Ito (2008) colours, in the order curves and bars take them.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
#: One colour per PID atom, the same in every figure.
ATOM_COLOURS = {"redundancy": "#0072B2", "unique1": "#E69F00", "unique2": "#009E73",
                "synergy": "#CC79A7"}
ATOM_LABELS = {"redundancy": "R", "unique1": "U1", "unique2": "U2", "synergy": "S"}
HEATMAP = "cividis"

_STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.spines.top": False,
    "axes.spines.right": False, "svg.fonttype": "none", "svg.hashsalt": "interplay",
    "font.family": ["DejaVu Sans", "sans-serif"],
}


@dataclass(frozen=True)
class Figure:
    """A figure ready for a page: an image data URI, its alternative text and caption."""

    uri: str
    alt: str
    caption: str


def draw(paint: Callable[[Any, Any], None], *, alt: str, caption: str, width: float = 6.0,
         height: float = 3.2, ncols: int = 1) -> Figure:
    """Draw a figure with ``paint(fig, axes)`` in the report style and render it to SVG.

    The figure is a plain :class:`matplotlib.figure.Figure` on the Agg canvas (no pyplot, no
    global state); the SVG keeps its text as text and is embedded as a base64 ``data:`` URI,
    so the page needs no other file.
    """
    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    buffer = io.BytesIO()
    with matplotlib.rc_context(_STYLE):
        fig = MplFigure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(1, ncols, squeeze=True)
        paint(fig, axes)
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    uri = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Figure(uri=uri, alt=alt, caption=caption)


def colour(i: int) -> str:
    """The ``i``-th palette colour (cycling)."""
    return PALETTE[i % len(PALETTE)]


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: fixed digits, ``-`` for a missing value."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def mean_std(mean: Any, std: Any, digits: int = 3) -> str:
    """``0.912 ± 0.004`` (or the mean alone when there is no spread)."""
    if mean is None:
        return "-"
    return fmt(mean, digits) if std is None else f"{fmt(mean, digits)} ± {fmt(std, digits)}"


def interval(ci: Sequence[Any] | None, digits: int = 3) -> str:
    """``[lo, hi]`` or ``-``."""
    if ci is None:
        return "-"
    return f"[{fmt(ci[0], digits)}, {fmt(ci[1], digits)}]"
