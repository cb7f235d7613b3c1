"""Training runs from a :class:`~interplay.training.config.RunConfig`, and their evaluation.

:func:`run_training` turns a config into a *run directory*::

    RUN_DIR/
      config.yaml              the config with every default filled in (what was run)
      result.json              metrics per seed and mean ± std; written last, atomically
      seed-<s>/model/          checkpoints of the fusion model (final.pt + final.json, ...)
      seed-<s>/unimodal-<m>/   checkpoints of the unimodal baselines (if asked for)

:func:`~interplay.analysis.evaluation.evaluate_run` reads it back.

Everything that can be wrong with a config -- a missing file, an unknown modality or target, an
encoder option the encoder does not take, a model that cannot process a batch, a device that is
not there -- is found by :func:`prepare_run` before anything is written. An interrupted run
continues with ``run_training(..., resume=True)`` from its last epoch checkpoints.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import yaml
from rich.console import Console
from torch import nn

from .. import __version__
from .._atomic import atomic_write_text
from .._json import jsonable as _jsonable
from ..balance import create_balancer
from ..data import MultimodalDataset, load_dataset, read_dataset
from ..data.registry import dataset_entry
from ..exceptions import DataFormatError, InterplayError, InvalidInputError
from ..models import (
    MultimodalModel,
    UnimodalEnsemble,
    UnimodalModel,
    create_encoder,
    create_fusion,
    create_head,
)
from .config import EncoderConfig, ObjectiveConfig, RunConfig
from .objective import MAIN_TARGET, create_objective
from .seeds import seed_everything, summarize_seeds
from .task import Task
from .trainer import Trainer, TrainResult

RUN_FORMAT = "interplay-run/1"
#: The ``kind`` of ``result.json`` (what ``interplay report`` renders).
RUN_KIND = "training_run"

Split = tuple[dict[str, torch.Tensor], torch.Tensor]


# ----------------------------------------------------------------------------- data
@dataclass
class RunData:
    """The samples of a run, split and converted to the tensors the models take.

    Attributes
    ----------
    modalities : tuple of str
    kinds : dict
        Encoder kind per modality.
    input_shapes : dict
        Per-sample shape each encoder receives (vectors flattened, images with a channel axis).
    train, validation, test : (dict, Tensor)
        Inputs ``{modality: float32 tensor}`` and targets (class codes for classification).
    classes : list or None
        The target value of each class code (classification only).
    n_outputs : int
        Classes, or regression targets.
    info : dict
        JSON-ready summary (source, sizes, shapes, missing entries filled, and a SHA-256
        ``fingerprint`` of the raw samples, targets and split that evaluation checks).
    extra_targets : dict
        Class codes of the other dataset targets the fusion objective reads
        (:attr:`~interplay.training.objective.Objective.extra_targets`), per part:
        ``{"train" | "validation" | "test": {name: tensor}}``; empty when it reads none.
    extra_classes : dict
        Number of classes of each extra target.
    """

    modalities: tuple[str, ...]
    kinds: dict[str, str]
    input_shapes: dict[str, tuple[int, ...]]
    train: Split
    validation: Split | None
    test: Split
    classes: list[Any] | None
    n_outputs: int
    info: dict[str, Any]
    extra_targets: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    extra_classes: dict[str, int] = field(default_factory=dict)

    def with_extra_targets(self, part: str) -> tuple[dict[str, torch.Tensor], Any] | None:
        """The ``"train"``, ``"validation"`` or ``"test"`` part with its target a dict
        ``{"target": y, name: codes, ...}`` holding the extra targets too (the part itself
        when there are none; None for an empty validation part)."""
        split = {"train": self.train, "validation": self.validation, "test": self.test}[part]
        if split is None or not self.extra_classes:
            return split
        inputs, y = split
        return inputs, {MAIN_TARGET: y, **self.extra_targets[part]}


def _read_dataset(cfg: RunConfig, progress: bool) -> MultimodalDataset:
    spec = cfg.dataset
    if spec.name is not None:
        options = dict(spec.options)
        loader = dataset_entry(spec.name).loader
        if "progress" in inspect.signature(loader).parameters:
            options.setdefault("progress", progress)
        try:
            return load_dataset(spec.name, **options)
        except InvalidInputError as exc:
            raise InvalidInputError(f"dataset.options: {exc}") from exc
    path = Path(spec.path or "")
    if not path.exists():
        raise InvalidInputError(f"dataset.path: no such file or folder {str(path)!r}.")
    try:
        return read_dataset(path, format=spec.format, modalities=spec.columns,
                            target=spec.targets, missing="mask")
    except InterplayError as exc:
        raise DataFormatError(f"dataset.path: {exc}") from exc


def _pick(wanted: str | Sequence[str] | None, available: Sequence[str], field: str,
          pool: str = "the dataset, which has") -> list[str]:
    """``wanted`` names (all of ``available`` when None), each checked against ``available``."""
    names = [wanted] if isinstance(wanted, str) else list(wanted or available)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise InvalidInputError(
            f"{field}: {', '.join(map(repr, unknown))} not in {pool} "
            f"{', '.join(map(repr, available))}."
        )
    return names


def _encoder_kind(shape: tuple[int, ...], declared: str) -> str:
    """Default encoder for a per-sample ``shape`` and the dataset's declared modality kind."""
    if len(shape) <= 1:
        return "embedding" if declared == "embedding" else "vector"
    if declared == "image" or len(shape) == 3:
        return "image" if len(shape) in (2, 3) else "vector"
    if declared == "audio" and len(shape) == 2:
        return "audio"
    if declared in ("sequence", "text", "signal") and len(shape) == 2:
        return "sequence"
    return "vector"


