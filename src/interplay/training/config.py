"""The configuration of a training run (``interplay train CONFIG.yaml``), validated with pydantic.

A run config is a YAML mapping with these sections (every one but ``dataset`` is optional)::

    dataset:   {name: mfeat}               # or {path: data.npz, columns: ..., targets: ...}
    modalities: [fou, kar]                 # default: every modality of the dataset
    target: digit                          # default: the dataset's default target
    task: classification                   # or regression
    split:     {validation: 0.1, test: 0.2, seed: 0, stratify: true}
    encoders:  {fou: {kind: vector, output_dim: 32, options: {hidden_dims: [64]}}}
    fusion:    {name: late, output_dim: 64, options: {}}
    head:      {hidden_dim: null, dropout: 0.0}
    losses:    {cross_entropy: 1.0}
    trainer:   {epochs: 20, batch_size: 64, lr: 0.001, patience: 5, device: cpu, seeds: [0],
                modality_curves: false}
    balance:   {name: ogm_ge, options: {alpha: 0.5}}     # optional; interplay.balance
    baselines: {unimodal: false}
    output_dir: runs/mfeat-late

:func:`load_config` reads and validates such a file. Every problem -- bad YAML, an unknown key,
a value of the wrong type or out of range, an unknown fusion -- becomes one
:class:`~interplay.exceptions.InvalidInputError` whose message names the field path (e.g.
``trainer.epochs``), what was expected and what arrived. Checks that need the data (do the
modalities exist?) happen when the run is prepared (:func:`interplay.training.run.prepare_run`).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..data.registry import list_datasets
from ..exceptions import InvalidInputError
from ..models import list_fusions

#: Losses that fit each task (built-in names of :class:`~interplay.training.Task`).
TASK_LOSSES = {"classification": ("cross_entropy",), "regression": ("mse", "mae")}
#: Metrics reported for each task, besides the loss.
TASK_METRICS = {"classification": ("accuracy",), "regression": ("mse", "mae")}
DEFAULT_LOSS = {"classification": "cross_entropy", "regression": "mse"}


class _Section(BaseModel):
    """A config section: unknown keys are errors, and validated values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetConfig(_Section):
    """Where the samples come from: a bundled dataset (``name``) or a file (``path``)."""

    name: str | None = Field(default=None,
                             description="A bundled dataset (`interplay datasets list`).")
    path: str | None = Field(default=None,
                             description="A .npz, .parquet or .csv file, or an HF folder.")
    format: Literal["npz", "parquet", "csv", "hf"] | None = None
    columns: dict[str, str | list[str]] | None = Field(
        default=None, description="Per modality, the column/array (or list of columns).")
    targets: list[str] | None = Field(default=None, description="Target column(s) in the file.")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="Keyword arguments of the bundled loader.")
    max_samples: int | None = Field(default=None, ge=4, description="Train on a random subset.")
    standardize: bool = True

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str | None) -> str | None:
        if name is not None and name not in list_datasets():
            raise ValueError(
                f"unknown bundled dataset {name!r}; choose one of {', '.join(list_datasets())}, "
                "or give `path` to a file"
            )
        return name

    @model_validator(mode="after")
    def _one_source(self) -> DatasetConfig:
        if (self.name is None) == (self.path is None):
            raise ValueError("give exactly one of `name` (a bundled dataset) or `path` (a file)")
        if self.name is not None:
            given = [k for k in ("format", "columns", "targets") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"{', '.join(given)} apply to a file (`path`), not to `name`")
        elif self.options:
            raise ValueError("`options` are arguments of a bundled loader; they need `name`")
        return self


class SplitConfig(_Section):
    """Random train/validation/test split, deterministic by seed."""

    validation: float = Field(default=0.1, ge=0.0, lt=1.0)
    test: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = Field(default=0, ge=0, lt=2**32)
    stratify: bool = True

    @model_validator(mode="after")
    def _room_to_train(self) -> SplitConfig:
        if self.validation + self.test >= 1.0:
            raise ValueError(
                f"validation + test must be < 1 so that samples remain to train on, got "
                f"{self.validation} + {self.test}"
            )
        return self


class EncoderConfig(_Section):
    """One modality's encoder; ``kind`` defaults from the modality's shape and declared kind."""

    kind: Literal["vector", "image", "sequence", "audio", "embedding"] | None = None
    output_dim: int = Field(default=32, ge=1)
    options: dict[str, Any] = Field(default_factory=dict)


