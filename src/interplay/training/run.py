"""Training runs from a :class:`~interplay.training.config.RunConfig`, and their evaluation.

:func:`run_training` turns a config into a *run directory*::

    RUN_DIR/
      config.yaml              the config with every default filled in (what was run)
      result.json              metrics per seed and mean ± std; written last, atomically
      seed-<s>/model/          checkpoints of the fusion model (final.pt + final.json, ...)
      seed-<s>/unimodal-<m>/   checkpoints of the unimodal baselines (if asked for)

:func:`evaluate_run` reads it back (checkpoints through the safe loader, never unpickling) and
measures test accuracy, robustness curves, cross-modal consistency and the model's PID next to
the data's.

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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import torch
import yaml
from rich.console import Console
from torch import nn

from ..analysis import (
    cross_modal_consistency,
    effective_robustness,
    model_pid,
    pid_agreement,
    relative_robustness,
    robustness_sweep,
)
from ..analysis.robustness import RobustnessResult
from ..data import MultimodalDataset, load_dataset, read_dataset
from ..data.registry import dataset_entry
from ..exceptions import DataFormatError, InterplayError, InvalidInputError, SmallSampleWarning
from ..info.estimate import quantify
from ..info.estimate.cluster import cluster_labels, reduce_dimension
from ..info.estimate.resampling import _progress
from ..info.pid.result import _jsonable
from ..models import (
    MultimodalModel,
    UnimodalEnsemble,
    UnimodalModel,
    create_encoder,
    create_fusion,
    create_head,
)
from .checkpoint import atomic_write, load_checkpoint
from .config import EncoderConfig, RunConfig, config_from_dict
from .seeds import seed_everything, summarize_seeds
from .task import Task
from .trainer import Trainer, TrainResult

RUN_FORMAT = "interplay-run/1"
EVALUATION_FORMAT = "interplay-evaluation/1"

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
    ds = ds.select(modalities, targets=[target])
    n_all = ds.n_samples
    if cfg.dataset.max_samples is not None and cfg.dataset.max_samples < n_all:
        rng = np.random.default_rng(cfg.split.seed)
        ds = ds.select(samples=np.sort(rng.choice(n_all, cfg.dataset.max_samples, replace=False)))

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
    return RunData(tuple(modalities), kinds, shapes, part(parts[0]),
                   part(parts[1]) if len(parts[1]) else None, part(parts[2]), classes,
                   n_outputs, info)


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


def make_task(cfg: RunConfig, model: nn.Module) -> Task:
    """The :class:`Task` of ``cfg``: its weighted losses and the task's metrics."""
    weights = cfg.loss_weights()
    metrics = [m for m in cfg.metric_names() if not m.startswith("loss_")]
    if len(weights) == 1 and next(iter(weights.values())) == 1.0:
        return Task(model, next(iter(weights)), metrics=metrics)
    return Task(model, {k: k for k in weights}, loss_weights=weights, metrics=metrics)


def make_trainer(cfg: RunConfig, seed: int, checkpoint_dir: Path | None = None,
                 progress: bool = True) -> Trainer:
    """A :class:`Trainer` with the config's options for one seed."""
    t = cfg.trainer
    return Trainer(max_epochs=t.epochs, batch_size=t.batch_size, optimizer=t.optimizer, lr=t.lr,
                   weight_decay=t.weight_decay, momentum=t.momentum, scheduler=t.scheduler,
                   grad_clip_norm=t.grad_clip_norm, device=t.device, seed=seed,
                   patience=t.patience, monitor=t.monitor, checkpoint_dir=checkpoint_dir,
                   progress=progress)


def _dry_run(cfg: RunConfig, data: RunData) -> None:
    """Build every model once and push two training samples through it (loss included)."""
    inputs, target = data.train
    batch = {m: x[:2] for m, x in inputs.items()}
    names = [None, *(data.modalities if cfg.baselines.unimodal else ())]
    for modality in names:
        task = make_task(cfg, build_model(cfg, data, modality))
        try:
            with torch.no_grad():
                task(batch, target[:2])
        except (RuntimeError, ValueError, IndexError) as exc:
            what = "the fusion model" if modality is None else f"the {modality!r} baseline"
            raise InvalidInputError(
                f"{what} cannot process a batch of this data: {exc}. Check the encoder kinds "
                "and options (e.g. return_sequence needs an attention fusion)."
            ) from exc


