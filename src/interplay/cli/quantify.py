"""`interplay quantify`: the PID of two modalities and a target, from a sample table."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from ..data.registry import list_datasets
from ..data.tables import (
    EXAMPLES,
    columns_of,
    dataset_frame,
    read_example,
    read_pmf,
    read_table,
)
from ..exceptions import InvalidInputError
from ..info.estimate import quantify as quantify_samples
from ..info.pid import ATOMS, PIDResult, list_pid_methods, pid

HELP = (
    "Decompose what two modalities X1, X2 tell about a target Y into redundancy R, unique "
    "information U1 (only X1) and U2 (only X2), and synergy S, in bits.\n\n"
    "DATA is a .csv (with a header), .parquet or .npz file with one row per sample, the "
    "name of a bundled dataset (see `interplay datasets list`), or a .npy file holding a joint "
    "probability table p[x1, x2, y] (then --x1/--x2/--y are not needed). Each "
    "modality is one or more comma-separated columns; several columns are encoded jointly (each "
    "distinct combination is one symbol). Values must be discrete: integers, strings, booleans. "
    "In an .npz file a 1-D array is one column; a 2-D array `emb` gives the columns emb:0, "
    "emb:1, ... and the name `emb` alone selects all of them.\n\n"
    "\b\nExamples:\n"
    "  interplay quantify --example gates\n"
    "  interplay quantify data.csv --x1 image_cluster --x2 text_cluster --y label\n"
    "  interplay quantify data.csv --x1 a,b --x2 c --y label --bootstrap 200 --seed 0\n"
    "  interplay quantify data.parquet --x1 a --x2 b --y y --permutations 500 --json pid.json\n"
    "  interplay quantify arrays.npz --x1 emb1 --x2 emb2 --y y --method mmi\n"
    "  interplay quantify joint.npy --method broja\n\n"
    "Bad input (missing or repeated column, missing values, single-valued target, unknown or "
    "corrupt file, ...) gives a message and exit status 2; nothing is written then."
)


def register(app: typer.Typer) -> None:
    """Add the ``quantify`` command to ``app``."""
    app.command("quantify", help=HELP, no_args_is_help=True)(quantify_command)


def quantify_command(
    data: Annotated[
        Path | None,
        typer.Argument(help="Sample table: .csv, .parquet or .npz.", show_default=False),
    ] = None,
    x1: Annotated[
        str | None,
        typer.Option("--x1", help="Column(s) of the first modality, comma-separated.",
                     show_default=False),
    ] = None,
    x2: Annotated[
        str | None,
        typer.Option("--x2", help="Column(s) of the second modality, comma-separated.",
                     show_default=False),
    ] = None,
    y: Annotated[
        str | None,
        typer.Option("--y", help="Target column(s), comma-separated.", show_default=False),
    ] = None,
    method: Annotated[
        str,
        typer.Option("--method", "-m",
                     help="Redundancy measure: " + ", ".join(list_pid_methods()) + "."),
    ] = "broja",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples for intervals (0: none).")
    ] = 0,
    permutations: Annotated[
        int,
        typer.Option("--permutations",
                     help="Permutations for p-values against 'Y independent of X1,X2'."),
    ] = 0,
    confidence: Annotated[
        float, typer.Option("--confidence", help="Coverage of the intervals.")
    ] = 0.95,
    bias_correction: Annotated[
        bool,
        typer.Option("--bias-correction", help="Bootstrap bias correction (needs --bootstrap)."),
    ] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed for resampling.")
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the full result as JSON to this file.",
                     show_default=False),
    ] = None,
    example: Annotated[
        str | None,
        typer.Option("--example", show_default=False,
                     help="Run on a bundled example instead of DATA: "
                     + ", ".join(sorted(EXAMPLES)) + "."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show progress bars.")
    ] = True,
) -> None:
    if (data is None) == (example is None):
        raise InvalidInputError(
            "give either a DATA file or --example NAME "
            f"({', '.join(sorted(EXAMPLES))}), not {'both' if data else 'neither'}."
        )
    if json_out is not None and not json_out.parent.is_dir():
        raise InvalidInputError(f"--json: the directory {str(json_out.parent)!r} does not exist.")
    if data is not None and data.suffix.lower() == ".npy":
        if bootstrap or permutations or bias_correction:
            raise InvalidInputError(
                "--bootstrap, --permutations and --bias-correction need samples; a .npy file "
                "holds a probability table p[x1, x2, y], whose PID is exact."
            )
        result = pid(read_pmf(data), method=method).with_(settings={"data": str(data)})
        if json_out is not None:
            write_json_atomically(json_out, result.to_json())
        _print(result, str(data), {"--x1": ["x1"], "--x2": ["x2"], "--y": ["y"]}, json_out)
        return
    if example is not None:
        frame, spec = read_example(example)
        x1, x2, y = x1 or spec.x1, x2 or spec.x2, y or spec.y
        source = f"example {example!r}"
    elif not data.exists() and str(data) in list_datasets():
        frame = dataset_frame(str(data))
        source = f"dataset {str(data)!r}"
    else:
        frame = read_table(data)
        source = str(data)
    roles = _resolve_roles(frame, {"--x1": x1, "--x2": x2, "--y": y})
    _check_values(frame, roles)

    result = quantify_samples(
        frame[roles["--x1"]],
        frame[roles["--x2"]],
        frame[roles["--y"]],
        method=method,
        n_bootstrap=bootstrap,
        confidence=confidence,
        n_permutations=permutations,
        bias_correction="bootstrap" if bias_correction else None,
        random_state=seed,
        progress=progress,
    )
    result = result.with_(
        settings={
            **result.settings,
            "data": source,
            "x1": roles["--x1"],
            "x2": roles["--x2"],
            "y": roles["--y"],
        }
    )
    if json_out is not None:
        write_json_atomically(json_out, result.to_json())
    _print(result, source, roles, json_out)


def _resolve_roles(frame: pd.DataFrame, given: dict[str, str | None]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for flag, spec in given.items():
        if spec is None or not spec.strip():
            raise InvalidInputError(f"{flag} is required: name the column(s) of that variable.")
        names = [s.strip() for s in spec.split(",")]
        if any(not s for s in names):
            raise InvalidInputError(f"{flag} {spec!r} has an empty column name.")
        cols: list[str] = []
        for name in names:
            for col in columns_of(frame, name):
                if col in seen:
                    where = (
                        f"twice in {flag}" if seen[col] == flag else f"in {seen[col]} and {flag}"
                    )
                    raise InvalidInputError(
                        f"column {col!r} is used {where}; each column may play one role once."
                    )
                seen[col] = flag
                cols.append(col)
        roles[flag] = cols
    return roles


def _check_values(frame: pd.DataFrame, roles: dict[str, list[str]]) -> None:
    for flag, cols in roles.items():
        for col in cols:
            missing = frame[col].isna()
            if missing.any():
                raise InvalidInputError(
                    f"column {col!r} ({flag}) has {int(missing.sum())} missing or empty value(s), "
                    f"the first in data row {int(missing.to_numpy().argmax()) + 1}. Drop or fill "
                    "those rows first."
                )
    if len(frame[roles["--y"]].drop_duplicates()) < 2:
        raise InvalidInputError(
            f"the target {', '.join(roles['--y'])} (--y) has a single value; there is no "
            "information to decompose."
        )


def write_json_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Readers see either the old file or the complete new one; on failure nothing is left.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _print(result: PIDResult, source: str, roles: dict[str, list[str]], json_out: Path | None
) -> None:
    console = Console()
    table = Table(
        title=f"PID of {source} ({result.method}, {result.estimator}, {result.units})",
        title_justify="left",
    )
    labels = {
        "redundancy": "R  redundancy",
        "unique1": f"U1 unique to x1 ({', '.join(roles['--x1'])})",
        "unique2": f"U2 unique to x2 ({', '.join(roles['--x2'])})",
        "synergy": "S  synergy",
    }
    table.add_column("atom")
    table.add_column("value", justify="right")
    if result.ci is not None:
        level = result.settings.get("confidence", 0.95)
        table.add_column(f"{level:.0%} interval", justify="right")
    if result.p_values is not None:
        table.add_column("p-value", justify="right")
    for atom in ATOMS:
        row = [labels[atom], f"{getattr(result, atom):.4f}"]
        if result.ci is not None:
            lo, hi = result.ci[atom]
            row.append(f"[{lo:.4f}, {hi:.4f}]")
        if result.p_values is not None:
            row.append(f"{result.p_values[atom]:.3g}")
        table.add_row(*row)
    console.print(table)
    console.print(
        f"I(X1,X2;Y) = {result.mi_joint:.4f}   I(X1;Y) = {result.mi_x1:.4f}   "
        f"I(X2;Y) = {result.mi_x2:.4f}   n = {result.n_samples}   y = {', '.join(roles['--y'])}",
        highlight=False,
    )
    for note in result.warnings:
        console.print(f"[yellow]warning:[/] {note}", highlight=False)
    if json_out is not None:
        console.print(f"wrote {json_out}", highlight=False)

