"""Checkpoints that are written atomically and read without unpickling arbitrary objects.

A checkpoint is a pair of files: ``NAME.pt`` holds tensors and plain containers only (state
dicts, RNG states) and is read with ``torch.load(..., weights_only=True)``; ``NAME.json`` holds
the metadata (epoch, history, configuration) and the SHA-256 of the ``.pt`` file. Each file is
written to a temporary file in the same folder and moved into place with ``os.replace``, and the
JSON is written last, so a ``.json`` exists only for a complete ``.pt`` that it vouches for.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._atomic import atomic_write
from ..exceptions import DataFormatError, InvalidInputError


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any],
                    metadata: dict[str, Any]) -> None:
    """Write ``state`` (tensors and plain containers) and JSON ``metadata`` atomically.

    Parameters
    ----------
    path : path-like
        Stem of the checkpoint: ``path.pt`` and ``path.json`` are written (a ``.pt`` suffix on
        ``path`` is dropped).
    state : dict
        Anything ``torch.load(..., weights_only=True)`` can read back: tensors, numbers, strings,
        and dicts/lists/tuples of them (model and optimizer state dicts qualify).
    metadata : dict
        JSON-serialisable metadata.

    Examples
    --------
    >>> import tempfile, torch
    >>> d = tempfile.mkdtemp()
    >>> save_checkpoint(f"{d}/ckpt", {"w": torch.ones(2)}, {"epoch": 3})
    >>> state, meta = load_checkpoint(f"{d}/ckpt")
    >>> state["w"].tolist(), meta["epoch"]
    ([1.0, 1.0], 3)
    """
    stem = _stem(path)
    try:
        meta_text = json.dumps(metadata, indent=2, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"`metadata` must be JSON-serialisable: {exc}") from exc
    pt = stem.with_suffix(".pt")
    atomic_write(pt, lambda fh: torch.save(state, fh))
    record = {"format": "interplay-checkpoint/1", "state_file": pt.name, "sha256": _sha256(pt),
              "metadata": json.loads(meta_text)}
    text = json.dumps(record, indent=2, sort_keys=True).encode()
    atomic_write(stem.with_suffix(".json"), lambda fh: fh.write(text))


def load_checkpoint(path: str | os.PathLike[str],
                    map_location: str | torch.device = "cpu",
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`; never unpickles arbitrary objects.

    Returns
    -------
    state, metadata : dict, dict

    Raises
    ------
    DataFormatError
        If a file is missing, the ``.pt`` does not match the hash recorded in the ``.json``, or
        the ``.pt`` holds anything but tensors and plain containers (a pickled object).
    """
    stem = _stem(path)
    meta_path, pt = stem.with_suffix(".json"), stem.with_suffix(".pt")
    if not meta_path.is_file() or not pt.is_file():
        raise DataFormatError(
            f"No complete checkpoint at {stem}: expected both {pt.name} and {meta_path.name}."
        )
    try:
        record = json.loads(meta_path.read_text())
        expected = record["sha256"]
        metadata = record["metadata"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataFormatError(f"{meta_path} is not an interplay checkpoint record: {exc}") from exc
    if _sha256(pt) != expected:
        raise DataFormatError(
            f"{pt} does not match the SHA-256 recorded in {meta_path.name}; the checkpoint is "
            "corrupt or was replaced."
        )
    return load_state_file(pt, map_location), metadata


def load_state_file(path: str | os.PathLike[str],
                    map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """``torch.load(path, weights_only=True)``, with a clear error for unsafe or broken files."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DataFormatError(
            f"{path} holds something other than tensors and plain containers (for example a "
            f"pickled object) and was refused by the safe loader: {exc}"
        ) from exc
    except (RuntimeError, EOFError, OSError) as exc:
        raise DataFormatError(f"{path} could not be read as a torch state file: {exc}") from exc
    if not isinstance(state, dict):
        raise DataFormatError(f"{path} must hold a dict, got {type(state).__name__}.")
    return state


def _stem(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".pt", ".json") else p


def capture_rng_state() -> dict[str, Any]:
    """The states of Python's, NumPy's and torch's (CPU and CUDA) global generators as tensors."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    if str(kind) != "MT19937":
        raise InvalidInputError(f"NumPy's global generator is {kind}, expected MT19937.")
    py_version, py_state, py_gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "numpy_pos": int(pos),
        "numpy_has_gauss": int(has_gauss),
        "numpy_cached_gaussian": float(cached),
        "python_version": int(py_version),
        "python_state": torch.tensor(py_state, dtype=torch.int64),
        "python_gauss": py_gauss,
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state["torch"])
    np.random.set_state((
        "MT19937",
        state["numpy_keys"].numpy().astype(np.uint32),
        int(state["numpy_pos"]),
        int(state["numpy_has_gauss"]),
        float(state["numpy_cached_gaussian"]),
    ))
    random.setstate((
        int(state["python_version"]),
        tuple(int(v) for v in state["python_state"].tolist()),
        state["python_gauss"],
    ))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
