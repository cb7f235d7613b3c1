"""Read and write :class:`~interplay.data.dataset.MultimodalDataset` files.

Formats
-------
``npz``
    Written by :func:`save_dataset`: arrays ``modality:<name>``, ``target:<name>``,
    ``observed:<name>`` and a JSON header ``__interplay__`` (stored as bytes, so that loading never
    unpickles). Any other NPZ file is read by naming its arrays (``modalities=``, ``target=``).
``parquet``
    Written by :func:`save_dataset`: one column per modality (a fixed-size list column of the
    flattened sample when a sample is not a scalar), ``target:<name>`` and ``observed:<name>``
    columns, and the shapes and metadata as JSON in the schema metadata. Any other Parquet file
    is read by naming, for each modality, one column (scalars, or lists of equal length) or a
    list of scalar columns.
``csv``
    Read only, with a header row, naming the columns per modality like Parquet.
``hf``
    A Hugging Face ``datasets`` dataset saved with ``save_to_disk`` (a folder); read only;
    needs the ``datasets`` package (extra ``interplay[hf]``). ``ClassLabel`` names become
    ``metadata.classes``.

Every failure, whether an unknown format, a missing file, column or array, ragged rows,
NaN/inf, a non-numeric column, or a corrupt or truncated file, raises
:class:`~interplay.exceptions.DataFormatError` naming the file and what is wrong.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write
from ..exceptions import DataFormatError, InvalidInputError, MissingDependencyError
from .dataset import DatasetMetadata, MultimodalDataset

#: Formats :func:`read_dataset` understands, and those :func:`save_dataset` writes.
READ_FORMATS = ("npz", "parquet", "csv", "hf")
WRITE_FORMATS = ("npz", "parquet")

_SUFFIX_FORMATS = {".npz": "npz", ".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_HEADER = "__interplay__"
_FORMAT_VERSION = 1

ModalitySpec = Mapping[str, str | Sequence[str]] | Sequence[str] | None


def _infer_format(path: Path, fmt: str | None, allowed: tuple[str, ...]) -> str:
    if fmt is not None:
        if fmt not in allowed:
            raise DataFormatError(
                f"`format` must be one of {', '.join(allowed)}; got {fmt!r}."
            )
        return fmt
    if path.is_dir() and "hf" in allowed:
        return "hf"
    found = _SUFFIX_FORMATS.get(path.suffix.lower())
    if found is None or found not in allowed:
        raise DataFormatError(
            f"Cannot tell the format of {str(path)!r} from its suffix {path.suffix!r}; use one of "
            + ", ".join(s for s, f in _SUFFIX_FORMATS.items() if f in allowed)
            + (" or a folder saved by Hugging Face datasets" if "hf" in allowed else "")
            + ", or pass `format=`."
        )
    return found


# ---------------------------------------------------------------------------------- writing
def save_dataset(ds: MultimodalDataset, path: str | Path, *, format: str | None = None) -> Path:
    """Write a dataset to an NPZ or Parquet file, atomically.

    The file is written next to its destination under a temporary name and renamed into
    place, so a reader never sees a half-written file.

    Parameters
    ----------
    ds : MultimodalDataset
    path : str or Path
        Destination; the format comes from the suffix (``.npz``, ``.parquet``/``.pq``) unless
        ``format`` is given.
    format : {"npz", "parquet"}, optional

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> ds = MultimodalDataset({"a": np.arange(6.0).reshape(3, 2)}, targets=np.array([0, 1, 0]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_dataset(ds, os.path.join(d, "toy.npz"))
    ...     read_dataset(p).modalities["a"].tolist()
    [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    """
    if not isinstance(ds, MultimodalDataset):
        raise InvalidInputError(f"`ds` must be a MultimodalDataset, got {type(ds).__name__}.")
    path = Path(path)
    fmt = _infer_format(path, format, WRITE_FORMATS)
    if not path.parent.exists():
        raise DataFormatError(f"The folder {str(path.parent)!r} does not exist.")
    header = {
        "format_version": _FORMAT_VERSION,
        "metadata": ds.metadata.to_dict(),
        "modalities": {k: list(ds.shapes()[k]) for k in ds.modality_names},
        "targets": list(ds.target_names),
        "default_target": ds.default_target,
        "observed": [k for k in ds.modality_names if not np.all(ds.observed[k])],
        "allow_nonfinite": ds.allow_nonfinite,
    }
    try:
        json.dumps(header)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"`ds.metadata` must be JSON-serialisable to be saved ({exc}); keep only numbers, "
            "strings, lists and dicts in `metadata.extra`."
        ) from exc
    if fmt == "npz":
        atomic_write(path, lambda fh: _write_npz(ds, header, fh))
    else:
        atomic_write(path, lambda fh: _write_parquet(ds, header, fh))
    return path


def _write_npz(ds: MultimodalDataset, header: dict[str, Any], fh: Any) -> None:
    arrays: dict[str, np.ndarray] = {}
    for k in ds.modality_names:
        arrays[f"modality:{k}"] = np.ascontiguousarray(ds.modalities[k])
    for k in ds.target_names:
        arrays[f"target:{k}"] = np.ascontiguousarray(ds.targets[k])
    for k in header["observed"]:
        arrays[f"observed:{k}"] = ds.observed[k]
    arrays[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]  # stubs type **kwds as bool


def _to_arrow_column(arr: np.ndarray) -> Any:
    import pyarrow as pa

    if arr.ndim == 1:
        return pa.array(arr)
    flat = np.ascontiguousarray(arr.reshape(arr.shape[0], -1))
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel()), flat.shape[1])


def _write_parquet(ds: MultimodalDataset, header: dict[str, Any], fh: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, Any] = {}
    for k in ds.modality_names:
        cols[k] = _to_arrow_column(ds.modalities[k])
    for k in ds.target_names:
        cols[f"target:{k}"] = _to_arrow_column(ds.targets[k])
    for k in header["observed"]:
        cols[f"observed:{k}"] = pa.array(ds.observed[k])
    header = {**header, "target_shapes": {k: list(ds.targets[k].shape[1:])
                                          for k in ds.target_names}}
    table = pa.table(cols).replace_schema_metadata({_HEADER: json.dumps(header)})
    pq.write_table(table, fh, compression="zstd")


# ---------------------------------------------------------------------------------- reading
def read_dataset(
    path: str | Path,
    *,
    format: str | None = None,
    modalities: ModalitySpec = None,
    target: str | Sequence[str] | None = None,
    missing: str = "error",
    split: str | None = None,
    name: str | None = None,
) -> MultimodalDataset:
    """Read a dataset from NPZ, Parquet, CSV or a Hugging Face dataset folder.

    Parameters
    ----------
    path : str or Path
        The file, or the folder written by ``datasets.Dataset.save_to_disk``.
    format : {"npz", "parquet", "csv", "hf"}, optional
        Taken from the suffix (a folder means ``"hf"``) when omitted.
    modalities : mapping or sequence, optional
        Needed unless the file was written by :func:`save_dataset` (then it restricts the
        modalities read). A mapping gives, per modality, one column/array name or a list of
        scalar column names; a sequence of names makes each column/array its own modality.
    target : str or sequence of str, optional
        Column/array name(s) of the target(s); the first is the default target.
    missing : {"error", "mask"}
        What to do with null/NaN values in a modality: raise, or mark that modality missing
        for the rows concerned (``observed``). Targets may never be missing.
    split : str, optional
        For a Hugging Face ``DatasetDict`` folder: which split to read.
    name : str, optional
        Name stored in the metadata (default: the file's stem).

    Returns
    -------
    MultimodalDataset

    Raises
    ------
    DataFormatError
        Unknown format; missing file, array, column or split; ragged rows; NaN/inf where not
        allowed; a non-numeric column; a corrupt or truncated file.
    MissingDependencyError
        Reading a Hugging Face folder without the ``datasets`` package.
    """
    path = Path(path)
    fmt = _infer_format(path, format, READ_FORMATS)
    if missing not in ("error", "mask"):
        raise InvalidInputError(f"`missing` must be 'error' or 'mask'; got {missing!r}.")
    if not path.exists():
        raise DataFormatError(f"No such {'folder' if fmt == 'hf' else 'file'}: {str(path)!r}.")
    targets = [target] if isinstance(target, str) else list(target or [])
    label = name or path.stem
    if fmt == "npz":
        return _read_npz(path, modalities, targets, missing, label)
    if fmt == "parquet":
        return _read_parquet(path, modalities, targets, missing, label)
    if fmt == "csv":
        return _read_csv(path, modalities, targets, missing, label)
    return _read_hf(path, modalities, targets, missing, split, label)


def _modality_spec(spec: ModalitySpec, path: Path) -> dict[str, str | list[str]]:
    if spec is None:
        raise DataFormatError(
            f"{str(path)!r} was not written by interplay, so say which columns/arrays hold each "
            "modality: `modalities={'image': 'pixels', 'tab': ['age', 'height']}`."
        )
    if isinstance(spec, str):
        return {spec: spec}
    if isinstance(spec, Mapping):
        out: dict[str, str | list[str]] = {}
        for k, v in spec.items():
            if isinstance(v, str):
                out[k] = v
            elif isinstance(v, Sequence) and v and all(isinstance(c, str) for c in v):
                out[k] = list(v)
            else:
                raise InvalidInputError(
                    f"`modalities[{k!r}]` must be a column name or a non-empty list of column "
                    f"names, got {v!r}."
                )
        return out
    return {c: c for c in spec}


def _finish(
    mods: dict[str, np.ndarray],
    tgts: dict[str, np.ndarray],
    missing: str,
    path: Path,
    *,
    observed: dict[str, np.ndarray] | None = None,
    metadata: DatasetMetadata | None = None,
    default_target: str | None = None,
    allow_nonfinite: bool = False,
) -> MultimodalDataset:
    observed = dict(observed or {})
    for k, a in tgts.items():
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            bad = np.flatnonzero(~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1))
            raise DataFormatError(
                f"{str(path)!r}: target {k!r} has {bad.size} missing/NaN/inf value(s), first at "
                f"row {bad[0]}; targets may not be missing."
            )
    if not allow_nonfinite:
        for k, a in mods.items():
            if a.dtype.kind != "f":
                continue
            good = np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1)
            if k in observed:
                good |= ~observed[k]
            if np.all(good):
                continue
            has_inf = np.isinf(a).any()
            if missing == "mask" and not has_inf:
                observed[k] = good & observed.get(k, True)
                continue
            bad = np.flatnonzero(~good)
            raise DataFormatError(
                f"{str(path)!r}: modality {k!r} has {'infinite' if has_inf else 'missing/NaN'} "
                f"values in {bad.size} row(s), first at row {bad[0]}"
                + ("." if has_inf else "; pass missing='mask' to mark those rows missing.")
            )
    try:
        return MultimodalDataset(mods, tgts or None, observed=observed or None,
                                 metadata=metadata, default_target=default_target,
                                 allow_nonfinite=allow_nonfinite)
    except InvalidInputError as exc:
        if isinstance(exc, DataFormatError):
            raise
        raise DataFormatError(f"{str(path)!r}: {exc}") from exc


# NPZ ------------------------------------------------------------------------------------
def _read_npz(path: Path, spec: ModalitySpec, targets: list[str], missing: str,
              label: str) -> MultimodalDataset:
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.files)
            if _HEADER in keys:
                header = json.loads(bytes(z[_HEADER]).decode())
                return _read_own_npz(z, header, path, spec, targets, missing)
            mods_spec = _modality_spec(spec, path)
            mods = {}
            for mod, src in mods_spec.items():
                names = [src] if isinstance(src, str) else src
                for s in names:
                    if s not in keys:
                        raise DataFormatError(
                            f"{str(path)!r} has no array {s!r} (for modality {mod!r}); it holds "
                            f"{keys}."
                        )
                arrs = [z[s] for s in names]
                mods[mod] = arrs[0] if isinstance(src, str) else _stack_columns(arrs, names,
                                                                              path)
            tgts = {}
            for t in targets:
                if t not in keys:
                    raise DataFormatError(f"{str(path)!r} has no target array {t!r}; it holds "
                                          f"{keys}.")
                tgts[t] = z[t]
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, json.JSONDecodeError,
            UnicodeDecodeError) as exc:
        raise DataFormatError(f"{str(path)!r} is not a readable NPZ file ({exc}).") from exc
    except ValueError as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise DataFormatError(
            f"{str(path)!r} is corrupt, truncated or holds object arrays, which interplay does "
            f"not unpickle ({exc})."
        ) from exc
    _check_dtypes({**mods, **tgts}, path)
    return _finish(mods, tgts, missing, path,
                   metadata=DatasetMetadata(name=label, source=str(path)))


def _header_selection(header: dict[str, Any], path: Path, spec: ModalitySpec,
                      targets: list[str]) -> tuple[list[str], list[str]]:
    """Modalities and targets to read from an interplay-written file, checked against its header."""
    names = list(header["modalities"])
    wanted = names if spec is None else list(_modality_spec(spec, path))
    for k in wanted:
        if k not in names:
            raise DataFormatError(f"{str(path)!r} has no modality {k!r}; it has {names}.")
    tnames = targets or header["targets"]
    for t in tnames:
        if t not in header["targets"]:
            raise DataFormatError(
                f"{str(path)!r} has no target {t!r}; it has {header['targets']}."
            )
    return wanted, list(tnames)


def _read_own_npz(z: Any, header: dict[str, Any], path: Path, spec: ModalitySpec,
                  targets: list[str], missing: str) -> MultimodalDataset:
    wanted, tnames = _header_selection(header, path, spec, targets)
    mods = {k: z[f"modality:{k}"] for k in wanted}
    tgts = {t: z[f"target:{t}"] for t in tnames}
    obs = {k: z[f"observed:{k}"] for k in header["observed"] if k in wanted}
    meta = _metadata_from_header(header, wanted)
    default = header["default_target"] if header["default_target"] in tgts else None
    return _finish(mods, tgts, missing, path, observed=obs, metadata=meta,
                   default_target=default, allow_nonfinite=bool(header["allow_nonfinite"]))


def _metadata_from_header(header: dict[str, Any], wanted: list[str]) -> DatasetMetadata:
    meta = dict(header["metadata"])
    meta["modality_kinds"] = {k: v for k, v in meta.get("modality_kinds", {}).items()
                              if k in wanted}
    return DatasetMetadata.from_dict(meta)


def _check_dtypes(arrays: Mapping[str, np.ndarray], path: Path) -> None:
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise DataFormatError(
                f"{str(path)!r}: {k!r} has dtype {a.dtype}; interplay needs numbers (bool, "
                "integer or float)."
            )


def _stack_columns(arrs: list[np.ndarray], names: list[str], path: Path) -> np.ndarray:
    for a, n in zip(arrs, names, strict=True):
        if a.ndim != 1:
            raise DataFormatError(
                f"{str(path)!r}: {n!r} has shape {a.shape}; a list of columns must name 1-D "
                "(scalar per sample) columns."
            )
        if a.dtype.kind not in "biuf":
            raise DataFormatError(f"{str(path)!r}: column {n!r} has non-numeric dtype {a.dtype}.")
    lengths = {n: len(a) for a, n in zip(arrs, names, strict=True)}
    if len(set(lengths.values())) > 1:
        raise DataFormatError(f"{str(path)!r}: columns have different lengths {lengths}.")
    return np.stack(arrs, axis=1)


# Arrow tables (Parquet, CSV, HF) ----------------------------------------------------------
def _arrow_to_numpy(col: Any, name: str, path: Path) -> np.ndarray:
    """Convert an Arrow array (scalars or equal-length, possibly nested, lists) to numpy.

    Null scalars become NaN; null lists become rows of NaN.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if isinstance(col, pa.ExtensionArray):
        col = col.storage
    typ = col.type
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        null = col.is_null().to_numpy(zero_copy_only=False)
        lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
        valid_lengths = np.unique(lengths[~null])
        if valid_lengths.size > 1:
            raise DataFormatError(
                f"{str(path)!r}: column {name!r} holds lists of different lengths "
                f"({', '.join(map(str, valid_lengths[:5]))}, ...); every sample must have the "
                "same shape (ragged rows)."
            )
        width = int(valid_lengths[0]) if valid_lengths.size else 0
        valid = col.filter(pa.array(~null))
        inner = _arrow_to_numpy(valid.flatten(), name, path)
        inner = inner.reshape((int((~null).sum()), width) + inner.shape[1:])
        if not null.any():
            return inner
        out = np.full((len(col),) + inner.shape[1:], np.nan)
        out[~null] = inner
        return out
    if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ)
            or pa.types.is_null(typ)):
        raise DataFormatError(
            f"{str(path)!r}: column {name!r} has type {typ}; interplay needs numbers (or lists "
            "of numbers) in modality and target columns."
        )
    arr = col.to_numpy(zero_copy_only=False)
    if col.null_count and arr.dtype.kind != "f":
        arr = np.where(col.is_null().to_numpy(zero_copy_only=False), np.nan,
                       arr.astype(np.float64))
    return np.asarray(arr)


def _from_arrow(table: Any, path: Path, spec: ModalitySpec, targets: list[str], missing: str,
                label: str, classes: dict[str, tuple[str, ...]] | None = None
                ) -> MultimodalDataset:
    columns = list(table.column_names)
    meta_raw = (table.schema.metadata or {}).get(_HEADER.encode())
    if meta_raw is not None:
        try:
            header = json.loads(meta_raw.decode())
            return _read_own_table(table, header, path, spec, targets, missing)
        except (KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataFormatError(
                f"{str(path)!r} has a damaged interplay header ({exc!r})."
            ) from exc
    mods_spec = _modality_spec(spec, path)

    def column(c: str, what: str) -> np.ndarray:
        if c not in columns:
            raise DataFormatError(
                f"{str(path)!r} has no column {c!r} ({what}); it has {columns[:20]}"
                + (" ..." if len(columns) > 20 else "") + "."
            )
        return _arrow_to_numpy(table.column(c), c, path)

    mods = {}
    for mod, src in mods_spec.items():
        if isinstance(src, str):
            mods[mod] = column(src, f"modality {mod!r}")
        else:
            mods[mod] = _stack_columns([column(c, f"modality {mod!r}") for c in src], src, path)
    tgts = {t: column(t, "target") for t in targets}
    meta = DatasetMetadata(name=label, source=str(path),
                           classes={k: v for k, v in (classes or {}).items() if k in tgts})
    return _finish(mods, tgts, missing, path, metadata=meta)


def _read_own_table(table: Any, header: dict[str, Any], path: Path, spec: ModalitySpec,
                    targets: list[str], missing: str) -> MultimodalDataset:
    wanted, tnames = _header_selection(header, path, spec, targets)
    n = table.num_rows

    def get(col: str, shape: list[int]) -> np.ndarray:
        if col not in table.column_names:
            raise DataFormatError(f"{str(path)!r} lacks the column {col!r} its header lists.")
        return _arrow_to_numpy(table.column(col), col, path).reshape((n, *shape))

    mods = {k: get(k, header["modalities"][k]) for k in wanted}
    tgts = {t: get(f"target:{t}", header["target_shapes"][t]) for t in tnames}
    obs = {k: get(f"observed:{k}", []).astype(bool) for k in header["observed"] if k in wanted}
    meta = _metadata_from_header(header, wanted)
    default = header["default_target"] if header["default_target"] in tgts else None
    return _finish(mods, tgts, missing, path, observed=obs, metadata=meta,
                   default_target=default, allow_nonfinite=bool(header["allow_nonfinite"]))


def _read_parquet(path: Path, spec: ModalitySpec, targets: list[str], missing: str,
                  label: str) -> MultimodalDataset:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataFormatError(
            f"{str(path)!r} is not a readable Parquet file (corrupt or truncated?): {exc}"
        ) from exc
    return _from_arrow(table, path, spec, targets, missing, label)


def _read_csv(path: Path, spec: ModalitySpec, targets: list[str], missing: str,
              label: str) -> MultimodalDataset:
    import pandas as pd
    import pyarrow as pa

    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{str(path)!r} is not a readable CSV file: {exc}") from exc
    if frame.shape[0] == 0:
        raise DataFormatError(f"{str(path)!r} has a header but no rows.")
    return _from_arrow(pa.Table.from_pandas(frame, preserve_index=False), path, spec, targets,
                       missing, label)


def _read_hf(path: Path, spec: ModalitySpec, targets: list[str], missing: str,
             split: str | None, label: str) -> MultimodalDataset:
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependencyError(
            "Reading a Hugging Face dataset folder needs the `datasets` package: "
            "`pip install interplay[hf]` (or `pip install datasets`)."
        ) from exc
    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError, json.JSONDecodeError) as exc:
        raise DataFormatError(
            f"{str(path)!r} is not a dataset folder written by Hugging Face datasets' "
            f"save_to_disk (or it is corrupt): {exc}"
        ) from exc
    if isinstance(loaded, datasets.DatasetDict):
        if split is None or split not in loaded:
            raise DataFormatError(
                f"{str(path)!r} holds the splits {sorted(loaded)}; pass `split=` with one of "
                f"them (got {split!r})."
            )
        loaded = loaded[split]
    elif split is not None:
        raise DataFormatError(f"{str(path)!r} holds a single dataset; `split` must be None.")
    classes = {
        k: tuple(f.names) for k, f in loaded.features.items()
        if isinstance(f, datasets.ClassLabel)
    }
    table = loaded.with_format("arrow")[:]
    return _from_arrow(table, path, spec, targets, missing, f"{label}" if split is None
                       else f"{label}[{split}]", classes)
