"""Reading result files: JSON, an interplay result, of a kind some renderer knows."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..exceptions import DataFormatError, InvalidInputError
from ._registry import detect_kind, renderer_for


@dataclass(frozen=True)
class LoadedResult:
    """A result file read back.

    Attributes
    ----------
    path : Path
        Where it was read from.
    kind : str
        Its kind: the ``"kind"`` field, or detected from the keys (then ``detected`` is True).
    data : dict
        The parsed JSON.
    sha256 : str
        Hash of the file's bytes.
    detected : bool
        True when the file has no ``"kind"`` field and the kind was recognised from its keys.
    """

    path: Path
    kind: str
    data: dict[str, Any]
    sha256: str
    detected: bool = False


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.10.2rc1"`` -> ``(0, 10, 2)``: the leading numbers of a version string."""
    parts = []
    for piece in str(text).split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def load_result(path: str | Path) -> LoadedResult:
    """Read one result file and find its kind.

    Raises
    ------
    DataFormatError
        The file is missing, not valid JSON (for instance truncated), not a JSON object, written
        by a newer interplay than this one, or of no kind this interplay can show.
    """
    file = Path(path)
    if not file.is_file():
        raise DataFormatError(f"RESULT {str(file)!r}: no such file.")
    raw = file.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DataFormatError(f"RESULT {str(file)!r} is not a text (UTF-8 JSON) file.") from None
    except json.JSONDecodeError as exc:
        ending = "it ends early (truncated?)" if exc.pos >= len(raw.rstrip()) else exc.msg
        raise DataFormatError(
            f"RESULT {str(file)!r} is not valid JSON: {ending} at line {exc.lineno} column "
            f"{exc.colno}."
        ) from None
    if not isinstance(data, dict):
        raise DataFormatError(
            f"RESULT {str(file)!r} is not an interplay result: its JSON is a "
            f"{type(data).__name__}, not an object."
        )
    written_by = data.get("interplay_version")
    if written_by is not None and version_tuple(written_by) > version_tuple(__version__):
        raise DataFormatError(
            f"RESULT {str(file)!r} was written by interplay {written_by}, newer than this "
            f"interplay {__version__}; upgrade interplay to show it."
        )
    kind = data.get("kind")
    detected = False
    if kind is None:
        kind = detect_kind(data)
        detected = True
        if kind is None:
            keys = ", ".join(sorted(map(str, data))[:6]) or "none"
            raise DataFormatError(
                f"RESULT {str(file)!r} is not an interplay result: it has no \"kind\" field and "
                f"its keys ({keys}) match no result interplay writes."
            )
    if not isinstance(kind, str):
        raise DataFormatError(f"RESULT {str(file)!r}: \"kind\" must be a string, got {kind!r}.")
    try:
        renderer_for(kind)
    except InvalidInputError as exc:
        raise DataFormatError(f"RESULT {str(file)!r}: {exc}") from None
    return LoadedResult(path=file, kind=kind, data=data,
                        sha256=hashlib.sha256(raw).hexdigest(), detected=detected)
