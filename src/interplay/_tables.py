"""Plain-text tables of PID results, for the ``print()`` of result objects that hold several."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .info.pid.result import ATOMS, PIDResult

__all__ = ["atom_table"]


def atom_table(head: str, key: str, labels: Sequence[Any], results: Sequence[PIDResult],
               digits: int = 4, extra: Mapping[str, Sequence[float]] | None = None) -> str:
    """A plain-text table of the atoms and I(X1,X2;Y) of ``results``, one row per label.

    ``head`` is the title line, ``key`` the name of the label column; ``extra`` adds columns at
    the end. When every result has intervals, a line of ``[low,high]`` follows each row.
    """
    extra = dict(extra or {})
    columns = [*ATOMS, "mi_joint", *extra]
    width = max(digits + 4, 10)
    label_width = max([len(key), *(len(str(v)) for v in labels)])
    lines = [head, f"{key:<{label_width}}  " + "  ".join(f"{c:>{width}}" for c in columns)]
    intervals = bool(results) and all(r.ci is not None for r in results)
    for i, (label, r) in enumerate(zip(labels, results, strict=True)):
        values = [getattr(r, c) for c in (*ATOMS, "mi_joint")] + [v[i] for v in extra.values()]
        lines.append(f"{str(label):<{label_width}}  "
                     + "  ".join(f"{v:>{width}.{digits}f}" for v in values))
        if intervals:
            cells = [f"[{r.ci[a][0]:.2f},{r.ci[a][1]:.2f}]" for a in ATOMS]  # type: ignore[index]
            lines.append(" " * label_width + "  " + "  ".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)