class FusionConfig(_Section):
    """A fusion module of the registry (:func:`interplay.models.list_fusions`)."""

    name: str = "late"
    output_dim: int = Field(default=64, ge=1)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name not in list_fusions():
            raise ValueError(
                f"unknown fusion {name!r}; choose one of {', '.join(list_fusions())}"
            )
        return name


class HeadConfig(_Section):
    """The prediction head on top of the fused representation."""

    hidden_dim: int | None = Field(default=None, ge=1)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)


class TrainerConfig(_Section):
    """Options of :class:`~interplay.training.Trainer`; one training run per seed."""

    epochs: int = Field(default=20, ge=1)
    batch_size: int = Field(default=64, ge=1)
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(default=1e-3, gt=0.0)
    weight_decay: float = Field(default=0.0, ge=0.0)
    momentum: float = Field(default=0.0, ge=0.0)
    scheduler: Literal["cosine"] | None = None
    grad_clip_norm: float | None = Field(default=None, gt=0.0)
    modality_curves: bool = Field(
        default=False,
        description="Log each modality's metric with the others masked, and the gradient norm "
                    "reaching its encoder, every epoch (fusion model).")
    patience: int | None = Field(default=5, ge=1)
    monitor: str | None = None
    device: str = "cpu"
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "modality_dropout" in data:
            raise ValueError(
                "trainer.modality_dropout moved to the balance section: write "
                f"`balance: {{name: modality_dropout, options: {{p: {data['modality_dropout']}}}}}`"
            )
        return data

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        bad = [s for s in seeds if not 0 <= s < 2**32]
        if bad:
            raise ValueError(f"seeds must lie in [0, 2**32), got {bad}")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct, got {seeds}")
        return seeds


class ObjectiveConfig(_Section):
    """What the fusion model minimises (:func:`interplay.training.objective.list_objectives`);
    without this section, the supervised ``losses``."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        from .objective import list_objectives

        known = list_objectives()
        if name not in known:
            raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(known)}")
        if name == "supervised":
            raise ValueError("the supervised objective is the default; set `losses` instead")
        return name


class BalanceConfig(_Section):
    """A modality balancer for the fusion model (:func:`interplay.balance.list_balancers`)."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _buildable(self) -> BalanceConfig:
        from ..balance import create_balancer

        try:
            create_balancer(self.name, **self.options)
        except InvalidInputError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
        return self


class BaselinesConfig(_Section):
    """Comparison models trained in the same run, on the same split and seeds."""

    unimodal: bool = Field(default=False,
                           description="One model per modality, and their ensemble.")


