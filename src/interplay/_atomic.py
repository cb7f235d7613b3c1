"""Atomic file writes: a reader sees the old file or the complete new one, never a part."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from .exceptions import InvalidInputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _regular_target(path: str | os.PathLike[str], name: str) -> tuple[Path, os.stat_result | None]:
    """``path`` with symlinks followed, and its status if it exists; refuses anything that is
    neither a regular file nor a new path (a folder, a device, a pipe, a socket)."""
    target = Path(os.path.realpath(path))
    try:
        status = target.stat()
    except FileNotFoundError:
        return target, None
    if stat.S_ISDIR(status.st_mode):
        raise InvalidInputError(f"{name}: {str(path)!r} is a folder; give a file name.")
    if not stat.S_ISREG(status.st_mode):
        raise InvalidInputError(
            f"{name}: {str(path)!r} is not a regular file (a device, pipe or socket); "
            "interplay only writes regular files."
        )
    return target, status


def check_output_path(
    path: str | os.PathLike[str], name: str, inputs: Iterable[str | os.PathLike[str]] = ()
) -> None:
    """Refuse, before any work is done, an output ``path`` that :func:`atomic_write` could not
    write or should not replace.

    Refused: an empty path, a folder, an existing file that is not a regular file, a path that
    is one of ``inputs`` (also through a link), and a path whose folder is missing or not
    writable (tried by creating and removing a temporary file there). ``name`` (e.g.
    ``"--json"``) starts the message.
    """
    if not str(path).strip():
        raise InvalidInputError(f"{name}: the path is empty; give a file name.")
    target, _ = _regular_target(path, name)
    for given in inputs:
        if os.path.exists(given) and target == Path(os.path.realpath(given)):
            raise InvalidInputError(
                f"{name}: {str(path)!r} is also an input of this command; writing the result "
                "there would destroy it. Choose another file."
            )
    folder = target.parent
    if not folder.is_dir():  # named as the user wrote it
        raise InvalidInputError(f"{name}: the folder {str(Path(path).parent)!r} does not exist.")
    try:
        fd, probe = tempfile.mkstemp(prefix=".interplay-probe.", dir=folder)
    except OSError as exc:
        raise InvalidInputError(
            f"{name}: cannot write in the folder {str(folder)!r} ({exc.strerror or exc})."
        ) from None
    os.close(fd)
    os.unlink(probe)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Write a file so that ``path`` holds either its old content or the complete new content.

    ``write`` receives a binary file object opened on a temporary file in the same folder (its
    return value, if any, is ignored); the file is flushed, synced to disk and renamed over
    ``path``. A symbolic link is written through (its target gets the content). An existing
    file keeps its permissions; a new one gets those a new file gets (``0o666`` less the
    umask). A path that exists but is not a regular file (a folder, a device) is refused with
    :class:`~interplay.exceptions.InvalidInputError`. If ``write`` raises, the temporary file
    is removed and ``path`` is left untouched.
    """
    target, status = _regular_target(path, "cannot write")
    mode = stat.S_IMODE(status.st_mode) if status is not None else 0o666 & ~_umask()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write` of ``text`` in UTF-8."""
    data = text.encode("utf-8")
    atomic_write(path, lambda fh: fh.write(data))
