"""Command-line options and checks shared by several subcommands (one definition each)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..data.tables import EXAMPLES
from ._output import check_output

#: The columns of X1, X2 and Y in a sample table.
X1Columns = Annotated[
    str | None,
    typer.Option("--x1", help="Column(s) of the first modality, comma-separated.",
                 show_default=False),
]
X2Columns = Annotated[
    str | None,
    typer.Option("--x2", help="Column(s) of the second modality, comma-separated.",
                 show_default=False),
]
YColumns = Annotated[
    str | None,
    typer.Option("--y", help="Target column(s), comma-separated.", show_default=False),
]
ExampleName = Annotated[
    str | None,
    typer.Option("--example", show_default=False,
                 help="Run on a bundled example instead of DATA: "
                 + ", ".join(sorted(EXAMPLES)) + "."),
]
ShowProgress = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show progress bars.")
]


def check_json_target(json_out: Path | None, inputs: tuple[Path | None, ...] = ()) -> None:
    """Refuse a --json path before any work is done: empty, a folder, not a regular file, one of
    the command's ``inputs``, or in a folder that is missing or not writable."""
    check_output(json_out, "--json", inputs)
