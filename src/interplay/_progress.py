"""Progress bars on stderr for long loops (bootstrap replicates, sweeps, training epochs).

rich is imported when a bar is made, not when this module is imported, so the numerical
packages that use it (``info/``, ``neural/``) stay light to import.
"""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(disable: bool) -> Any:
    """A rich ``Progress`` on stderr; hidden when ``disable`` or when stderr is not a terminal.

    Use it as a context manager: ``with progress_bar(not progress) as bar:``, then
    ``task = bar.add_task(label, total=n)`` and ``bar.advance(task)``.
    """
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
        disable=disable or not console.is_terminal,
        transient=True,
    )
