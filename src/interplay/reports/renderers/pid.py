"""``pid`` results (``interplay quantify --json``): the atoms with intervals and p-values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import draw
from .._registry import Renderer, register_renderer
from ._common import is_pid, paint_atoms, paint_stack, pid_table, section, units


def _roles(data: Mapping[str, Any]) -> tuple[str, str, str]:
    settings = data.get("settings") or {}

    def name(key: str, default: str) -> str:
        cols = settings.get(key)
        if not cols:
            return default
        return ", ".join(cols) if len(cols) <= 3 else f"{cols[0]} … ({len(cols)} columns)"

    return name("x1", "X1"), name("x2", "X2"), name("y", "Y")


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    x1, x2, y = _roles(data)
    u = units(data)
    what = []
    if data.get("ci"):
        level = (data.get("settings") or {}).get("confidence", 0.95)
        what.append(f"whiskers: {level:.0%} bootstrap intervals")
    if data.get("p_values"):
        what.append("p: permutation p-value against Y independent of (X1, X2)")
    atoms = draw(
        lambda fig, axes: (paint_atoms(axes[0], [data], ["estimate"], f"information ({u})"),
                           paint_stack(axes[1], data, f"information ({u})")),
        ncols=2, width=7.5, height=3.2,
        alt=f"PID atoms of X1={x1}, X2={x2} about Y={y}",
        caption=(f"Left: the four PID atoms in {u} (R redundancy, U1 unique to X1 = {x1}, U2 "
                 f"unique to X2 = {x2}, S synergy) about Y = {y}"
                 + (f"; {'; '.join(what)}" if what else "") + ". Right: how they add up to the "
                 "mutual informations I(X1;Y) = R + U1, I(X2;Y) = R + U2 and "
                 "I(X1,X2;Y) = R + U1 + U2 + S."),
    )
    n = data.get("n_samples")
    lead = (f"X1 = {x1}, X2 = {x2}, Y = {y}: I(X1,X2;Y) = {data['mi_joint']:.4f} {u}, "
            f"estimated with {data.get('estimator', 'exact')} ({data.get('method', '?')})"
            + (f" from {n} samples." if n else "."))
    diag = data.get("diagnostics") or {}
    notes = [f"Solver: {diag['message']}"] if diag.get("message") else []
    return section(subtitle=f"{x1} and {x2} about {y}", lead=lead, figures=[atoms],
                   tables=[pid_table(data, caption=f"PID atoms ({u})",
                                     labels={"unique1": f"U1 unique to X1 ({x1})",
                                             "unique2": f"U2 unique to X2 ({x2})"})],
                   notes=notes)


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    settings = dict(data.get("settings") or {})
    return {"data": settings.pop("data", None),
            "seed": settings.pop("random_state", settings.pop("seed", None)),
            "estimator": f"{data.get('estimator')} ({data.get('method')})",
            "settings": {k: v for k, v in settings.items() if k not in ("x1", "x2", "y")}}


register_renderer(Renderer(kind="pid", title="Partial information decomposition",
                           template="pid.html.j2", build=build, detect=is_pid,
                           aliases=("quantify",), provenance=provenance))
