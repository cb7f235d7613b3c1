"""`interplay report`: any result interplay writes, as one self-contained HTML page."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Render result files written by interplay (quantify, recommend, train, evaluate, analyze "
    "and the other commands' --json output) into one HTML page: figures and tables per "
    "result, with what produced it (interplay version, command, data and its hash, seed, "
    "estimator settings, warnings). The page is self-contained: CSS and figures are inline, "
    "nothing is fetched from the network, and it prints cleanly.\n\n"
    "\b\nExamples:\n"
    "  interplay quantify --example gates --bootstrap 200 --seed 0 --json pid.json\n"
    "  interplay report pid.json -o pid.html\n"
    "  interplay report runs/mfeat_late/result.json runs/mfeat_late/evaluation.json\n\n"
    "A file that is not an interplay result, is truncated, or comes from a newer interplay, "
    "or an output folder that does not exist, gives a one-line message and exit status 2; "
    "nothing is written then."
)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command("report", help=HELP, no_args_is_help=True)(report_command)


def report_command(
    results: Annotated[
        list[Path], typer.Argument(help="Result JSON files, shown in this order.",
                                   show_default=False)
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The HTML file to write.")
    ] = Path("report.html"),
    title: Annotated[
        str | None, typer.Option("--title", help="Page title.", show_default=False)
    ] = None,
) -> None:
    from ..reports import write_report
    from ._output import check_output, console

    check_output(out, "--out", results)
    command = "interplay report " + " ".join(
        shlex.quote(str(p)) for p in [*results, "-o", out])
    target = write_report(results, out, title=title, command=command)
    console().print(f"wrote {target} ({len(results)} result{'s' if len(results) > 1 else ''})",
                    highlight=False, soft_wrap=True)