def _check_trainer(cfg: RunConfig) -> None:
    try:
        make_trainer(cfg, cfg.trainer.seeds[0], progress=False)
    except InvalidInputError as exc:
        raise InvalidInputError(f"trainer: {exc}") from exc


def prepare_run(cfg: RunConfig, *, progress: bool = False) -> RunData:
    """Check everything a run needs (data, models, trainer options); write nothing."""
    data = prepare_data(cfg, progress=progress)
    _check_trainer(cfg)
    _dry_run(cfg, data)
    return data


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
def _fit_one(cfg: RunConfig, data: RunData, seed: int, modality: str | None, folder: Path,
             progress: bool, resume: bool) -> tuple[dict[str, Any], nn.Module]:
    if progress:
        what = f"{cfg.fusion.name} fusion" if modality is None else f"unimodal {modality}"
        Console(stderr=True).print(f"seed {seed}: {what}", highlight=False)
    seed_everything(seed)
    model = build_model(cfg, data, modality)
    task = make_task(cfg, model)
    trainer = make_trainer(cfg, seed, folder, progress)
    t0 = time.perf_counter()
    fit: TrainResult = trainer.fit(task, data.train, data.validation, resume=resume)
    seconds = time.perf_counter() - t0
    test = trainer.evaluate(task, data.test)
    record = {
        "seed": seed, "best_epoch": fit.best_epoch, "epochs_completed": fit.epochs_completed,
        "stopped_early": fit.stopped_early, "resumed_from_epoch": fit.resumed_from_epoch,
        "monitor": fit.monitor, "seconds": seconds,
        "metrics": {**fit.metrics, **{f"test_{k}": v for k, v in test.items()}},
        "checkpoint": str(folder / "final"), "history": fit.history,
    }
    return record, model


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
        raise InvalidInputError("output_dir: say where to write the run (or pass --out).")
    out = Path(target)
    if not resume and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInputError(
            f"output_dir: {str(out)!r} already exists and is not an empty folder; choose "
            "another, remove it, or --resume an interrupted run there."
        )
    data = prepare_run(cfg, progress=progress)
    resolved = resolved_config(cfg, data, out)
    t0 = time.perf_counter()
    if resume:
        _check_resumable(out, resolved)
    else:
        out.mkdir(parents=True, exist_ok=True)
        _write_bytes(out / "config.yaml", yaml.safe_dump(resolved, sort_keys=False).encode())

    runs: dict[str, list[dict[str, Any]]] = {"model": []}
    n_params = 0
    for seed in cfg.trainer.seeds:
        record, model = _fit_one(cfg, data, seed, None, out / f"seed-{seed}" / "model",
                                 progress, resume)
        n_params = sum(p.numel() for p in model.parameters())
        runs["model"].append(record)
        if cfg.baselines.unimodal:
            uni: dict[str, UnimodalModel] = {}
            for m in data.modalities:
                record, baseline = _fit_one(cfg, data, seed, m, out / f"seed-{seed}" /
                                            f"unimodal-{m}", progress, resume)
                uni[m] = cast(UnimodalModel, baseline)
                runs.setdefault(f"unimodal:{m}", []).append(record)
            runs.setdefault("ensemble", []).append(_ensemble_record(cfg, data, seed, uni))
    result = _jsonable({
        "format": RUN_FORMAT, "config": resolved, "data": data.info,
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
        raise InvalidInputError(f"--resume: the run in {str(out)!r} has already finished.")
    if not record.is_file():
        raise InvalidInputError(f"--resume: {str(out)!r} holds no run to resume (no config.yaml).")
    try:
        before = yaml.safe_load(record.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"--resume: {record} is not valid YAML: {exc}") from exc
    if not isinstance(before, dict):
        before = {}
    differ = [k for k in resolved if before.get(k) != resolved[k]]
    if differ:
        raise InvalidInputError(
            f"--resume: the config differs from the interrupted run's in {', '.join(differ)}; "
            "a resumed run must use the same config."
        )


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as indented JSON, atomically (NaN/inf must already be None)."""
    _write_bytes(path, (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode())


def _write_bytes(path: Path, data: bytes) -> None:
    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    atomic_write(path, write)


# ------------------------------------------------------------------------ evaluation
@dataclass
class LoadedRun:
    """A finished run read back: its config, data, result record and trained models."""

    path: Path
    config: RunConfig
    data: RunData
    result: dict[str, Any]

    def load_model(self, seed: int, modality: str | None = None) -> nn.Module:
        """The trained fusion model (or unimodal baseline) of one seed, in eval mode."""
        folder = "model" if modality is None else f"unimodal-{modality}"
        stem = self.path / f"seed-{seed}" / folder / "final"
        model = build_model(self.config, self.data, modality)
        state, _ = load_checkpoint(stem, map_location="cpu")
        weights = {k.removeprefix("model."): v for k, v in state.get("task", {}).items()
                   if k.startswith("model.")}
        try:
            model.load_state_dict(weights)
        except RuntimeError as exc:
            raise DataFormatError(f"{stem}.pt does not fit the run's model: {exc}") from exc
        return model.to(self.config.trainer.device).eval()


def load_run(run_dir: str | Path, *, device: str | None = None) -> LoadedRun:
    """Read a run directory written by :func:`run_training`."""
    path = Path(run_dir)
    record = path / "result.json"
    if not record.is_file():
        raise InvalidInputError(
            f"{str(path)!r} is not a finished run directory: it has no result.json "
            "(written by `interplay train` when training ends)."
        )
    try:
        result = json.loads(record.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{record} is not valid JSON: {exc}") from exc
    if not isinstance(result, dict) or result.get("format") != RUN_FORMAT:
        raise DataFormatError(f"{record} is not an interplay run record ({RUN_FORMAT}).")
    overrides = {"trainer.device": device} if device is not None else None
    cfg = config_from_dict(result["config"], overrides, source=str(record))
    _check_trainer(cfg)  # e.g. a device that is not here
    data = prepare_data(cfg)
    if data.info["fingerprint"] != result["data"].get("fingerprint"):
        raise DataFormatError(
            f"the data of {str(path)!r} changed since training: the samples or the split differ "
            f"(split sizes {result['data']['n_samples']} then, {data.info['n_samples']} now)."
        )
    return LoadedRun(path, cfg, data, result)


class _Predictor:
    """``predict(inputs, mask)`` for :func:`robustness_sweep`: batched, mask columns picked."""

    def __init__(self, model: nn.Module, order: Sequence[str], batch_size: int) -> None:
        self.model, self.order, self.batch_size = model, tuple(order), batch_size
        own = getattr(model, "modalities", None) or (model.modality,)
        self.columns = [self.order.index(m) for m in own]
        self.own = tuple(own)

    def __call__(self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        n = next(iter(inputs.values())).shape[0]
        outs = []
        with torch.no_grad():
            for s in range(0, n, self.batch_size):
                batch = {m: inputs[m][s:s + self.batch_size] for m in self.own}
                outs.append(self.model(batch, mask[s:s + self.batch_size][:, self.columns]))
        return torch.cat(outs).cpu()


def neg_mse(target: np.ndarray, pred: np.ndarray) -> float:
    """Negative mean squared error: the regression score of the robustness curves (higher is
    better, as the robustness summaries assume)."""
    return -float(np.mean((pred.reshape(target.shape) - target) ** 2))


def _aggregate(sweeps: list[RobustnessResult]) -> dict[str, Any]:
    """Mean and standard deviation over seeds (ddof=1; None for one seed)."""
    def stats(values: list[Any]) -> dict[str, Any]:
        arr = np.asarray(values, dtype=np.float64)
        std = arr.std(axis=0, ddof=1) if len(values) > 1 else np.full(arr.shape[1:], np.nan)
        return {"mean": arr.mean(axis=0).tolist(), "std": np.asarray(std).tolist()}

    first = sweeps[0]
    return {
        "metric": first.metric, "chance": first.chance,
        "clean": {**stats([s.clean for s in sweeps]), "per_seed": [s.clean for s in sweeps]},
        "dropped": {m: stats([s.dropped[m] for s in sweeps]) for m in first.dropped},
        "noisy": {m: stats([s.noisy[m] for s in sweeps]) for m in first.noisy},
    }


def _sweep_all(models: list[nn.Module], run: LoadedRun, inputs: dict[str, torch.Tensor],
               y: np.ndarray, levels: Sequence[float], n_repeats: int, random_state: int,
               bar: Any, label: str) -> tuple[list[RobustnessResult], list[np.ndarray]]:
    order = run.data.modalities
    metric = "accuracy" if run.config.task == "classification" else neg_mse
    sweeps, predictions = [], []
    task = bar.add_task(label, total=len(models))
    for model in models:
        predict = _Predictor(model, order, 4 * run.config.trainer.batch_size)
        sweeps.append(robustness_sweep(predict, inputs, y, noise_levels=levels, metric=metric,
                                       n_repeats=n_repeats, mask_order=order,
                                       random_state=random_state))
        full = torch.ones(len(y), len(order), dtype=torch.bool,
                          device=next(iter(inputs.values())).device)
        predictions.append(predict(inputs, full).numpy())
        bar.advance(task)
    return sweeps, predictions


def _baseline_models(spec: str, run: LoadedRun, device: str | None) -> list[nn.Module]:
    """Models of the baseline named ``spec``, one per seed."""
    seeds = run.config.trainer.seeds
    if spec == "ensemble" or spec.startswith("unimodal:"):
        if not run.config.baselines.unimodal:
            raise InvalidInputError(
                f"--baseline {spec}: this run trained no unimodal baselines; set "
                "`baselines: {unimodal: true}` in the config, or name another run directory."
            )
        if spec == "ensemble":
            combine = "probabilities" if run.config.task == "classification" else "mean"
            return [UnimodalEnsemble({m: cast(UnimodalModel, run.load_model(s, m))
                                      for m in run.data.modalities},
                                     combine=combine).eval() for s in seeds]
        modality = spec.split(":", 1)[1]
        _pick(modality, run.data.modalities, f"--baseline {spec}", "the run's modalities")
        return [run.load_model(s, modality) for s in seeds]
    other = load_run(spec, device=device)
    same = ("dataset", "split", "target", "task")
    differ = [k for k in same if getattr(other.config, k) != getattr(run.config, k)]
    if differ or not set(other.data.modalities) <= set(run.data.modalities):
        raise InvalidInputError(
            f"--baseline {spec}: the baseline must be trained on the same data, split, target "
            f"and task with modalities among {list(run.data.modalities)}; it differs in "
            f"{', '.join(differ) or 'its modalities ' + str(list(other.data.modalities))}."
        )
    return [other.load_model(s) for s in other.config.trainer.seeds]


def _pid_section(run: LoadedRun, predictions: list[np.ndarray], pair: Sequence[str],
                 n_clusters: int, n_components: int | None, random_state: int) -> dict[str, Any]:
    """Data PID and model PIDs on the test part, on one k-means discretization of the pair."""
    inputs, y = run.data.test
    labels = [cluster_labels(reduce_dimension(inputs[m].reshape(len(y), -1).double().numpy(),
                                              n_components), n_clusters, random_state)
              for m in pair]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # kept in result.warnings
        data_pid = quantify(labels[0], labels[1], y.numpy(), progress=False)
        models = [model_pid(labels[0], labels[1], p) for p in predictions]
    agreement: list[float | None] = []
    for r in models:
        try:
            agreement.append(pid_agreement(data_pid, r))
        except InvalidInputError:
            agreement.append(None)
    known = [a for a in agreement if a is not None]
    atoms = {a: float(np.mean([getattr(r, a) for r in models])) for a in data_pid.atoms}
    return {
        "modalities": list(pair),
        "discretization": {"n_clusters": n_clusters, "n_components": n_components,
                           "clusters_used": [int(np.unique(lab).size) for lab in labels],
                           "random_state": random_state, "split": "test"},
        "data": data_pid.to_dict(),
        "model": {"mean": atoms, "per_seed": [r.to_dict() for r in models]},
        "agreement": {"mean": float(np.mean(known)) if known else None, "per_seed": agreement},
    }


def evaluate_run(
    run_dir: str | Path,
    *,
    noise_levels: Sequence[float] = (0.0, 0.5, 1.0, 2.0),
    baseline: str | None = None,
    n_repeats: int = 1,
    random_state: int = 0,
    pid_modalities: Sequence[str] | None = None,
    n_clusters: int = 5,
    n_components: int | None = 2,
    device: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Test accuracy, robustness, consistency and PID of every seed's model of a run.

    Parameters
    ----------
    run_dir : path
        Written by :func:`run_training`.
    noise_levels : sequence of float
        At least two increasing levels (in units of each input's standard deviation) for the
        noise curves of :func:`~interplay.analysis.robustness_sweep`.
    baseline : str, optional
        The curve to compare with: ``"ensemble"`` or ``"unimodal:<modality>"`` (baselines
        trained in this run), or the path of another run directory on the same data, split
        and target. Relative and effective robustness are computed per modality from the
        seed-averaged curves of model and baseline, on the same noise draws.
    n_repeats, random_state
        Noise draws per level and their seed (shared by model and baseline).
    pid_modalities : two modality names, optional
        The pair whose PID is measured (default: the first two). Classification only.
    n_clusters, n_components
        k-means clusters and principal components per modality for the discretization
        (:mod:`interplay.info.estimate.cluster`); the data PID uses the true labels, the model
        PID the predicted classes, on the same clusters. Plug-in PIDs are biased upwards by
        roughly ``(|X1 X2| - 1)(|Y| - 1) / (2 N ln 2)`` bits; see the warnings in the result.
    device : str, optional
        Overrides the run's device.
    progress : bool

    Returns
    -------
    dict
        JSON-ready: ``model`` and ``baseline`` (robustness aggregates over seeds and per seed,
        consistency), ``comparison`` (relative/effective robustness per modality), ``pid``.
    """
    run = load_run(run_dir, device=device)
    levels = [float(v) for v in noise_levels]
    if len(levels) < 2:
        raise InvalidInputError(f"--noise-levels: give at least two levels, got {levels}.")
    pair = list(pid_modalities) if pid_modalities else list(run.data.modalities[:2])
    _pick(pair, run.data.modalities, "--pid-modalities", "the run's modalities")
    if len(pair) != 2 or pair[0] == pair[1]:
        raise InvalidInputError(f"--pid-modalities: name two different modalities, got {pair}.")
    inputs, y_t = run.data.test
    dev = torch.device(run.config.trainer.device)
    inputs = {m: x.to(dev) for m, x in inputs.items()}
    y = y_t.numpy()
    models = [run.load_model(s) for s in run.config.trainer.seeds]
    base_models = _baseline_models(baseline, run, device) if baseline else []
    with _progress(not progress) as bar:
        sweeps, predictions = _sweep_all(models, run, inputs, y, levels, n_repeats,
                                         random_state, bar, "model")
        base_sweeps = _sweep_all(base_models, run, inputs, y, levels, n_repeats, random_state,
                                 bar, "baseline")[0] if base_models else []
    classification = run.config.task == "classification"
    out: dict[str, Any] = {
        "format": EVALUATION_FORMAT, "run_dir": str(run.path.resolve()),
        "task": run.config.task, "fusion": run.config.fusion.name,
        "seeds": list(run.config.trainer.seeds), "n_test_samples": int(len(y)),
        "settings": {"noise_levels": levels, "n_repeats": n_repeats,
                     "random_state": random_state, "baseline": baseline,
                     "noise": "gaussian, scaled by the std of each modality's model input"},
        "model": {**_aggregate(sweeps), "per_seed": [s.to_dict() for s in sweeps]},
        "baseline": None, "comparison": None, "consistency": None, "pid": None,
    }
    if base_sweeps:
        out["baseline"] = {"name": baseline, **_aggregate(base_sweeps),
                           "per_seed": [s.to_dict() for s in base_sweeps]}
        model_mean, base_mean = out["model"]["noisy"], out["baseline"]["noisy"]
        comparison: dict[str, Any] = {"relative_robustness": {}, "effective_robustness": {}}
        for m in run.data.modalities:
            f, b = model_mean[m]["mean"], base_mean[m]["mean"]
            comparison["effective_robustness"][m] = effective_robustness(f, b, levels)
            try:
                comparison["relative_robustness"][m] = relative_robustness(f, b, levels)
            except InvalidInputError:  # a baseline area <= 0 (e.g. negative-MSE curves)
                comparison["relative_robustness"][m] = None
        out["comparison"] = comparison
    if classification:
        batch = 4 * run.config.trainer.batch_size
        per_seed = [cross_modal_consistency(_Predictor(mod, run.data.modalities, batch), inputs,
                                            mask_order=run.data.modalities) for mod in models]
        out["consistency"] = [
            {"modalities": list(pair_), "mean": float(np.mean([c[pair_] for c in per_seed])),
             "per_seed": [c[pair_] for c in per_seed]} for pair_ in per_seed[0]]
        out["pid"] = _pid_section(run, predictions, pair, n_clusters, n_components,
                                  random_state)
    return _jsonable(out)
