"""``dynamics_markov`` results (``interplay dynamics markov --json``): a transformer's in-context
learning of Markov chains against the Bayes-optimal k-gram estimator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._figures import HEATMAP, PALETTE, colour, draw, fmt
from .._registry import Renderer, register_renderer
from ._common import section, table

REFERENCES = {"kgram": "in-context k-gram (Bayes-optimal)", "unigram": "in-context unigram",
              "true": "true transition table", "uniform": "uniform"}


def _paint_loss(ax: Any, data: Mapping[str, Any]) -> None:
    curves = data["curves"]
    ax.plot(curves["step"], curves["train_loss"], "-", color=PALETTE[0], label="train loss")
    ax.plot(curves["step"], curves["loss"], "-o", color=PALETTE[1], markersize=3,
            label="evaluation loss")
    for i, (key, label) in enumerate(REFERENCES.items()):
        value = (data.get("references") or {}).get(key)
        if value is not None:
            ax.axhline(value, linestyle=(0, (1 + i, 2)), color="#444", linewidth=1)
            ax.annotate(label, (curves["step"][-1], value), fontsize=6.5, ha="right",
                        va="bottom")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"cross-entropy ({data.get('units', 'bits')} per symbol)")
    ax.legend(frameon=False, fontsize=7, loc="center right")


def _paint_induction(ax: Any, data: Mapping[str, Any]) -> None:
    curves = data["curves"]
    scores = np.asarray(curves["induction"], dtype=float)  # (evaluations, layers, heads)
    for layer in range(scores.shape[1]):
        for head in range(scores.shape[2]):
            ax.plot(curves["step"], scores[:, layer, head], "-", color=colour(layer),
                    linewidth=1.3, label=f"layer {layer + 1}, head {head + 1}")
    if data.get("induction_chance") is not None:
        ax.axhline(data["induction_chance"], color="#777", linestyle=":",
                   label="uniform attention")
    ax.set_xlabel("training step")
    ax.set_ylabel("induction score")
    ax.legend(frameon=False, fontsize=7)


def _paint_attention(fig: Any, axes: Any, maps: list[Any]) -> None:
    axes = np.atleast_1d(axes)
    image = None
    for layer, (ax, heads) in enumerate(zip(axes, maps, strict=True)):
        image = ax.imshow(np.asarray(heads[0], dtype=float), cmap=HEATMAP, vmin=0, vmax=1)
        ax.set_title(f"layer {layer + 1}, head 1")
        ax.set_xlabel("attended position")
    axes[0].set_ylabel("query position")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="attention weight")


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    cfg = data.get("config") or {}
    final = data["final"]
    units = data.get("units", "bits")
    figures = [
        draw(lambda fig, ax: _paint_loss(ax, data), width=6.0, height=3.2,
             alt="loss curves against the reference estimators",
             caption=(f"Cross-entropy of next-symbol prediction in {units} per symbol during "
                      "training, against the losses of reference predictors on the same "
                      "evaluation sequences (horizontal lines); the in-context k-gram estimator "
                      "is the Bayes-optimal one.")),
        draw(lambda fig, ax: _paint_induction(ax, data), width=6.0, height=3.0,
             alt="induction score per layer",
             caption=("Induction score of each attention head during training (attention on "
                      "the symbol that followed earlier occurrences of the current context); "
                      "dotted: the score of uniform attention.")),
    ]
    maps = final.get("attention_example") or []
    if maps:
        figures.append(draw(lambda fig, axes: _paint_attention(fig, axes, maps), ncols=len(maps),
                            width=min(3.2 * len(maps) + 1.2, 10), height=3.2,
                            alt="attention maps of one example sequence",
                            caption=("Attention weights of the first head of each layer on one "
                                     "evaluation sequence at the end of training (rows: "
                                     "query positions; columns: attended positions).")))
    induction = np.asarray(final["induction"], dtype=float)
    rows = [["final evaluation loss", fmt(final["loss"], 4)],
            ["excess over the k-gram estimator", fmt(final["excess"], 4)],
            ["KL to the k-gram estimator", fmt(final["kl"], 4)]]
    rows += [[f"induction score, layer {i + 1} head {j + 1}", fmt(float(v), 3)]
             for (i, j), v in np.ndenumerate(induction)]
    rows += [[f"reference: {label}", fmt((data.get("references") or {}).get(key), 4)]
             for key, label in REFERENCES.items()]
    lead = (f"Markov chains of order {cfg.get('order', '?')} over {cfg.get('alphabet_size', '?')}"
            f" symbols (sequences of {cfg.get('length', '?')}); a {cfg.get('n_layers', '?')}-"
            f"layer transformer with {cfg.get('n_heads', '?')} head(s), width "
            f"{cfg.get('d_model', '?')}, {data.get('n_parameters', '?')} parameters, "
            f"{cfg.get('steps', '?')} steps in {fmt(data.get('seconds'), 1)} s.")
    return section(subtitle=f"order {cfg.get('order', '?')}, {cfg.get('n_layers', '?')} layers",
                   lead=lead, figures=figures,
                   tables=[table(["quantity", units], rows, f"At the end of training ({units})")])


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    cfg = data.get("config") or {}
    return {"seed": cfg.get("seed"), "settings": {**cfg, "torch": data.get("torch_version")}}


register_renderer(Renderer(kind="dynamics_markov", title="Learning dynamics",
                           template="dynamics.html.j2", build=build, provenance=provenance))
