"""Read tabular sample files (CSV, Parquet, NPZ) into a pandas DataFrame.

Every failure, whether an unknown extension, a missing file or a corrupt or truncated one,
raises :class:`~interplay.exceptions.DataFormatError` with the path and the reason.

NPZ files hold named arrays. A 1-D array of length ``n`` becomes the column ``name``; a 2-D
array of shape ``(n, d)`` becomes the columns ``name:0`` ... ``name:{d-1}`` (arrays with more
dimensions are flattened to ``(n, -1)`` first). All arrays must have the same length ``n``.
:func:`columns_of` then resolves ``name`` to all of its ``name:j`` columns, so a whole 2-D
array can be used as one modality.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import DataFormatError, InvalidInputError

if TYPE_CHECKING:  # pandas loads on first read: the CLI's start-up stays light
    import pandas as pd

#: File extensions :func:`read_table` understands.
SUFFIXES = (".csv", ".parquet", ".pq", ".npz")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or NPZ file into a DataFrame with one column per variable.

    Parameters
    ----------
    path : str or Path
        ``*.csv`` (header row required), ``*.parquet``/``*.pq``, or ``*.npz`` (see the module
        docstring for how arrays become columns).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataFormatError
        Unknown extension, missing file, unreadable or corrupt content, NPZ arrays of
        different lengths, or a file without rows or columns.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "s.csv")
    >>> _ = open(f, "w").write("a,b\\n0,1\\n1,0\\n")
    >>> read_table(f).shape
    (2, 2)
    """
    import pandas as pd

    p = Path(path)
    suffix = p.suffix.lower()
    if p.is_dir():
        raise DataFormatError(
            f"cannot read {str(p)!r}: it is a folder; give a {', '.join(SUFFIXES)} file."
        )
    if not p.exists() and not suffix:
        raise DataFormatError(
            f"cannot read {str(p)!r}: there is no such file, nor a bundled dataset of that "
            "name (`interplay datasets list` shows them)."
        )
    if suffix not in SUFFIXES:
        raise DataFormatError(
            f"cannot read {str(p)!r}: unknown file type {suffix or '(no extension)'!r}; "
            f"expected one of {', '.join(SUFFIXES)}."
        )
    if not p.is_file():
        raise DataFormatError(f"cannot read {str(p)!r}: no such file.")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(p)
        elif suffix == ".npz":
            frame = _read_npz(p)
        else:
            frame = pd.read_parquet(p)
    except DataFormatError:
        raise
    except (
        ValueError, OSError, EOFError, KeyError, UnicodeDecodeError, zipfile.BadZipFile,
        pd.errors.ParserError, pd.errors.EmptyDataError,
    ) as exc:
        raise DataFormatError(f"cannot read {str(p)!r}: the file is corrupt or truncated ({exc}).")\
            from exc
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataFormatError(
            f"{str(p)!r} holds no data ({frame.shape[0]} rows, {frame.shape[1]} columns)."
        )
    return frame


def _read_npz(p: Path) -> pd.DataFrame:
    with np.load(p, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return frame_from_arrays(arrays, repr(str(p)))


def frame_from_arrays(arrays: dict[str, np.ndarray], where: str) -> pd.DataFrame:
    """One column per 1-D array; a 2-D (or higher) array ``emb`` gives ``emb:0``, ``emb:1``, ..."""
    import pandas as pd

    columns: dict[str, np.ndarray] = {}
    lengths: dict[str, int] = {}
    for name, arr in arrays.items():
        if arr.ndim == 0:
            raise DataFormatError(
                f"{where}: array {name!r} is a scalar; every array must have one row per sample."
            )
        lengths[name] = arr.shape[0]
        if arr.ndim == 1:
            columns[name] = arr
        else:
            flat = arr.reshape(arr.shape[0], -1)
            for j in range(flat.shape[1]):
                columns[f"{name}:{j}"] = flat[:, j]
    if len(set(lengths.values())) > 1:
        raise DataFormatError(
            f"{where}: the arrays have different numbers of rows: "
            + ", ".join(f"{k}: {v}" for k, v in lengths.items())
            + ". Every array must have one row per sample."
        )
    return pd.DataFrame(columns)


def dataset_frame(name: str) -> pd.DataFrame:
    """A bundled dataset's modalities and targets as a table (see :func:`frame_from_arrays`)."""
    from .registry import load_dataset

    ds = load_dataset(name)
    arrays = {**{k: np.asarray(v) for k, v in ds.modalities.items()},
              **{k: np.asarray(v) for k, v in ds.targets.items()}}
    return frame_from_arrays(arrays, f"dataset {name!r}")


def read_pmf(path: str | Path) -> np.ndarray:
    """Read a joint probability table ``p[x1, x2, y]`` from a ``.npy`` file (never unpickles).

    The values are checked by :func:`interplay.pid`: non-negative, finite, summing to 1.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(f"{str(p)!r} does not exist or is not a file.")
    try:
        arr = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataFormatError(f"{str(p)!r} is not a readable .npy array ({exc}).") from exc
    if arr.dtype.kind not in "fiu":
        raise DataFormatError(f"{str(p)!r} holds {arr.dtype} values; expected probabilities.")
    return arr


def columns_of(frame: pd.DataFrame, name: str) -> list[str]:
    """The columns ``name`` refers to: itself, or all ``name:j`` columns of an NPZ 2-D array.

    Raises :class:`DataFormatError` listing the available columns when there is none.
    """
    if name in frame.columns:
        return [name]
    prefixed = [c for c in frame.columns if isinstance(c, str) and c.startswith(f"{name}:")]
    if prefixed:
        return prefixed
    available = ", ".join(map(str, frame.columns[:20])) + (" ..." if frame.shape[1] > 20 else "")
    raise DataFormatError(f"no column {name!r}; the columns are: {available}.")


@dataclass(frozen=True)
class Example:
    """A small sample table shipped with interplay, and which columns play which role."""

    file: str
    x1: str
    x2: str
    y: str
    description: str


#: Bundled examples by name (files in ``interplay/data/bundled``).
EXAMPLES: dict[str, Example] = {
    "gates": Example(
        file="gates.csv",
        x1="x1",
        x2="x2",
        y="y",
        description="2000 rows: fair bits s, a, b; x1 = 2s + a, x2 = 2s + b, y = 3s + a + b, "
        "with y replaced by a random value in 5 % of rows (benchmarks/make_bundled_gates.py). "
        "The exact BROJA PID of the generating distribution is R = 1.264, U1 = U2 = 0, "
        "S = 0.898 bit.",
    ),
}


def read_example(name: str) -> tuple[pd.DataFrame, Example]:
    """The table of a bundled example and its description (see :data:`EXAMPLES`).

    >>> frame, spec = read_example("gates")
    >>> frame.shape, spec.y
    ((2000, 3), 'y')
    """
    if name not in EXAMPLES:
        raise InvalidInputError(
            f"unknown example {name!r}; available: {', '.join(sorted(EXAMPLES))}."
        )
    spec = EXAMPLES[name]
    with resources.as_file(resources.files("interplay").joinpath("data", "bundled", spec.file)) \
            as path:
        return read_table(path), spec
