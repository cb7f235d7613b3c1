"""``mi_estimate`` results (``MIEstimate.to_dict()``): a neural bound on I(X; Y) and its
training curve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import PALETTE, draw, fmt
from .._registry import Renderer, register_renderer
from ._common import section, table


def _paint(ax: Any, data: Mapping[str, Any]) -> None:
    curve = data["curve"]
    steps = [row["step"] for row in curve]
    ax.plot(steps, [row["train"] for row in curve], "-", color=PALETTE[0], label="training split")
    ax.plot(steps, [row["held_out"] for row in curve], "-o", color=PALETTE[1], markersize=3,
            label="held-out split")
    if data.get("ceiling") is not None:
        ax.axhline(data["ceiling"], color="#444", linestyle=":", label="ceiling log B")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"{data['bound']} bound ({data['units']})")
    ax.legend(frameon=False, fontsize=7)


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    units = data["units"]
    figure = draw(lambda fig, ax: _paint(ax, data), width=5.5, height=3.0,
                  alt="training curve of the mutual-information bound",
                  caption=(f"The {data['bound']} {data['direction']} bound on I(X;Y) in {units} "
                           f"while its {data['critic']} critic trains, on the training and the "
                           "held-out split (the estimate is the held-out value)"
                           + ("; dotted: log B, which InfoNCE cannot exceed." if
                              data.get("ceiling") is not None else ".")))
    rows = [["estimate", fmt(data["estimate"], 4)], ["bound", f"{data['bound']} "
            f"({data['direction']})"], ["critic", data["critic"]],
            ["batch size B", data["batch_size"]], ["ceiling", fmt(data.get("ceiling"), 4)],
            ["samples (train / held out)", f"{data['n_train']} / {data['n_held_out']}"]]
    return section(highlight=f"I(X;Y) {'≥' if data['direction'] == 'lower' else '≤'} "
                             f"{fmt(data['estimate'], 4)} {units} (held-out {data['bound']}).",
                   figures=[figure], tables=[table(["", units], rows, "Estimate")],
                   warnings=list(data.get("notes") or []))


register_renderer(Renderer(kind="mi_estimate", title="Mutual-information estimate",
                           template="mi_estimate.html.j2", build=build))
