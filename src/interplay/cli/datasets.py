"""`interplay datasets`: list the bundled datasets, describe one, export one to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..data import dataset_entry, list_datasets, load_dataset, save_dataset
from ..exceptions import InvalidInputError
from ._output import check_output

HELP = (
    "Real multimodal datasets that work offline: shipped with interplay or scikit-learn, or "
    "generated locally (av-digits needs the espeak-ng program).\n\n"
    "\b\nExamples:\n"
    "  interplay datasets list\n"
    "  interplay datasets info mfeat\n"
    "  interplay datasets export nutrimouse nutrimouse.parquet"
)


def register(app: typer.Typer) -> None:
    """Add the ``datasets`` command group (list, info, export) to ``app``."""
    sub = typer.Typer(name="datasets", help=HELP, no_args_is_help=True, add_completion=False)
    sub.command("list", help="List the datasets with a one-line summary.")(list_command)
    sub.command("info", help="Modalities, shapes, sizes, source, licence and baseline figures "
                             "of a dataset.", no_args_is_help=True)(info_command)
    sub.command("export", help="Write a dataset to OUT (.npz or .parquet), atomically.",
                no_args_is_help=True)(export_command)
    app.add_typer(sub, name="datasets")


def list_command(
    as_json: Annotated[bool, typer.Option("--json", metavar="",
                                          help="Print JSON instead of a table.")] = False,
) -> None:
    rows: list[dict[str, Any]] = [{"name": n, "summary": dataset_entry(n).summary,
             "requires": list(dataset_entry(n).requires)} for n in list_datasets()]
    out = Console(soft_wrap=as_json, markup=False)
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title="interplay datasets")
    for col in ("name", "summary", "requires"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["summary"], ", ".join(r["requires"]) or "-")
    out.print(table)


def _human(nbytes: int) -> str:
    size = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def info_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `interplay datasets list`).")],
    as_json: Annotated[bool, typer.Option("--json", metavar="",
                                          help="Print JSON instead of tables.")] = False,
) -> None:
    entry = dataset_entry(name)
    info: dict[str, Any] = load_dataset(name).info()
    info["baseline"] = entry.baseline
    info["requires"] = list(entry.requires)
    out = Console(soft_wrap=as_json, markup=False)
    if as_json:
        out.print_json(json.dumps(info, default=str))
        return
    out.print(Text.assemble((name, "bold"), f": {info['description']}"), highlight=False)
    out.print(f"samples: {info['n_samples']}   size: {_human(info['nbytes'])}   "
              f"licence: {info['licence']}", highlight=False)
    out.print(f"source: {info['source']}", highlight=False)
    mods = Table(title="modalities")
    for col in ("name", "kind", "shape per sample", "dtype", "missing"):
        mods.add_column(col)
    for k, m in info["modalities"].items():
        mods.add_row(k, m["kind"], str(tuple(m["shape"])), m["dtype"], str(m["missing"]))
    out.print(mods)
    tg = Table(title="targets")
    for col in ("name", "shape per sample", "dtype", "classes"):
        tg.add_column(col)
    for k, t in info["targets"].items():
        classes = info["classes"].get(k, [])
        tg.add_row(k + (" (default)" if k == info["default_target"] else ""),
                   str(tuple(t["shape"])), t["dtype"], ", ".join(classes) or "-")
    out.print(tg)
    bl = Table(title="baseline")
    for col in ("predicts", "inputs", "score"):
        bl.add_column(col)
    for target, scores in entry.baseline["scores"].items():
        for label, value in scores.items():
            bl.add_row(target, label, f"{value:.3f}")
    out.print(bl)
    out.print(f"protocol: {entry.baseline['protocol']}", highlight=False)


def export_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `interplay datasets list`).")],
    out: Annotated[Path, typer.Argument(help="Output file: .npz or .parquet.")],
    overwrite: Annotated[bool, typer.Option("--overwrite/--no-overwrite", metavar="",
                                            help="Replace OUT if it exists.")] = False,
) -> None:
    if out.exists() and not overwrite:
        raise InvalidInputError(f"{str(out)!r} exists; pass --overwrite to replace it.")
    if out.suffix.lower() not in (".npz", ".parquet", ".pq"):
        raise InvalidInputError(
            f"OUT must end in .npz or .parquet, got {out.name!r}."
        )
    check_output(out, "OUT")
    dataset_entry(name)
    path = save_dataset(load_dataset(name), out)
    Console(markup=False).print(f"wrote {name} to {path} ({_human(path.stat().st_size)})",
                                highlight=False)
