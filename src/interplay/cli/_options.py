"""Command-line options and checks shared by several subcommands (one definition each)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

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
    bool, typer.Option("--progress/--no-progress", metavar="", help="Show progress bars.")
]
#: Threads for the numerical work of one command (interplay._threads).
Threads = Annotated[
    int | None,
    typer.Option("--threads", show_default=False,
                 help="Threads for BLAS and torch inside this command: a count, or -1 for "
                 "every core. Default: one for small work (fastest there, and robust when "
                 "other processes are busy), half the cores for large work."),
]


def with_threads(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with a ``--threads`` option; it runs under the thread policy for small work
    (:func:`interplay._threads.policy`, which large work inside raises) and with the count of
    ``--threads`` when given.

    Register it as ``app.command(...)(with_threads(command))``.
    """
    signature = inspect.signature(command, eval_str=True)
    option = inspect.Parameter("threads", inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=Threads)

    @functools.wraps(command)
    def wrapper(*args: Any, threads: int | None = None, **kwargs: Any) -> Any:
        from .._threads import check_threads, policy
        from .._threads import threads as thread_count

        with thread_count(check_threads(threads, "--threads")), policy():
            return command(*args, **kwargs)

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), option])
    wrapper.__annotations__ = {**command.__annotations__, "threads": Threads}
    return wrapper


def check_json_target(json_out: Path | None, inputs: tuple[Path | None, ...] = ()) -> None:
    """Refuse a --json path before any work is done: empty, a folder, not a regular file, one of
    the command's ``inputs``, or in a folder that is missing or not writable."""
    check_output(json_out, "--json", inputs)
