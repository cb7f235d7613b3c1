"""Progress bars on stderr for long loops (bootstrap replicates, sweeps, training epochs).

rich is imported only when a bar is shown (progress asked for and stderr a terminal), so the
numerical packages that use bars (``info/``, ``neural/``) never import it otherwise.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["progress_bar"]


class _Hidden:
    """The bar when none is shown: the same ``add_task`` / ``advance`` calls, doing nothing."""

    def __enter__(self) -> _Hidden:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        return None

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        return 0

    def advance(self, task: int, advance: float = 1) -> None:
        return None


def progress_bar(disable: bool) -> Any:
    """A rich ``Progress`` on stderr; a silent stand-in when ``disable`` or when stderr is not
    a terminal (a log file, CI).

    Use it as a context manager: ``with progress_bar(not progress) as bar:``, then
    ``task = bar.add_task(label, total=n)`` and ``bar.advance(task)``.
    """
    if disable or not sys.stderr.isatty():
        return _Hidden()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