def _input_shape(kind: str, shape: tuple[int, ...], modality: str) -> tuple[int, ...]:
    if kind in ("vector", "embedding"):
        return (int(np.prod(shape, dtype=np.int64)),)
    if kind == "image" and len(shape) in (2, 3):
        return (1, *shape) if len(shape) == 2 else shape
    if kind in ("sequence", "audio") and len(shape) == 2:
        return shape
    raise InvalidInputError(
        f"encoders.{modality}.kind: {kind!r} does not fit samples of shape {shape}; image needs "
        "(H, W) or (C, H, W), sequence and audio need (T, F), vector/embedding take any shape."
    )


def _encode_target(y: np.ndarray, name: str,
                   classification: bool) -> tuple[torch.Tensor, list[Any] | None]:
    """Class codes ``0 .. k-1`` and the class values, or float targets for regression."""
    if not classification:
        return torch.as_tensor(y, dtype=torch.float32), None
    if y.ndim != 1:
        raise InvalidInputError(
            f"target: classification needs one class per sample, {name!r} has shape "
            f"{y.shape}; use task: regression."
        )
    values, codes = np.unique(y, return_inverse=True)
    if values.size < 2:
        raise InvalidInputError(f"target: {name!r} has a single class, nothing to learn.")
    return torch.as_tensor(codes.ravel(), dtype=torch.long), values.tolist()