class RunConfig(_Section):
    """A whole training run. See the module docstring for the layout."""

    dataset: DatasetConfig
    modalities: list[str] | None = Field(default=None, min_length=2)
    target: str | None = None
    task: Literal["classification", "regression"] = "classification"
    split: SplitConfig = SplitConfig()
    encoders: dict[str, EncoderConfig] = Field(default_factory=dict)
    fusion: FusionConfig = FusionConfig()
    head: HeadConfig = HeadConfig()
    losses: dict[str, float] | None = None
    trainer: TrainerConfig = TrainerConfig()
    objective: ObjectiveConfig | None = None
    balance: BalanceConfig | None = None
    baselines: BaselinesConfig = BaselinesConfig()
    output_dir: str | None = None

    @field_validator("modalities")
    @classmethod
    def _distinct_modalities(cls, names: list[str] | None) -> list[str] | None:
        if names is not None and len(set(names)) != len(names):
            raise ValueError(f"modalities must be distinct, got {names}")
        return names

    @model_validator(mode="after")
    def _fits_task(self) -> RunConfig:
        allowed = TASK_LOSSES[self.task]
        if self.losses is not None:
            if not self.losses:
                raise ValueError("losses must name at least one loss")
            wrong = [k for k in self.losses if k not in allowed]
            if wrong:
                raise ValueError(
                    f"losses {wrong} do not fit task {self.task!r}; use {', '.join(allowed)}"
                )
        monitor = self.trainer.monitor
        if monitor is not None:
            names = ["loss", *self.metric_names()]
            prefixes = ["train", "val"] if self.split.validation > 0 else ["train"]
            choices = [f"{p}_{n}" for p in prefixes for n in names]
            if monitor not in choices:
                raise ValueError(
                    f"trainer.monitor must be one of {', '.join(choices)}, got {monitor!r}"
                )
        return self

    def loss_weights(self) -> dict[str, float]:
        """``{loss name: weight}``, defaulting to the task's usual loss."""
        return dict(self.losses) if self.losses else {DEFAULT_LOSS[self.task]: 1.0}

    def metric_names(self) -> list[str]:
        """Names the task reports besides ``loss`` (per-loss terms when there are several)."""
        weights = self.loss_weights()
        terms = [f"loss_{k}" for k in weights] if len(weights) > 1 else []
        return terms + list(TASK_METRICS[self.task])


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Read and validate a run config from a YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    overrides : dict, optional
        Values that replace the file's, by dotted field path, e.g.
        ``{"trainer.seeds": [0, 1], "output_dir": "runs/x"}`` (the command-line options).

    Returns
    -------
    RunConfig

    Raises
    ------
    InvalidInputError
        The file is missing or is not valid YAML (the message gives the line and column), or a
        field is unknown, of the wrong type or out of range (the message names each field path,
        what it expects and what it got).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "run.yaml")
    >>> _ = open(p, "w").write("dataset: {name: mfeat}\\nfusion: {name: tensor}\\n")
    >>> load_config(p, {"trainer.epochs": 3}).trainer.epochs
    3
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"config file {str(path)!r} does not exist.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInputError(f"{path} is not valid YAML{where}: {problem}.") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not a UTF-8 text file: {exc}.") from exc
    if not isinstance(raw, dict):
        raise InvalidInputError(
            f"{path} must hold a mapping of sections (dataset, trainer, ...), got "
            f"{'an empty file' if raw is None else type(raw).__name__}."
        )
    return config_from_dict(raw, overrides, source=str(path))


def config_from_dict(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, *,
                     source: str = "config") -> RunConfig:
    """Validate a config given as a dict (see :func:`load_config`)."""
    merged = _apply_overrides(dict(data), overrides or {})
    try:
        return RunConfig.model_validate(merged)
    except ValidationError as exc:
        lines = [_describe_error(err) for err in exc.errors()]
        raise InvalidInputError(
            f"invalid config {source} ({len(lines)} problem{'s' if len(lines) > 1 else ''}):\n  "
            + "\n  ".join(lines)
        ) from None


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = data
        for i, key in enumerate(parents):
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif not isinstance(child, dict):
                raise InvalidInputError(
                    f"cannot set {dotted}: {'.'.join(parents[:i + 1])} is not a mapping."
                )
            else:
                child = node[key] = dict(child)
            node = child
        node[leaf] = value
    return data


def _describe_error(err: Mapping[str, Any]) -> str:
    loc = tuple(err["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"{where}: unknown key; allowed here: {', '.join(allowed)}."
    if kind == "missing":
        return f"{where}: required, but missing."
    msg = str(err["msg"])
    if kind == "value_error":  # our own validators' messages say what arrived
        return f"{where}: {msg.removeprefix('Value error, ')}."
    return f"{where}: {msg[0].lower() + msg[1:]}; got {_short(err.get('input'))}."


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the section at ``loc`` (dict keys such as modality names are skipped)."""
    model: Any = RunConfig
    key_next = False
    for part in loc:
        if key_next:  # a key of dict[str, Section], e.g. a modality name
            key_next = False
            continue
        if part not in model.model_fields:
            return []
        found = _section_type(model.model_fields[part].annotation)
        if found is None:
            return []
        key_next = isinstance(found, tuple)
        model = found[0] if key_next else found
    return list(model.model_fields)


def _section_type(annotation: Any) -> Any:
    """The section class inside ``annotation``; ``(cls,)`` for ``dict[str, cls]``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _section_type(arg)
            if found is not None:
                return found
        return None
    if origin is dict:
        inner = _section_type(typing.get_args(annotation)[1])
        return (inner,) if isinstance(inner, type) else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


__all__ = [
    "BalanceConfig",
    "BaselinesConfig",
    "DatasetConfig",
    "EncoderConfig",
    "FusionConfig",
    "HeadConfig",
    "ObjectiveConfig",
    "RunConfig",
    "SplitConfig",
    "TrainerConfig",
    "config_from_dict",
    "load_config",
]

