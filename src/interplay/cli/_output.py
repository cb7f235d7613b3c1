"""What every command prints and writes: literal user text, warnings once, safe output files.

* Consoles from :func:`console` never read square brackets as markup, so a column named
  ``[bold]zz`` or a message holding ``p[x1, x2, y]`` is printed as it is.
* Python warnings raised while a command runs are collected by :func:`collect_warnings` and
  printed once each, after the command, unless the command already printed them itself
  (through :func:`print_warnings`).
* :func:`check_output` refuses an output path before any work is done; :func:`write_output`
  writes it at the end and, if that still fails, saves the result elsewhere and says where.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from .._atomic import check_output_path
from ..exceptions import InterplayError

#: Warning texts already printed during this command (so that none is printed twice).
_SHOWN: set[str] = set()


#: Library parameters and the command-line flags that set them, for messages about them.
FLAGS = {
    "n_bootstrap": "--bootstrap", "n_permutations": "--permutations", "confidence": "--confidence",
    "bias_correction": "--bias-correction", "random_state": "--seed", "n_jobs": "--n-jobs",
    "n_clusters": "--clusters", "n_components": "--components", "max_epochs": "--max-epochs",
    "patience": "--patience", "batch_size": "--batch-size", "device": "--device",
    "classifier_epochs": "--classifier-epochs", "align_epochs": "--align-epochs",
    "method": "--method", "estimator": "--estimator", "n_repeats": "--repeats",
}


def in_flags(message: str) -> str:
    """``message`` with the library parameters it names (`name`, `name=value` or name=value)
    replaced by their flags."""
    names = "|".join(FLAGS)
    message = re.sub(rf"`({names})(?:=([^`]*))?`",
                     lambda m: FLAGS[m[1]] + (f" {m[2]}" if m[2] else ""), message)
    return re.sub(rf"\b({names})=", lambda m: f"{FLAGS[m[1]]} ", message)


class RunInterrupted(InterplayError):
    """The user interrupted a command (Ctrl-C); the message says what can be done next."""


def console(stderr: bool = False) -> Console:
    """A console that prints text literally (no rich markup in user-provided strings); on
    standard error each message stays one line, however long, for scripts and logs."""
    return Console(stderr=stderr, markup=False, soft_wrap=stderr)


def labelled(label: str, text: str, style: str) -> Text:
    """``label`` in ``style`` followed by ``text`` as it is, e.g. a yellow ``warning:``."""
    return Text.assemble((label, style), " ", text)


def print_warnings(out: Console, notes: Iterable[str], label: str = "warning:") -> None:
    """Print each note once per command, in yellow after ``label``."""
    for note in notes:
        if note in _SHOWN:
            continue
        _SHOWN.add(note)
        out.print(labelled(label, note, "yellow"), highlight=False)


@contextmanager
def collect_warnings() -> Iterator[None]:
    """Hold back Python warnings raised inside; print those the command did not print."""
    _SHOWN.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)  # other filters (errors) stay
        try:
            yield
        finally:
            texts = list(dict.fromkeys(str(w.message) for w in caught))
            print_warnings(console(stderr=True), texts)
            _SHOWN.clear()


def check_output(path: Path | None, flag: str, inputs: Iterable[Path | None] = ()) -> None:
    """Refuse ``path`` (given as ``flag``) before any work when it cannot be written.

    See :func:`interplay._atomic.check_output_path`; the message names ``flag``.
    """
    if path is not None:
        check_output_path(path, flag, [p for p in inputs if p is not None])


def write_output(path: Path, write: Callable[[Path], object], flag: str = "--json") -> None:
    """``write(path)``; if that fails, ``write`` to a new file in the temporary folder and raise
    an error saying where the result went, so that a finished run is never lost."""
    try:
        write(path)
        return
    except (OSError, InterplayError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        fd, name = tempfile.mkstemp(prefix="interplay-", suffix=f"-{path.name or 'result'}")
        os.close(fd)
        try:
            write(Path(name))
        except (OSError, InterplayError) as second:
            os.unlink(name)
            raise InterplayError(
                f"{flag}: could not write {str(path)!r} ({reason}), nor a copy to {name!r} "
                f"({second}); the result is lost."
            ) from exc
        raise InterplayError(
            f"{flag}: could not write {str(path)!r} ({reason}); the result was saved to "
            f"{name!r} instead."
        ) from exc


def stamped(kind: str, body: dict[str, Any], **top: Any) -> dict[str, Any]:
    """``body`` with the fields every result file starts with: ``kind``, ``interplay_version``
    and any ``top`` fields (``provenance``, ``inputs``), which ``interplay report`` reads."""
    from .. import __version__

    return {"kind": kind, "interplay_version": __version__, **top, **body}


def command_line(ctx: Any) -> str | None:
    """The command as given (``interplay quantify DATA --method mmi``; options left at their
    defaults omitted), shell-quoted, for a result's provenance."""
    if ctx is None:
        return None
    parts = ["interplay", ctx.info_name]   # not command_path, which is `-c` under python -c
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if value is None or value == param.default:
            continue
        flag = param.opts[0] if param.opts else ""
        if not flag.startswith("-"):
            parts.append(str(value))
        elif value is True:
            parts.append(flag)
        elif value is False:
            parts.extend(getattr(param, "secondary_opts", [])[:1])
        else:
            parts += [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)
