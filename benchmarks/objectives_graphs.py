"""Draw every information-bottleneck preset's encoder and decoder graphs (two views X, Y).

The edges come from each preset's own ``graphs`` method, so the figure shows exactly what the
compiler builds. Run::

    python benchmarks/objectives_graphs.py

It writes ``docs/figures/objectives_graphs.svg``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENCODER, DECODER, SHARED = "#0072B2", "#D55E00", "#009E73"
POSITIONS = {"X": (0.0, 0.0), "Y": (2.0, 0.0), "label": (1.0, 0.0), "Z": (1.0, 1.0),
             "Z_X": (0.3, 1.0), "Z_Y": (1.7, 1.0), "W_X": (-0.5, 1.0), "W_Y": (2.5, 1.0)}


def _draw(ax, nodes, edges, colour, undirected=()):  # type: ignore[no-untyped-def]
    from matplotlib.patches import FancyArrowPatch

    for a, b in edges:
        (x0, y0), (x1, y1) = POSITIONS[a], POSITIONS[b]
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12,
                                     color=colour, lw=1.5, shrinkA=13, shrinkB=13))
    for a, b in undirected:
        (x0, y0), (x1, y1) = POSITIONS[a], POSITIONS[b]
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="<|-|>", mutation_scale=10,
                                     color=SHARED, lw=1.5, ls="--", shrinkA=13, shrinkB=13,
                                     connectionstyle="arc3,rad=-0.5"))
    for n in nodes:
        x, y = POSITIONS[n]
        observed = y == 0.0
        ax.scatter([x], [y], s=620, c="#d9d9d9" if observed else "white", edgecolors="black",
                   zorder=3)
        ax.text(x, y, n.replace("_", "").replace("label", "L"), ha="center", va="center",
                fontsize=8, zorder=4)
    ax.set_xlim(-0.9, 2.9)
    ax.set_ylim(-0.35, 1.75)
    ax.axis("off")


def main(argv: list[str] | None = None) -> int:
    """Draw the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/figures/objectives_graphs.svg")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from interplay._atomic import atomic_write
    from interplay.objectives import PRESETS

    names = list(PRESETS)
    fig, axes = plt.subplots(len(names) // 2, 4, figsize=(12, 1.9 * len(names) // 2))
    for k, name in enumerate(names):
        cls = PRESETS[name]
        enc, dec = cls.graphs(["X", "Y"])
        if cls.needs_label:
            enc, dec = cls.graphs(["X"])
        latents = {b for _, b in enc}
        observed = {a for a, _ in enc if a not in latents} | {b for _, b in dec
                                                               if b not in latents}
        nodes = sorted(latents | observed)
        row, col = divmod(k, 2)
        ax_e, ax_d = axes[row, 2 * col], axes[row, 2 * col + 1]
        _draw(ax_e, nodes, enc, ENCODER)
        _draw(ax_d, nodes, [e for e in dec if e[1] not in latents], DECODER,
              [e for e in dec if e[1] in latents])
        det = " (deterministic)" if cls.deterministic else ""
        ax_e.set_title(f"{name}: encoder{det}", fontsize=9)
        ax_d.set_title(f"{name}: decoder", fontsize=9)
    fig.text(0.5, 0.005, "grey: observed (X, Y views; L label); white: latents. Blue: encoder "
             "edge (KL term); orange: decoder edge (log-likelihood); green dashed: shared "
             "information (MI lower bound).", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    atomic_write(args.out, lambda f: fig.savefig(f, format=args.out.suffix.lstrip(".") or "svg"))
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
