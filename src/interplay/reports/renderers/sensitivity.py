"""``cluster_sensitivity`` results (``ClusterSensitivity.to_dict()``): how the cluster PID moves
with the number of clusters, next to the predicted plug-in bias."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._figures import ATOM_COLOURS, ATOM_LABELS, draw, fmt
from .._registry import Renderer, register_renderer
from ._common import ATOMS, has_keys, section, table


def _paint(ax: Any, data: Mapping[str, Any], unit: str) -> None:
    ks = data["n_clusters"]
    markers = ("o", "s", "^", "D")
    for atom, marker in zip(ATOMS, markers, strict=True):
        ax.plot(ks, data[atom], marker=marker, color=ATOM_COLOURS[atom], label=ATOM_LABELS[atom],
                linewidth=1.4, markersize=4)
    ax.plot(ks, data["bias"], ":", color="#444", label="predicted bias of I(X1,X2;Y)")
    ax.set_xlabel("k-means clusters per modality")
    ax.set_ylabel(f"information ({unit})")
    ax.legend(frameon=False, fontsize=7)


def build(data: Mapping[str, Any]) -> dict[str, Any]:
    unit = str(data.get("units") or "bits")
    pair = f"{data['x1']} and {data['x2']}" if data.get("x1") else "X1 and X2"
    figure = draw(lambda fig, ax: _paint(ax, data, unit), width=5.5, height=3.0,
                  alt="cluster-count sensitivity of the PID atoms",
                  caption=(f"PID atoms of {pair} by the cluster estimator against the number "
                           f"of k-means clusters per modality, in {unit}"
                           + (f" (the analysis used {data['chosen']})" if data.get("chosen")
                              else "") + "; dotted: the predicted plug-in "
                           "bias of I(X1,X2;Y) (Miller-Madow). Atoms that keep growing with the "
                           "count, usually the synergy, follow the bias rather than the data."))
    rows = [[k, *(fmt(data[a][i]) for a in ATOMS), fmt(data["mi_joint"][i]), fmt(data["bias"][i])]
            for i, k in enumerate(data["n_clusters"])]
    return section(subtitle=pair if data.get("x1") else None, figures=[figure], tables=[table(
        ["clusters", *(f"{ATOM_LABELS[a]} ({unit})" for a in ATOMS), f"I(X1,X2;Y) ({unit})",
         f"bias ({unit})"], rows, "Cluster PID per number of clusters")])


def detect(data: Mapping[str, Any]) -> bool:
    return has_keys(data, "n_clusters", "bias", *ATOMS) and isinstance(data["n_clusters"], list)


register_renderer(Renderer(kind="cluster_sensitivity", title="Cluster-count sensitivity",
                           template="sensitivity.html.j2", build=build, detect=detect))
