"""``recommendation`` results (``interplay recommend --json``): profile shares and ranking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import ATOM_COLOURS, ATOM_LABELS, PALETTE, draw
from .._registry import Renderer, register_renderer
from ._common import ATOMS, has_keys, pid_table, section, table


def _paint_ranking(ax: Any, ranking: list[Mapping[str, Any]], best: str) -> None:
    rows = ranking[::-1]
    names = [r["name"] for r in rows]
    scores = [100 * r["score"] for r in rows]
    colours = [PALETTE[0] if n == best else PALETTE[4] if r.get("within_noise") else "#9aa5b1"
               for n, r in zip(names, rows, strict=True)]
    ax.barh(names, scores, color=colours)
    intervals = [r.get("interval") for r in rows]
    if all(iv is not None for iv in intervals):
        low = [s - 100 * iv[0] for s, iv in zip(scores, intervals, strict=True)]
        high = [100 * iv[1] - s for s, iv in zip(scores, intervals, strict=True)]
        ax.errorbar(scores, range(len(rows)), xerr=[[max(v, 0) for v in low],
                                                     [max(v, 0) for v in high]],
                    fmt="none", ecolor="#222", capsize=2, linewidth=0.8)
    for i, s in enumerate(scores):
        ax.annotate(f"{s:.1f}%", (s, i), xytext=(3, 3), textcoords="offset points",
                    va="bottom", fontsize=6.5)
    floor = min(100 * iv[0] for iv in intervals) if all(intervals) else min(scores)
    ax.set_xlim(max(0.0, min(floor, min(scores)) - 5), 101)
    ax.set_xlabel("predicted accuracy relative to the best fusion (%)")


def _paint_shares(ax: Any, shares: Mapping[str, float],
                  share_ci: Mapping[str, Any] | None) -> None:
    left = 0.0
    for atom in ATOMS:
        value = 100 * max(shares[atom], 0.0)
        ax.barh([0], [value], left=left, color=ATOM_COLOURS[atom], label=ATOM_LABELS[atom],
                edgecolor="white")
        if value >= 6:
            text = f"{ATOM_LABELS[atom]} {value:.0f}%"
            if share_ci and share_ci.get(atom):
                lo, hi = share_ci[atom]
                text += f"\n[{100 * lo:.0f}, {100 * hi:.0f}]"
            ax.text(left + value / 2, 0, text, ha="center", va="center", fontsize=7,
                    color="white" if atom in ("redundancy", "synergy") else "black")
        left += value
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    ax.set_xlabel("share of R + U1 + U2 + S (%)")
    ax.legend(frameon=False, ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0))


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    profile = data.get("profile") or {}
    columns = data.get("columns") or {}
    named = {role: _label(columns[role]) for role in ("x1", "x2", "y") if columns.get(role)}
    given = profile.get("modalities") or ["X1", "X2"]
    pair = [named.get("x1", given[0]), named.get("x2", given[1])]
    target = named.get("y") or profile.get("target") or "Y"
    ranking = list(data["ranking"])
    best = data["best"]
    figures = [
        draw(lambda fig, ax: _paint_shares(ax, data["shares"], profile.get("share_ci")),
             width=6.5, height=1.5,
             alt=f"interaction profile of {pair[0]} and {pair[1]}",
             caption=(f"Interaction profile of {pair[0]} (X1) and {pair[1]} (X2) about {target}: "
                      "each PID atom as a percentage of their sum"
                      + (", with bootstrap intervals" if profile.get("share_ci") else "")
                      + ".")),
        draw(lambda fig, ax: _paint_ranking(ax, ranking, best), width=6.5,
             height=0.35 * len(ranking) + 0.9, alt="fusions ranked by predicted accuracy",
             caption=("Fusions ranked by the accuracy they are predicted to reach on data with "
                      "this profile, as a percentage of the best fusion's (affinities: "
                      f"{data.get('affinity_source', 'default')}). Dark blue: the "
                      "recommendation; light blue: candidates it cannot be told apart from"
                      + ("; whiskers: the prediction intervals" if all(
                          r.get("interval") for r in ranking) else "") + ".")),
    ]
    has_interval = all(r.get("interval") for r in ranking)
    has_cost = any(r.get("parameters") is not None for r in ranking)
    rows = [[i, r["name"], f"{100 * r['score']:.1f}%",
             *([f"{100 * r['interval'][0]:.1f}–{100 * r['interval'][1]:.1f}%"]
               if has_interval else []),
             *([_count(r.get("parameters")), _count(r.get("train_seconds"))] if has_cost else []),
             r.get("reason", "")]
            for i, r in enumerate(ranking, start=1)]
    tables = [table(["rank", "candidate", "predicted", *(["interval"] if has_interval else []),
                     *(["parameters", "train s"] if has_cost else []), "why"],
                    rows, "Ranking", text_columns=["candidate", "why"])]
    if profile.get("pid"):
        tables.insert(0, pid_table(profile["pid"], caption="PID behind the profile"))
    notes = [*map(str, data.get("notes") or [])]
    uni = data.get("unimodal_accuracy")
    if uni:
        notes.append(f"Accuracy of {pair[0]} alone {uni['x1']:.3f}, {pair[1]} alone "
                     f"{uni['x2']:.3f} ({uni.get('source') or 'given'}).")
    if profile.get("reason"):
        notes.append(f"Estimator: {profile['reason']}.")
    return section(subtitle=f"{pair[0]} and {pair[1]} about {target}",
                   highlight=_headline(data), figures=figures, tables=tables,
                   notes=notes, warnings=list(profile.get("warnings") or []))


def _label(columns: list[Any]) -> str:
    """A modality's name from its columns: ``fou`` for ``fou:0 ... fou:75``, else the names."""
    names = [str(c) for c in columns]
    stems = {n.split(":", 1)[0] for n in names}
    if len(names) > 1 and len(stems) == 1 and all(":" in n for n in names):
        return stems.pop()
    return ", ".join(names) if len(names) <= 3 else f"{names[0]}, … ({len(names)} columns)"


def _count(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:g}"


def _headline(data: Mapping[str, Any]) -> str:
    best, fusion = data["best"], data.get("best_fusion")
    text = ("Recommended: the unimodal ensemble" if best == "ensemble"
            else f"Recommended fusion: {best}")
    if data.get("why"):
        text += f" ({str(data['why']).rstrip('.')})"
    if fusion and fusion != best:
        text += f". The fusion to train, if one is wanted: {fusion}"
    return text + "."


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    profile = data.get("profile") or {}
    pid = profile.get("pid") or {}
    settings = pid.get("settings") or {}
    return {"data": data.get("data"), "estimator": profile.get("estimator"),
            "seed": settings.get("random_state"),
            "settings": {"columns": data.get("columns"), "method": pid.get("method")}}


def detect(data: Mapping[str, Any]) -> bool:
    return has_keys(data, "best", "ranking", "shares")


register_renderer(Renderer(kind="recommendation", title="Recommendation",
                           template="recommend.html.j2", build=build, detect=detect,
                           aliases=("recommend",), provenance=provenance))