def _model_input(x: np.ndarray, observed: np.ndarray, train: np.ndarray, standardize: bool,
                 name: str) -> np.ndarray:
    """Flattened samples, z-scored with training statistics; missing rows set to 0."""
    if standardize:
        fit = x[train[observed[train]]]
        if fit.shape[0] == 0:
            raise InvalidInputError(f"modalities: {name!r} is missing in every training sample.")
        scale = fit.std(axis=0)
        x = (x - fit.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    else:
        x = x.copy()  # never write into the dataset's own arrays
    x[~observed] = 0.0
    return x


def prepare_data(cfg: RunConfig, *, progress: bool = False) -> RunData:
    """Load, subset, split, standardise and convert the samples a config asks for.

    Standardisation (``dataset.standardize``) centres each input entry and divides it by its
    standard deviation, both measured on the training part only; entries of a missing modality
    are then set to 0 (the training mean).
    """
    ds = _read_dataset(cfg, progress)
    modalities = _pick(cfg.modalities, ds.modality_names, "modalities")
    if len(modalities) < 2:
        raise InvalidInputError(
            f"modalities: fusion needs at least two modalities; the dataset has only "
            f"{modalities}."
        )
    if not ds.target_names:
        raise InvalidInputError("target: the dataset has no target to train on.")
    target = _pick(cfg.target or ds.default_target, ds.target_names, "target")[0]
    _pick(list(cfg.encoders), modalities, "encoders", "the run's modalities")
    extra = {name: np.asarray(ds.targets[name])
             for name in _pick(list(objective_extra_targets(cfg)), ds.target_names,
                               "objective: extra target", "the dataset, whose targets are")}
    ds = ds.select(modalities, targets=[target])
    n_all = ds.n_samples
    if cfg.dataset.max_samples is not None and cfg.dataset.max_samples < n_all:
        rng = np.random.default_rng(cfg.split.seed)
        keep = np.sort(rng.choice(n_all, cfg.dataset.max_samples, replace=False))
        ds = ds.select(samples=keep)
        extra = {name: values[keep] for name, values in extra.items()}

    y = np.asarray(ds.target)
    classification = cfg.task == "classification"
    y_t, classes = _encode_target(y, target, classification)
    parts = ds.split_indices(validation=cfg.split.validation, test=cfg.split.test,
                             seed=cfg.split.seed, stratify=cfg.split.stratify and classification)
    if min(len(parts[0]), len(parts[2])) == 0:
        raise InvalidInputError(
            f"split: {ds.n_samples} samples leave an empty training or test part; use more "
            "samples or other fractions."
        )

    kinds: dict[str, str] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    arrays: dict[str, torch.Tensor] = {}
    filled: dict[str, int] = {}
    declared = ds.metadata.modality_kinds
    digest = hashlib.sha256(np.ascontiguousarray(y).tobytes())
    for rows in parts:
        digest.update(rows.tobytes())
    for m in modalities:
        raw = np.asarray(ds.modalities[m], dtype=np.float64)
        digest.update(np.ascontiguousarray(raw).tobytes())
        shape = tuple(int(s) for s in raw.shape[1:])
        chosen = cfg.encoders[m].kind if m in cfg.encoders else None
        kinds[m] = chosen or _encoder_kind(shape, declared.get(m, "other"))
        shapes[m] = _input_shape(kinds[m], shape, m)
        observed = np.asarray(ds.observed[m], dtype=bool)
        x = _model_input(raw.reshape(raw.shape[0], -1), observed, parts[0],
                         cfg.dataset.standardize, m)
        filled[m] = int((~observed).sum())
        arrays[m] = torch.as_tensor(x.reshape(-1, *shapes[m]), dtype=torch.float32)

    def part(rows: np.ndarray) -> Split:
        idx = torch.as_tensor(rows, dtype=torch.long)
        return {m: arrays[m][idx] for m in modalities}, y_t[idx]

    extra_codes = {name: _encode_target(values, name, True) for name, values in extra.items()}
    for codes, _ in extra_codes.values():
        digest.update(codes.numpy().tobytes())
    extra_parts = {} if not extra else {
        name: {n: codes[torch.as_tensor(rows, dtype=torch.long)]
               for n, (codes, _) in extra_codes.items()}
        for name, rows in zip(("train", "validation", "test"), parts, strict=True)}

    n_outputs = len(classes) if classes is not None else (1 if y.ndim == 1 else y.shape[1])
    info = {
        "source": cfg.dataset.name or str(cfg.dataset.path), "target": target,
        "n_samples": {"total": ds.n_samples, "train": len(parts[0]),
                      "validation": len(parts[1]), "test": len(parts[2])},
        "modalities": {m: {"shape": list(ds.shapes()[m]), "encoder": kinds[m],
                           "input_shape": list(shapes[m]), "missing_filled": filled[m]}
                       for m in modalities},
        "classes": classes,
        "fingerprint": digest.hexdigest(),
    }
    if extra:
        info["extra_targets"] = {n: values for n, (_, values) in extra_codes.items()}
    return RunData(tuple(modalities), kinds, shapes, part(parts[0]),
                   part(parts[1]) if len(parts[1]) else None, part(parts[2]), classes,
                   n_outputs, info, extra_parts,
                   {n: len(values) for n, (_, values) in extra_codes.items()})


def objective_extra_targets(cfg: RunConfig) -> tuple[str, ...]:
    """The dataset targets, besides the main one, that the config's objective reads."""
    return () if cfg.objective is None else _objective(cfg.objective).extra_targets


def _objective(spec: ObjectiveConfig) -> Any:
    try:
        return create_objective(spec.name, **spec.options)
    except InvalidInputError as exc:
        raise InvalidInputError(f"objective: {exc}") from exc


# ---------------------------------------------------------------------------- models
def _encoder(cfg: RunConfig, data: RunData, m: str) -> tuple[nn.Module, int]:
    spec = cfg.encoders.get(m) or EncoderConfig()
    try:
        return create_encoder(data.kinds[m], data.input_shapes[m], spec.output_dim,
                              **spec.options), spec.output_dim
    except InvalidInputError as exc:
        raise InvalidInputError(f"encoders.{m}: {exc}") from exc


def _head(cfg: RunConfig, data: RunData, input_dim: int) -> nn.Module:
    return create_head(cfg.task, input_dim, data.n_outputs, hidden_dim=cfg.head.hidden_dim,
                       dropout=cfg.head.dropout)


def build_model(cfg: RunConfig, data: RunData, modality: str | None = None) -> nn.Module:
    """The fusion model of ``cfg`` (a :class:`MultimodalModel`), or with ``modality`` the
    unimodal baseline on that modality (same encoder and head settings)."""
    if modality is not None:
        encoder, dim = _encoder(cfg, data, modality)
        return UnimodalModel(modality, encoder, _head(cfg, data, dim))
    built = {m: _encoder(cfg, data, m) for m in data.modalities}
    try:
        fusion = create_fusion(cfg.fusion.name, {m: d for m, (_, d) in built.items()},
                               cfg.fusion.output_dim, **cfg.fusion.options)
    except InvalidInputError as exc:
        raise InvalidInputError(f"fusion: {exc}") from exc
    return MultimodalModel({m: e for m, (e, _) in built.items()}, fusion,
                           _head(cfg, data, fusion.output_dim))


def make_task(cfg: RunConfig, model: nn.Module,
              extra_classes: Mapping[str, int] | None = None) -> Task:
    """The :class:`Task` of ``cfg``. The fusion model gets the config's objective (its
    weighted ``losses`` by default), its balancer and its modality curves; a unimodal baseline
    trains on the supervised losses alone (there is nothing to balance). ``extra_classes``
    (:attr:`RunData.extra_classes`) tells an objective that reads extra targets their sizes."""
    weights = cfg.loss_weights()
    metrics = [m for m in cfg.metric_names() if not m.startswith("loss_")]
    fusion = isinstance(model, MultimodalModel)
    balancer = (create_balancer(cfg.balance.name, **cfg.balance.options)
                if fusion and cfg.balance is not None else None)
    curves = fusion and cfg.trainer.modality_curves
    if fusion and cfg.objective is not None:
        objective = _objective(cfg.objective)
        try:
            objective.bind_targets(dict(extra_classes or {}))
            return Task(model, objective=objective, balancer=balancer, metrics=metrics,
                        modality_curves=curves)
        except InvalidInputError as exc:
            raise InvalidInputError(f"objective: {exc}") from exc
    if len(weights) == 1 and next(iter(weights.values())) == 1.0:
        loss: Any = next(iter(weights))
        loss_weights = None
    else:
        loss, loss_weights = {k: k for k in weights}, weights
    try:
        return Task(model, loss, loss_weights=loss_weights, balancer=balancer, metrics=metrics,
                    modality_curves=curves)
    except InvalidInputError as exc:
        raise InvalidInputError(f"balance: {exc}") from exc


def make_trainer(cfg: RunConfig, seed: int, checkpoint_dir: Path | None = None,
                 progress: bool = True) -> Trainer:
    """A :class:`Trainer` with the config's options for one seed."""
    t = cfg.trainer
    return Trainer(max_epochs=t.epochs, batch_size=t.batch_size, optimizer=t.optimizer, lr=t.lr,
                   weight_decay=t.weight_decay, momentum=t.momentum, scheduler=t.scheduler,
                   grad_clip_norm=t.grad_clip_norm, device=t.device, seed=seed,
                   patience=t.patience, monitor=t.monitor, checkpoint_dir=checkpoint_dir,
                   progress=progress)


def build_tasks(cfg: RunConfig, data: RunData, seed: int) -> dict[str | None, Task]:
    """The tasks one seed trains, each model built once under ``seed``: the fusion model (key
    None) and, with ``baselines.unimodal``, one unimodal model per modality."""
    names = [None, *(data.modalities if cfg.baselines.unimodal else ())]
    tasks: dict[str | None, Task] = {}
    for modality in names:
        seed_everything(seed)  # each model's initial weights depend on the seed alone
        tasks[modality] = make_task(cfg, build_model(cfg, data, modality), data.extra_classes)
    return tasks


def _dry_run(tasks: Mapping[str | None, Task], data: RunData) -> None:
    """Push two training samples through every task (loss included), in evaluation mode and
    without gradients, so the models' weights and statistics stay as built."""
    for modality, task in tasks.items():
        inputs, target = _parts(data, task)[0]
        batch = {m: x[:2] for m, x in inputs.items()}
        task.eval()
        try:
            with torch.no_grad():
                task(batch, _rows(target, slice(0, 2)))
        except (RuntimeError, ValueError, IndexError) as exc:
            what = "the fusion model" if modality is None else f"the {modality!r} baseline"
            raise InvalidInputError(
                f"{what} cannot process a batch of this data: {exc}. Check the encoder kinds "
                "and options (e.g. return_sequence needs an attention fusion)."
            ) from exc


def _parts(data: RunData, task: Task) -> tuple[Any, Any, Any]:
    """Train, validation and test data for ``task``: with the extra targets its objective
    reads (a dict target), else the plain parts."""
    if getattr(task.objective, "extra_targets", ()):
        return tuple(data.with_extra_targets(p) for p in ("train", "validation", "test"))
    return data.train, data.validation, data.test


def _rows(target: Any, rows: Any) -> Any:
    """Some rows of a target tensor or of each tensor of a dict of targets."""
    if isinstance(target, Mapping):
        return {k: v[rows] for k, v in target.items()}
    return target[rows]


def _check_trainer(cfg: RunConfig) -> None:
    try:
        make_trainer(cfg, cfg.trainer.seeds[0], progress=False)
    except InvalidInputError as exc:
        raise InvalidInputError(f"trainer: {exc}") from exc


def prepare_run(cfg: RunConfig, *,
                progress: bool = False) -> tuple[RunData, dict[str | None, Task]]:
    """Check everything a run needs (data, trainer options, models); write nothing.

    Returns the data and the first seed's tasks, built and checked on a batch, ready to train.
    """
    data = prepare_data(cfg, progress=progress)
    _check_trainer(cfg)
    tasks = build_tasks(cfg, data, cfg.trainer.seeds[0])
    _check_batches(cfg, data, tasks[None])
    _dry_run(tasks, data)
    return data, tasks


def _check_batches(cfg: RunConfig, data: RunData, task: Task) -> None:
    """Refuse a batch size that leaves a batch smaller than the objective can use (a
    contrastive batch of one has no negatives), in any part the run passes through it."""
    need = int(getattr(task.objective, "min_batch_size", 1))
    size = cfg.trainer.batch_size
    for part, split in (("training", data.train), ("validation", data.validation),
                        ("test", data.test)):
        n = 0 if split is None else len(next(iter(split[0].values())))
        smallest = min(size, n) if n % size == 0 else n % size
        if 0 < smallest < need:
            raise InvalidInputError(
                f"trainer.batch_size: the objective needs batches of at least {need} samples "
                f"(the other samples of a batch are its negatives); {size} leaves a batch of "
                f"{smallest} in the {part} part ({n} samples). Choose another batch_size.")


def resolved_config(cfg: RunConfig, data: RunData, output_dir: Path) -> dict[str, Any]:
    """The config with every default filled in, as plain values (what ``config.yaml`` holds)."""
    out = cfg.model_dump(mode="json")
    if cfg.dataset.path is not None:
        out["dataset"]["path"] = str(Path(cfg.dataset.path).resolve())
    out["modalities"] = list(data.modalities)
    out["target"] = data.info["target"]
    default = EncoderConfig().model_dump(mode="json")
    out["encoders"] = {m: {**out["encoders"].get(m, default), "kind": data.kinds[m]}
                       for m in data.modalities}
    out["losses"] = cfg.loss_weights()
    out["output_dir"] = str(output_dir.resolve())
    return out


# -------------------------------------------------------------------------- training
def _fit_one(cfg: RunConfig, data: RunData, seed: int, modality: str | None, task: Task,
             folder: Path, progress: bool, resume: bool) -> dict[str, Any]:
    if progress:
        what = f"{cfg.fusion.name} fusion" if modality is None else f"unimodal {modality}"
        Console(stderr=True).print(f"seed {seed}: {what}", highlight=False)
    trainer = make_trainer(cfg, seed, folder, progress)
    train, validation, test_part = _parts(data, task)
    t0 = time.perf_counter()
    fit: TrainResult = trainer.fit(task, train, validation, resume=resume)
    seconds = time.perf_counter() - t0
    test = trainer.evaluate(task, test_part)
    return {
        "seed": seed, "best_epoch": fit.best_epoch, "epochs_completed": fit.epochs_completed,
        "stopped_early": fit.stopped_early, "resumed_from_epoch": fit.resumed_from_epoch,
        "monitor": fit.monitor, "seconds": seconds,
        "metrics": {**fit.metrics, **{f"test_{k}": v for k, v in test.items()}},
        "checkpoint": str(folder / "final"), "history": fit.history,
    }


def _ensemble_record(cfg: RunConfig, data: RunData, seed: int,
                     models: dict[str, UnimodalModel]) -> dict[str, Any]:
    ensemble = UnimodalEnsemble(
        models, combine="probabilities" if cfg.task == "classification" else "mean")
    task = make_task(cfg, ensemble)
    trainer = make_trainer(cfg, seed, progress=False)
    metrics = {f"test_{k}": v for k, v in trainer.evaluate(task, data.test).items()}
    if data.validation is not None:
        metrics.update({f"val_{k}": v for k, v in trainer.evaluate(task,
                                                                   data.validation).items()})
    return {"seed": seed, "metrics": metrics}


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"per_seed": records,
            "summary": summarize_seeds([r["metrics"] for r in records]).to_dict()}


