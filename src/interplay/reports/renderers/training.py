"""``training_run`` results (``interplay train``'s result.json): accuracy and training curves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import colour, draw, mean_std
from .._registry import Renderer, register_renderer
from ._common import section, table


def main_metric(data: Mapping[str, Any]) -> str:
    """``accuracy`` for classification runs, ``mse`` for regression."""
    return "accuracy" if (data.get("config") or {}).get("task", "classification") \
        == "classification" else "mse"


def _label(name: str, fusion: str) -> str:
    return f"{fusion} fusion" if name == "model" else name


def _paint_curves(axes: Any, data: Mapping[str, Any], metric: str) -> None:
    fusion = data["model"]["fusion"]
    for i, (name, run) in enumerate(r for r in data["runs"].items()
                                    if any(s.get("history") for s in r[1]["per_seed"])):
        for j, record in enumerate(run["per_seed"]):
            history = record.get("history") or []
            epochs = [row["epoch"] for row in history]
            label = _label(name, fusion) if j == 0 else None
            for ax, key, style in ((axes[0], "train_loss", "-"), (axes[0], "val_loss", "--"),
                                   (axes[1], f"val_{metric}", "-")):
                values = [row.get(key) for row in history]
                if any(v is not None for v in values):
                    ax.plot(epochs, values, style, color=colour(i), linewidth=1.2, alpha=0.9,
                            label=label if (key != "val_loss") else None)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss (solid: train, dashed: validation)")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel(f"validation {metric}")
    axes[1].legend(frameon=False)


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    metric = main_metric(data)
    fusion = data["model"]["fusion"]
    info = data.get("data") or {}
    modalities = (data.get("config") or {}).get("modalities") or list(info.get("modalities", {}))
    seeds = data.get("seeds") or []
    rows = []
    for name, run in data["runs"].items():
        summary = run["summary"]
        mean, std = summary.get("mean", {}), summary.get("std", {})
        epochs = [r.get("epochs_completed") for r in run["per_seed"]]
        rows.append([_label(name, fusion),
                     mean_std(mean.get(f"val_{metric}"), std.get(f"val_{metric}")),
                     mean_std(mean.get(f"test_{metric}"), std.get(f"test_{metric}")),
                     mean_std(mean.get("test_loss"), std.get("test_loss")),
                     "-" if None in epochs else ", ".join(map(str, epochs))])
    n = info.get("n_samples") or {}
    figures = [draw(lambda fig, axes: _paint_curves(axes, data, metric), ncols=2, width=7.5,
                    height=3.0, alt="training curves",
                    caption=(f"Training curves, one line per seed ({len(seeds)} seeds): loss "
                             f"(cross-entropy in nats for classification) and validation "
                             f"{metric} per epoch, for the {fusion} fusion and each baseline "
                             "trained in the run (the ensemble has no training of its own)."))]
    lead = (f"{fusion} fusion of {', '.join(modalities)} predicting {info.get('target', '?')} "
            f"on {info.get('source', '?')}: {n.get('train', '?')} train, "
            f"{n.get('validation', '?')} validation, {n.get('test', '?')} test samples; "
            f"{data['model'].get('n_parameters', '?')} parameters; "
            f"{data.get('seconds', 0.0):.1f} s.")
    return section(subtitle=f"{fusion} fusion on {info.get('source', '?')}", lead=lead,
                   figures=figures,
                   tables=[table(["model", f"val {metric}", f"test {metric}", "test loss",
                                  "epochs"], rows,
                                 f"{metric} over {len(seeds)} seed(s), mean ± std")])


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    config = data.get("config") or {}
    info = data.get("data") or {}
    trainer = config.get("trainer") or {}
    return {"data": info.get("source"), "data_sha256": info.get("fingerprint"),
            "seed": data.get("seeds"),
            "settings": {"fusion": (config.get("fusion") or {}).get("name"),
                         "epochs": trainer.get("epochs"), "lr": trainer.get("lr"),
                         "batch_size": trainer.get("batch_size"),
                         "split": config.get("split"), "torch": data.get("torch_version")}}


def detect(data: Mapping[str, Any]) -> bool:
    return str(data.get("format", "")).startswith("interplay-run/")


register_renderer(Renderer(kind="training_run", title="Training run",
                           template="training.html.j2", build=build, detect=detect,
                           aliases=("train",), provenance=provenance))
