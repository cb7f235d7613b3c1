"""Property-based fuzzing of the table readers and of `interplay quantify` (issue 13).

Generated CSV, Parquet and NPZ files with random shapes, dtypes, missing values, empty and
duplicate columns and odd names, sometimes truncated. Whatever arrives, the outcome is a result
(exit 0 and a complete JSON file) or one line of error with exit status 2: never a traceback,
never a partial output file, never a changed input.
"""

from __future__ import annotations

import hashlib
import json
import string
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from interplay.cli.main import main
from interplay.data.tables import read_table
from interplay.exceptions import DataFormatError

NAMES = st.one_of(
    st.sampled_from(["a", "b", "y", "", " ", "a,b", "[bold]x", "x:0", "é", "0", "nan", "a b"]),
    st.text(alphabet=string.ascii_letters + string.digits + " _-:[],.é", min_size=0, max_size=6),
)
KINDS = ("int", "int", "int", "int", "bool", "str", "float", "mixed", "empty")


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[np.ndarray]]:
    """Column names (duplicates allowed) and column values of one length."""
    n_rows = draw(st.sampled_from([25, 25, 5, 2, 1, 0]))
    n_cols = draw(st.sampled_from([3, 3, 4, 5, 1, 0]))
    names = [draw(NAMES) for _ in range(n_cols)]
    columns = []
    for _ in range(n_cols):
        kind = draw(st.sampled_from(KINDS))
        seed = draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        if kind == "int":
            col = rng.integers(0, draw(st.sampled_from([2, 3, 1])), n_rows)
        elif kind == "float":
            col = rng.normal(size=n_rows) if draw(st.booleans()) else \
                rng.integers(0, 3, n_rows).astype(float)
            col[rng.random(n_rows) < draw(st.sampled_from([0.0, 0.0, 0.2]))] = np.nan
        elif kind == "bool":
            col = rng.random(n_rows) < 0.5
        elif kind == "str":
            col = rng.choice(np.array(["u", "v", "w,x", "[z]", ""]), n_rows)
        elif kind == "mixed":
            col = np.array([["1", 2, 3.5, None, "q"][i % 5] for i in range(n_rows)], dtype=object)
        else:
            col = np.full(n_rows, np.nan)
        columns.append(col)
    return names, columns


def _write(fmt: str, path: Path, names: list[str], columns: list[np.ndarray]) -> bool:
    """Write the table; False when the format cannot hold it (then there is nothing to test)."""
    if fmt == "csv":
        frame = pd.DataFrame(dict(enumerate(columns)))
        frame.columns = names if names else frame.columns
        frame.to_csv(path, index=False)
        return True
    if fmt == "parquet":
        if len(set(names)) < len(names):
            return False  # Parquet cannot hold duplicate column names
        frame = pd.DataFrame({n: c for n, c in zip(names, columns, strict=True)})
        try:
            frame.to_parquet(path)
        except (ValueError, TypeError):  # pyarrow refuses e.g. mixed object columns
            return False
        return True
    with zipfile.ZipFile(path, "w") as archive:  # as np.savez, for any array name
        for name, col in zip(names, columns, strict=True):
            if col.dtype != object:
                with archive.open(f"{name}.npy", "w") as fh:
                    np.lib.format.write_array(fh, col, allow_pickle=False)
    return True


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.filterwarnings("ignore:Duplicate name")  # an NPZ with a repeated array name
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    table=tables(),
    fmt=st.sampled_from(["csv", "parquet", "npz"]),
    truncate=st.sampled_from([None, None, None, None, None, 0, 7, 40]),
    picks=st.lists(st.integers(0, 6), min_size=3, max_size=3),
    estimator=st.sampled_from(["plugin", "auto"]),
    method=st.sampled_from(["broja", "mmi", "imin", "ccs"]),
)
def test_quantify_gives_a_result_or_one_line_error(capsys, table, fmt, truncate, picks,
                                                   estimator, method):
    names, columns = table
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / f"in.{fmt}"
        if not _write(fmt, data, names, columns):
            return
        if truncate is not None:
            data.write_bytes(data.read_bytes()[:truncate])
        before = _digest(data)
        try:
            frame = read_table(data)
        except DataFormatError as exc:
            assert "\n" not in str(exc)
            frame = None
        if frame is not None:
            assert frame.shape[0] > 0 and frame.shape[1] > 0
        pool = list(dict.fromkeys(str(c) for c in frame.columns)) if frame is not None else []
        if len(pool) < 3 or picks[0] == 6:
            pool += ["missing", ""]
        x1, x2, y = (pool[(i + k) % len(pool)] for k, i in enumerate(picks[:1] * 3))
        out = folder / "result.json"
        capsys.readouterr()
        code = main(["quantify", str(data), "--x1", x1, "--x2", x2, "--y", y, "--json",
                     str(out), "--estimator", estimator, "--method", method, "--no-progress"])
        printed = capsys.readouterr()
        event(f"exit {code}")
        assert "Traceback" not in printed.err
        assert _digest(data) == before, "the input file changed"
        left = sorted(p.name for p in folder.iterdir())
        if code == 0:
            assert left == sorted([data.name, out.name])
            assert "synergy" in json.loads(out.read_text())
        else:
            assert code == 2, printed.err
            assert left == [data.name], "an output or temporary file was left behind"
            lines = printed.err.strip().splitlines()
            assert lines and lines[-1].startswith("error:"), printed.err
            assert sum(line.startswith("error:") for line in lines) == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet", "npz"])
def test_an_empty_file_is_a_format_error(tmp_path, fmt):
    path = tmp_path / f"e.{fmt}"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError):
        read_table(path)
