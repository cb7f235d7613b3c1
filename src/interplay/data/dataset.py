"""The multimodal data model: named modalities, targets, a missing-modality mask and metadata.

A :class:`MultimodalDataset` holds one array per modality, each of shape ``(n_samples, ...)``
(vectors, images, sequences, audio features, embeddings), one or more target arrays, an
optional per-sample mask of which modalities were observed, and :class:`DatasetMetadata`.

Selecting samples or modalities never copies the stored arrays: a subset keeps a reference to
the full arrays plus the row indices it covers, and rows are gathered only when an array is
asked for (``ds.modalities["image"]``) or when a sample is read (``ds[i]``, the PyTorch view).
A contiguous range of rows is served as a numpy view.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._validation import check_float, check_int
from ..exceptions import InvalidInputError, MissingDependencyError

#: Kinds a modality can be declared as (used by models and reports to pick encoders and plots).
MODALITY_KINDS = ("tabular", "image", "audio", "text", "sequence", "embedding", "signal", "other")

Rows = slice | np.ndarray | None


@dataclass(frozen=True)
class DatasetMetadata:
    """What a dataset is, where it comes from and under which terms it may be used.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"mfeat"``.
    description : str
        One or two sentences on what the samples and the modalities are.
    source : str
        Where the data comes from (citation, package, or the generator and its settings).
    licence : str
        The licence of the data, e.g. ``"CC BY 4.0"``.
    modality_kinds : dict of str to str
        Kind of each modality, one of :data:`MODALITY_KINDS`; modalities not listed are
        ``"other"``.
    classes : dict of str to tuple of str
        For classification targets: the name of each integer label, in label order.
    extra : dict
        Anything else worth keeping (generator settings, baseline figures); JSON-serialisable.
    """

    name: str = "dataset"
    description: str = ""
    source: str = ""
    licence: str = "unknown"
    modality_kinds: dict[str, str] = field(default_factory=dict)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for mod, kind in self.modality_kinds.items():
            if kind not in MODALITY_KINDS:
                raise InvalidInputError(
                    f"`modality_kinds[{mod!r}]` must be one of {', '.join(MODALITY_KINDS)}; "
                    f"got {kind!r}."
                )
        object.__setattr__(
            self, "classes", {k: tuple(str(c) for c in v) for k, v in self.classes.items()}
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the metadata as a JSON-serialisable dict."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "licence": self.licence,
            "modality_kinds": dict(self.modality_kinds),
            "classes": {k: list(v) for k, v in self.classes.items()},
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DatasetMetadata:
        """Build metadata from :meth:`to_dict` output; unknown keys are rejected."""
        known = {"name", "description", "source", "licence", "modality_kinds", "classes", "extra"}
        unknown = set(d) - known
        if unknown:
            raise InvalidInputError(
                f"`metadata` has unknown keys {sorted(unknown)}; expected some of {sorted(known)}."
            )
        return cls(**{k: d[k] for k in d})


@dataclass(frozen=True)
class DatasetSplits:
    """Train, validation and test parts of a dataset (each a :class:`MultimodalDataset`)."""

    train: MultimodalDataset
    validation: MultimodalDataset
    test: MultimodalDataset

    def __iter__(self) -> Iterator[MultimodalDataset]:
        return iter((self.train, self.validation, self.test))


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{what} names must be non-empty strings, got {name!r}.")
    return name


def _as_array(x: Any, arg: str) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"`{arg}` must be an array of shape (n_samples, ...), got a {type(x).__name__} that "
            f"numpy cannot turn into one ({exc})."
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"`{arg}` must hold numbers (bool, integer or float), got dtype {arr.dtype}. "
            "Encode categories as integers and keep their names in `metadata.classes`."
        )
    if arr.ndim == 0:
        raise InvalidInputError(f"`{arg}` must have a first axis of samples, got a scalar.")
    return arr


def _index_rows(n: int, samples: Any) -> slice | np.ndarray:
    """Turn a slice, boolean mask or integer indices into a slice or an int64 index array."""
    if isinstance(samples, slice):
        start, stop, step = samples.indices(n)
        return slice(start, stop, step)
    idx = np.asarray(samples)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise InvalidInputError(
                f"`samples` as a boolean mask must have shape ({n},), got {idx.shape}."
            )
        return np.flatnonzero(idx)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise InvalidInputError(
            "`samples` must be a slice, a boolean mask or a 1-D array of integer indices, "
            f"got an array of shape {idx.shape} and dtype {idx.dtype}."
        )
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise InvalidInputError(
            f"`samples` indices must lie in [-{n}, {n - 1}], got values from {idx.min()} to "
            f"{idx.max()}."
        )
    return np.where(idx < 0, idx + n, idx)


def _compose(outer: slice | np.ndarray | None, n_base: int, inner: slice | np.ndarray) -> Rows:
    """Rows of the base arrays selected by ``inner`` applied after ``outer``."""
    if outer is None:
        picked = inner
    elif isinstance(outer, slice):
        picked = np.arange(n_base)[outer][inner]
    else:
        picked = outer[inner]
    if isinstance(picked, slice):
        return picked
    if picked.size > 1:
        steps = np.diff(picked)
        if np.all(steps == steps[0]) and steps[0] > 0:
            return slice(int(picked[0]), int(picked[-1]) + 1, int(steps[0]))
    return np.asarray(picked, dtype=np.int64)


def _take(arr: np.ndarray, rows: Rows) -> np.ndarray:
    if rows is None:
        return arr
    return arr[rows]


class _RowView(Mapping[str, np.ndarray]):
    """Read-only mapping that gathers the selected rows of each array when it is asked for."""

    def __init__(self, arrays: Mapping[str, np.ndarray], rows: Rows) -> None:
        self._arrays = arrays
        self._rows = rows

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            raise KeyError(key)
        return _take(self._arrays[key], self._rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: <array>" for k in self._arrays) + "}"


class MultimodalDataset:
    """Samples observed in several named modalities, with one or more targets.

    Parameters
    ----------
    modalities : mapping of str to array-like
        Each modality's array of shape ``(n_samples, ...)``. Numeric dtypes only (bool,
        integer, float); arrays are not copied when they already are numpy arrays.
    targets : mapping of str to array-like, array-like, or None
        Target arrays of shape ``(n_samples,)`` or ``(n_samples, k)``. A single array is stored
        under the name ``"y"``. ``None`` makes a dataset without targets (e.g. for alignment).
    default_target : str, optional
        Name of the target returned by :attr:`target`; the first target when omitted.
    observed : mapping of str to bool array-like, optional
        Per modality, a ``(n_samples,)`` boolean array that is False where the modality is
        missing for that sample. Modalities not listed are observed everywhere.
    metadata : DatasetMetadata or dict, optional
        Description, source, licence, modality kinds, class names.
    allow_nonfinite : bool, default False
        Accept NaN/inf in observed modality entries. Entries of missing (unobserved) samples
        may always hold NaN.

    Raises
    ------
    InvalidInputError
        No modalities; a non-numeric dtype; arrays of different lengths; NaN/inf in an
        observed entry or a target; an unknown ``default_target`` or mask key; a mask of the
        wrong shape or dtype.

    Examples
    --------
    >>> import numpy as np
    >>> ds = MultimodalDataset(
    ...     {"image": np.zeros((4, 8, 8)), "audio": np.ones((4, 13))},
    ...     targets=np.array([0, 1, 0, 1]),
    ... )
    >>> ds.n_samples, ds.modality_names, ds.target.tolist()
    (4, ('image', 'audio'), [0, 1, 0, 1])
    >>> ds.select(modalities=["audio"], samples=[1, 3]).modalities["audio"].shape
    (2, 13)
    """

    def __init__(
        self,
        modalities: Mapping[str, Any],
        targets: Mapping[str, Any] | Any | None = None,
        *,
        default_target: str | None = None,
        observed: Mapping[str, Any] | None = None,
        metadata: DatasetMetadata | Mapping[str, Any] | None = None,
        allow_nonfinite: bool = False,
    ) -> None:
        if not isinstance(modalities, Mapping) or len(modalities) == 0:
            raise InvalidInputError(
                "`modalities` must be a non-empty mapping of name -> array of shape "
                f"(n_samples, ...), got {type(modalities).__name__}"
                + (" with no entries." if isinstance(modalities, Mapping) else ".")
            )
        mods = {
            _check_name(k, "Modality"): _as_array(v, f"modalities[{k!r}]")
            for k, v in modalities.items()
        }
        if targets is None:
            tgts: dict[str, np.ndarray] = {}
        elif isinstance(targets, Mapping):
            tgts = {
                _check_name(k, "Target"): _as_array(v, f"targets[{k!r}]")
                for k, v in targets.items()
            }
        else:
            tgts = {"y": _as_array(targets, "targets")}

        lengths = {f"modalities[{k!r}]": a.shape[0] for k, a in mods.items()}
        lengths.update({f"targets[{k!r}]": a.shape[0] for k, a in tgts.items()})
        if len(set(lengths.values())) > 1:
            listing = ", ".join(f"{k}: {v}" for k, v in lengths.items())
            raise InvalidInputError(
                f"All modalities and targets must have the same number of samples; got {listing}."
            )
        n = next(iter(lengths.values()))
        if n == 0:
            raise InvalidInputError("The dataset must have at least one sample, got 0.")

        obs: dict[str, np.ndarray] = {}
        for k, v in (observed or {}).items():
            if k not in mods:
                raise InvalidInputError(
                    f"`observed` names modality {k!r}, which is not one of {sorted(mods)}."
                )
            m = np.asarray(v)
            if m.dtype != bool or m.shape != (n,):
                raise InvalidInputError(
                    f"`observed[{k!r}]` must be a boolean array of shape ({n},), got shape "
                    f"{m.shape} and dtype {m.dtype}."
                )
            obs[k] = m

        for k, a in tgts.items():
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise InvalidInputError(f"`targets[{k!r}]` contains NaN or infinite values.")
            if a.ndim > 2:
                raise InvalidInputError(
                    f"`targets[{k!r}]` must have shape (n_samples,) or (n_samples, k), got "
                    f"{a.shape}."
                )
        if not allow_nonfinite:
            for k, a in mods.items():
                if a.dtype.kind != "f":
                    continue
                vals = a if k not in obs else a[obs[k]]
                if not np.all(np.isfinite(vals)):
                    bad = ~np.isfinite(a.reshape(n, -1)).all(axis=1)
                    if k in obs:
                        bad &= obs[k]
                    raise InvalidInputError(
                        f"`modalities[{k!r}]` contains NaN or infinite values in "
                        f"{int(bad.sum())} observed sample(s) (first: {int(np.argmax(bad))}). "
                        "Mark missing samples with `observed` or pass allow_nonfinite=True."
                    )

        if default_target is not None and default_target not in tgts:
            raise InvalidInputError(
                f"`default_target` must be one of {sorted(tgts)}, got {default_target!r}."
            )
        if metadata is None:
            meta = DatasetMetadata()
        elif isinstance(metadata, DatasetMetadata):
            meta = metadata
        elif isinstance(metadata, Mapping):
            meta = DatasetMetadata.from_dict(metadata)
        else:
            raise InvalidInputError(
                f"`metadata` must be a DatasetMetadata or a dict, got {type(metadata).__name__}."
            )
        for k in meta.modality_kinds:
            if k not in mods:
                raise InvalidInputError(
                    f"`metadata.modality_kinds` names {k!r}, which is not a modality "
                    f"({sorted(mods)})."
                )

        self._mods = mods
        self._tgts = tgts
        self._obs = obs
        self._rows: Rows = None
        self._n = n
        self._default = default_target if default_target is not None else next(iter(tgts), None)
        self.metadata = meta
        self.allow_nonfinite = bool(allow_nonfinite)

    # ------------------------------------------------------------------ basic properties
    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return self._n

    def __len__(self) -> int:
        return self._n

    @property
    def modality_names(self) -> tuple[str, ...]:
        """Names of the modalities, in order."""
        return tuple(self._mods)

    @property
    def target_names(self) -> tuple[str, ...]:
        """Names of the targets, in order."""
        return tuple(self._tgts)

    @property
    def default_target(self) -> str | None:
        """Name of the target returned by :attr:`target` (None when there are no targets)."""
        return self._default

    @property
    def modalities(self) -> Mapping[str, np.ndarray]:
        """Read-only mapping of modality name to its ``(n_samples, ...)`` array."""
        return _RowView(self._mods, self._rows)

    @property
    def targets(self) -> Mapping[str, np.ndarray]:
        """Read-only mapping of target name to its array."""
        return _RowView(self._tgts, self._rows)

    @property
    def target(self) -> np.ndarray:
        """The default target's array."""
        if self._default is None:
            raise InvalidInputError(
                f"Dataset {self.metadata.name!r} has no targets; build it with `targets=`."
            )
        return _take(self._tgts[self._default], self._rows)

    @property
    def observed(self) -> Mapping[str, np.ndarray]:
        """Per modality, a ``(n_samples,)`` boolean array: False where the modality is missing."""
        full = {
            k: self._obs[k] if k in self._obs else np.ones(self._base_len(), dtype=bool)
            for k in self._mods
        }
        return {k: _take(v, self._rows) for k, v in full.items()}

    @property
    def mask(self) -> np.ndarray:
        """Observed-modality mask of shape ``(n_samples, n_modalities)`` in modality order."""
        obs = self.observed
        return np.stack([obs[k] for k in self._mods], axis=1)

    @property
    def has_missing(self) -> bool:
        """True when some modality is missing for some sample."""
        return any(not np.all(_take(v, self._rows)) for v in self._obs.values())

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-sample shape of each modality (the array shape without the sample axis)."""
        return {k: tuple(a.shape[1:]) for k, a in self._mods.items()}

    def nbytes(self) -> int:
        """Bytes taken by the selected samples of all modalities and targets."""
        per_row = sum(a.nbytes // max(a.shape[0], 1) for a in (*self._mods.values(),
                                                               *self._tgts.values()))
        return per_row * self._n

    def _base_len(self) -> int:
        return next(iter(self._mods.values())).shape[0]

    def __repr__(self) -> str:
        mods = ", ".join(f"{k}{self.shapes()[k]}" for k in self._mods)
        return (
            f"MultimodalDataset(name={self.metadata.name!r}, n_samples={self._n}, "
            f"modalities=[{mods}], targets={list(self._tgts)})"
        )

    def __getitem__(self, i: int) -> dict[str, Any]:
        """Sample ``i`` as ``{"modalities": {...}, "targets": {...}, "observed": {...}}``."""
        i = check_int(i, "i")
        if not -self._n <= i < self._n:
            raise IndexError(f"sample index {i} is out of range for {self._n} samples.")
        row = self._base_row(i % self._n)
        return {
            "modalities": {k: a[row] for k, a in self._mods.items()},
            "targets": {k: a[row] for k, a in self._tgts.items()},
            "observed": {k: bool(self._obs[k][row]) if k in self._obs else True
                         for k in self._mods},
        }

    def _base_row(self, i: int) -> int:
        if self._rows is None:
            return i
        if isinstance(self._rows, slice):
            return self._rows.start + i * self._rows.step
        return int(self._rows[i])

    # ------------------------------------------------------------------ selection
    def select(
        self,
        modalities: Sequence[str] | str | None = None,
        samples: Any = None,
        *,
        targets: Sequence[str] | str | None = None,
    ) -> MultimodalDataset:
        """A dataset restricted to some modalities, samples and targets, sharing the arrays.

        Parameters
        ----------
        modalities : str or sequence of str, optional
            Modalities to keep, in this order (all when omitted).
        samples : slice, boolean mask or integer indices, optional
            Samples to keep (all when omitted). Nothing is copied: rows are gathered when an
            array is read.
        targets : str or sequence of str, optional
            Targets to keep (all when omitted). The default target is kept when selected,
            otherwise the first kept target becomes the default.

        Returns
        -------
        MultimodalDataset
        """
        mod_names = self._pick(modalities, self._mods, "modalities")
        tgt_names = self._pick(targets, self._tgts, "targets") if targets is not None else list(
            self._tgts)
        new = object.__new__(MultimodalDataset)
        new._mods = {k: self._mods[k] for k in mod_names}
        new._tgts = {k: self._tgts[k] for k in tgt_names}
        new._obs = {k: v for k, v in self._obs.items() if k in new._mods}
        new.metadata = replace(
            self.metadata,
            modality_kinds={k: v for k, v in self.metadata.modality_kinds.items()
                            if k in new._mods},
        )
        new.allow_nonfinite = self.allow_nonfinite
        new._default = self._default if self._default in new._tgts else next(iter(new._tgts),
                                                                             None)
        if samples is None:
            new._rows, new._n = self._rows, self._n
        else:
            inner = _index_rows(self._n, samples)
            new._rows = _compose(self._rows, self._base_len(), inner)
            new._n = len(np.arange(self._n)[inner])
        return new

    @staticmethod
    def _pick(names: Sequence[str] | str | None, pool: Mapping[str, Any], arg: str) -> list[str]:
        if names is None:
            return list(pool)
        chosen = [names] if isinstance(names, str) else list(names)
        if not chosen:
            raise InvalidInputError(f"`{arg}` must name at least one of {sorted(pool)}.")
        for n in chosen:
            if n not in pool:
                raise InvalidInputError(
                    f"`{arg}` names {n!r}, which is not one of {sorted(pool)}."
                )
        if len(set(chosen)) != len(chosen):
            raise InvalidInputError(f"`{arg}` names a modality twice: {chosen}.")
        return chosen

    # ------------------------------------------------------------------ splits
    def split_indices(
        self,
        *,
        validation: float = 0.1,
        test: float = 0.2,
        seed: int = 0,
        stratify: bool | str = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted row indices of a random train/validation/test split, deterministic by seed.

        Parameters
        ----------
        validation, test : float
            Fractions of the samples in the validation and test parts (each in [0, 1),
            together < 1). Each part gets ``round(fraction * n)`` samples (per class when
            stratified).
        seed : int
            Seed of the permutation; the same seed gives the same split.
        stratify : bool or str
            Keep class proportions of the default target (True) or of the named target.

        Returns
        -------
        train, validation, test : numpy.ndarray
            Disjoint sorted int64 index arrays covering all samples.
        """
        v = check_float(validation, "validation", low=0.0, high=1.0, high_open=True)
        t = check_float(test, "test", low=0.0, high=1.0, high_open=True)
        if v + t >= 1.0:
            raise InvalidInputError(
                f"`validation` + `test` must be < 1 so that training keeps samples, got {v + t}."
            )
        seed = check_int(seed, "seed", minimum=0)
        rng = np.random.default_rng(seed)
        if stratify is False:
            groups = [np.arange(self._n)]
        else:
            name = self._default if stratify is True else stratify
            if name is None or name not in self._tgts:
                raise InvalidInputError(
                    f"`stratify` must be True or one of the targets {sorted(self._tgts)}, got "
                    f"{stratify!r}."
                )
            y = self.targets[name]
            if y.ndim != 1:
                raise InvalidInputError(
                    f"`stratify` needs a 1-D class target; {name!r} has shape {y.shape}."
                )
            groups = [np.flatnonzero(y == c) for c in np.unique(y)]
        parts: list[list[np.ndarray]] = [[], [], []]
        for g in groups:
            perm = rng.permutation(g)
            n_test = int(math.floor(t * len(g) + 0.5))
            n_val = int(math.floor(v * len(g) + 0.5))
            parts[2].append(perm[:n_test])
            parts[1].append(perm[n_test:n_test + n_val])
            parts[0].append(perm[n_test + n_val:])
        tr, va, te = (np.sort(np.concatenate(p)).astype(np.int64) for p in parts)
        return tr, va, te

    def split(
        self,
        *,
        validation: float = 0.1,
        test: float = 0.2,
        seed: int = 0,
        stratify: bool | str = False,
    ) -> DatasetSplits:
        """Train/validation/test datasets (sharing the arrays); see :meth:`split_indices`."""
        tr, va, te = self.split_indices(validation=validation, test=test, seed=seed,
                                        stratify=stratify)
        return DatasetSplits(self.select(samples=tr), self.select(samples=va),
                             self.select(samples=te))

    # ------------------------------------------------------------------ conversions
    def to_numpy(self, target: str | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Materialise the selected samples as ``(modalities dict, target array)``.

        The arrays are the stored ones when nothing was selected, and gathered copies
        otherwise.
        """
        if target is not None and target not in self._tgts:
            raise InvalidInputError(
                f"`target` must be one of {sorted(self._tgts)}, got {target!r}."
            )
        y = self.targets[target] if target is not None else self.target
        return {k: self.modalities[k] for k in self._mods}, y

    def features(self, modalities: Sequence[str] | str | None = None) -> np.ndarray:
        """Chosen modalities flattened per sample and concatenated: ``(n_samples, n_features)``.

        Missing entries are kept as they are; use :attr:`observed` to handle them.
        """
        names = self._pick(modalities, self._mods, "modalities")
        return np.concatenate(
            [self.modalities[k].reshape(self._n, -1).astype(np.float64) for k in names], axis=1
        )

    def to_torch(self, *, target: str | None = None, dtype: str = "float32",
                 fill_missing: float = 0.0) -> Any:
        """A ``torch.utils.data.Dataset`` whose items are dicts of tensors.

        Item ``i`` is ``{"modalities": {name: tensor}, "target": tensor, "observed": {name:
        bool tensor}}`` (``"target"`` is left out when the dataset has no targets). Floating
        modalities are cast to ``dtype``; entries of missing modalities are replaced by
        ``fill_missing`` so that models never see NaN. Rows are read on demand.

        Raises
        ------
        MissingDependencyError
            When PyTorch is not installed.
        """
        torch = _import_torch()
        if target is not None and target not in self._tgts:
            raise InvalidInputError(
                f"`target` must be one of {sorted(self._tgts)}, got {target!r}."
            )
        tname = target if target is not None else self._default
        tdtype = getattr(torch, dtype, None)
        if not isinstance(tdtype, torch.dtype) or not tdtype.is_floating_point:
            raise InvalidInputError(
                f"`dtype` must name a torch floating dtype such as 'float32', got {dtype!r}."
            )
        return _torch_dataset_class()(self, tname, tdtype, float(fill_missing))

    def dataloader(self, batch_size: int = 64, *, shuffle: bool = False, seed: int = 0,
                   target: str | None = None, num_workers: int = 0, drop_last: bool = False,
                   dtype: str = "float32") -> Any:
        """A ``torch.utils.data.DataLoader`` over :meth:`to_torch`, shuffled reproducibly by seed.

        Batches are dicts shaped like the items, with a leading batch axis.
        """
        torch = _import_torch()
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        gen = torch.Generator()
        gen.manual_seed(check_int(seed, "seed", minimum=0))
        return torch.utils.data.DataLoader(
            self.to_torch(target=target, dtype=dtype), batch_size=batch_size, shuffle=shuffle,
            generator=gen, num_workers=check_int(num_workers, "num_workers", minimum=0),
            drop_last=drop_last,
        )

    def info(self) -> dict[str, Any]:
        """Summary of the dataset as a JSON-serialisable dict (shapes, dtypes, sizes, metadata)."""
        return {
            **self.metadata.to_dict(),
            "n_samples": self._n,
            "modalities": {
                k: {"shape": list(a.shape[1:]), "dtype": str(a.dtype),
                    "kind": self.metadata.modality_kinds.get(k, "other"),
                    "missing": int((~self.observed[k]).sum())}
                for k, a in self._mods.items()
            },
            "targets": {k: {"shape": list(a.shape[1:]), "dtype": str(a.dtype)}
                        for k, a in self._tgts.items()},
            "default_target": self._default,
            "nbytes": self.nbytes(),
        }


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            "This needs PyTorch; install it with `pip install interplay[models]` (or `pip "
            "install torch`)."
        ) from exc
    return torch


@functools.cache
def _torch_dataset_class() -> type:
    torch = _import_torch()

    class TorchMultimodalDataset(torch.utils.data.Dataset):  # type: ignore[name-defined]
        """PyTorch view of a :class:`MultimodalDataset`; items are dicts of tensors."""

        def __init__(self, ds: MultimodalDataset, target: str | None, dtype: Any,
                     fill: float) -> None:
            self.ds, self.target, self.dtype, self.fill = ds, target, dtype, fill

        def __len__(self) -> int:
            return len(self.ds)

        def __getitem__(self, i: int) -> dict[str, Any]:
            item = self.ds[int(i)]
            mods = {}
            for k, v in item["modalities"].items():
                t = torch.as_tensor(np.array(v))
                if t.is_floating_point():
                    t = t.to(self.dtype)
                    if not item["observed"][k]:
                        t = torch.full_like(t, self.fill)
                mods[k] = t
            out: dict[str, Any] = {
                "modalities": mods,
                "observed": {k: torch.tensor(v) for k, v in item["observed"].items()},
            }
            if self.target is not None:
                out["target"] = torch.as_tensor(np.array(item["targets"][self.target]))
            return out

    return TorchMultimodalDataset