def run_training(cfg: RunConfig, *, output_dir: str | Path | None = None,
                 progress: bool = True, resume: bool = False) -> dict[str, Any]:
    """Train the config's model once per seed and write the run directory.

    Parameters
    ----------
    cfg : RunConfig
    output_dir : path, optional
        Overrides ``cfg.output_dir``. It must not exist yet or be empty (unless resuming).
    progress : bool
        Progress bars while training.
    resume : bool
        Continue an interrupted run in ``output_dir``: its ``config.yaml`` must equal this
        config once resolved, and it must have no ``result.json`` yet. Each model continues
        from its last epoch checkpoint (one without checkpoints starts afresh); the exact
        resume of :meth:`Trainer.fit` makes the result that of an uninterrupted run.

    Returns
    -------
    dict
        What ``result.json`` holds: the resolved config, data summary, and per run kind
        (``"model"``, ``"unimodal:<m>"``, ``"ensemble"``) the records per seed (metrics of the
        best epoch, test metrics, checkpoint stem, history) and their mean ± std
        (:func:`~interplay.training.summarize_seeds`; std is None for one seed).

    Raises
    ------
    InvalidInputError
        On anything :func:`prepare_run` finds, an output folder that is not empty, or a run
        that cannot be resumed; nothing is written then.
    """
    target = output_dir if output_dir is not None else cfg.output_dir
    if target is None:
        raise InvalidInputError("output_dir: say where to write the run (`output_dir`).")
    out = Path(target)
    if not resume and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInputError(
            f"output_dir: {str(out)!r} already exists and is not an empty folder; choose "
            "another, remove it, or resume an interrupted run there (`resume=True`)."
        )
    data, first = prepare_run(cfg, progress=progress)
    resolved = resolved_config(cfg, data, out)
    t0 = time.perf_counter()
    if resume:
        _check_resumable(out, resolved)
    else:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))

    runs: dict[str, list[dict[str, Any]]] = {"model": []}
    n_params = sum(p.numel() for p in first[None].model.parameters())
    for seed in cfg.trainer.seeds:
        tasks = first if seed == cfg.trainer.seeds[0] else build_tasks(cfg, data, seed)
        folder = out / f"seed-{seed}"
        runs["model"].append(_fit_one(cfg, data, seed, None, tasks[None], folder / "model",
                                      progress, resume))
        if cfg.baselines.unimodal:
            for m in data.modalities:
                runs.setdefault(f"unimodal:{m}", []).append(_fit_one(
                    cfg, data, seed, m, tasks[m], folder / f"unimodal-{m}", progress, resume))
            uni = {m: cast(UnimodalModel, tasks[m].model) for m in data.modalities}
            runs.setdefault("ensemble", []).append(_ensemble_record(cfg, data, seed, uni))
    result = _jsonable({
        "kind": RUN_KIND, "interplay_version": __version__, "format": RUN_FORMAT,
        "config": resolved, "data": data.info,
        "model": {"fusion": cfg.fusion.name, "n_parameters": n_params},
        "seeds": list(cfg.trainer.seeds),
        "runs": {name: _summary(records) for name, records in runs.items()},
        "seconds": time.perf_counter() - t0, "torch_version": torch.__version__,
    })
    write_json(out / "result.json", result)
    return result


def _check_resumable(out: Path, resolved: dict[str, Any]) -> None:
    record = out / "config.yaml"
    if (out / "result.json").exists():
        raise InvalidInputError(f"resume: the run in {str(out)!r} has already finished.")
    if not record.is_file():
        raise InvalidInputError(f"resume: {str(out)!r} holds no run to resume (no config.yaml).")
    try:
        before = yaml.safe_load(record.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"resume: {record} is not valid YAML: {exc}") from exc
    if not isinstance(before, dict):
        before = {}
    differ = [k for k in resolved if before.get(k) != resolved[k]]
    if differ:
        raise InvalidInputError(
            f"resume: the config differs from the interrupted run's in {', '.join(differ)}; "
            "a resumed run must use the same config."
        )


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as indented JSON, atomically (NaN/inf must already be None)."""
    atomic_write_text(path, json.dumps(payload, indent=2, allow_nan=False) + "\n")
