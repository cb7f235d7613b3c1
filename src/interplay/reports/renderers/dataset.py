"""``dataset_summary`` results (``interplay analyze``'s summary.json): what the data holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import PALETTE, draw
from .._registry import Renderer, register_renderer
from ._common import has_keys, section, table


def _paint_classes(ax: Any, classes: list[Mapping[str, Any]], target: str) -> None:
    labels = [c["label"] for c in classes]
    ax.bar(range(len(labels)), [c["count"] for c in classes], color=PALETTE[0])
    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 12 else 0)
    ax.set_xlabel(target)
    ax.set_ylabel("samples")


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    classes = data.get("classes") or []
    target = data.get("target", "target")
    rows = [[m, "×".join(map(str, info["shape"])) or "scalar", info["n_features"],
             info.get("kind", "other")] for m, info in data["modalities"].items()]
    figures = [draw(lambda fig, ax: _paint_classes(ax, classes, target), width=5.5, height=2.4,
                    alt=f"samples per class of {target}",
                    caption=f"Samples per class of the target {target} (counts).")] \
        if classes else []
    lead = (f"{data.get('name', '?')}: {data['n_samples']} samples, {len(rows)} modalities, "
            f"target {target} with {len(classes)} classes.")
    notes = [n for n in (data.get("description"), data.get("source") and
                         f"Source: {data['source']}", data.get("licence") and
                         f"Licence: {data['licence']}") if n]
    return section(subtitle=str(data.get("name", "")), lead=lead, figures=figures,
                   tables=[table(["modality", "shape per sample", "features", "kind"], rows,
                                 "Modalities", text_columns=["kind"])],
                   notes=notes)


def detect(data: Mapping[str, Any]) -> bool:
    return has_keys(data, "n_samples", "modalities", "classes", "target")


register_renderer(Renderer(kind="dataset_summary", title="Dataset", template="dataset.html.j2",
                           build=build, detect=detect))
