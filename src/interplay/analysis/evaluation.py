"""Verification of a finished training run directory (see :mod:`interplay.training.run`).

:func:`evaluate_run` reads the run back (checkpoints through the safe loader, never
unpickling) and measures test accuracy, robustness curves against a baseline you name,
cross-modal consistency and the PID of the model's predictions next to the data's; it returns
an :class:`EvaluationResult`. This module needs torch; :mod:`interplay.analysis` does not import
it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from .. import __version__
from .._json import JSONResult, jsonable
from .._progress import progress_bar as _progress
from ..exceptions import DataFormatError, InvalidInputError, SmallSampleWarning
from ..info.estimate import plugin_pid
from ..info.estimate.cluster import cluster_labels, reduce_dimension
from ..models import (
    UnimodalEnsemble,
    UnimodalModel,
)
from ..training.checkpoint import load_checkpoint
from ..training.config import RunConfig, config_from_dict
from ..training.objective import Objective, learns_representations
from ..training.run import (
    RUN_FORMAT,
    RunData,
    _check_trainer,
    _pick,
    build_model,
    make_task,
    prepare_data,
)
from ..training.task import Task
from .model_pid import model_pid, pid_agreement
from .representations import representation_metrics
from .robustness import (
    RobustnessResult,
    cross_modal_consistency,
    effective_robustness,
    relative_robustness,
    robustness_sweep,
)

EVALUATION_FORMAT = "interplay-evaluation/1"


@dataclass(frozen=True)
class EvaluationResult(JSONResult):
    """What :func:`evaluate_run` measured on the test part of a run.

    Attributes
    ----------
    run_dir : str
        The run directory (absolute).
    task, fusion : str
        Classification or regression; the fusion of the run's model.
    seeds : list of int
    n_test_samples : int
    settings : dict
        Noise levels, repeats, seed, baseline name and the noise model.
    model : dict
        Robustness aggregates over seeds (``clean``, ``dropped``, ``noisy``: mean and std)
        and ``per_seed`` sweeps.
    baseline : dict or None
        The same for the baseline, with its ``name``.
    comparison : dict or None
        ``relative_robustness`` and ``effective_robustness`` per modality against the baseline.
    consistency : list of dict or None
        Cross-modal consistency per modality pair (classification).
    pid : dict or None
        Data PID, model PIDs and their agreement on one discretization (classification).
    representations : dict or None
        Scores of the per-modality embeddings on the test split (retrieval per modality pair,
        mutual kNN, CKA, modality gap, linear-probe accuracy), mean ± std over seeds; see
        :func:`~interplay.analysis.representations.representation_metrics`.
    """

    run_dir: str
    task: str
    fusion: str
    seeds: list[int]
    n_test_samples: int
    settings: dict[str, Any]
    model: dict[str, Any]
    baseline: dict[str, Any] | None = None
    comparison: dict[str, Any] | None = None
    consistency: list[dict[str, Any]] | None = None
    pid: dict[str, Any] | None = None
    representations: dict[str, Any] | None = None

    #: The ``kind`` of the JSON form (what ``interplay report`` renders).
    kind = "evaluation"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with ``kind``, ``interplay_version`` and ``format`` on top."""
        body = {f: getattr(self, f) for f in self.__dataclass_fields__}
        return jsonable({"kind": self.kind, "interplay_version": __version__,
                         "format": EVALUATION_FORMAT, **body})


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

    def load_task(self, seed: int) -> Task:
        """The trained fusion model of one seed inside its task (the objective's trained
        modules included), in eval mode."""
        stem = self.path / f"seed-{seed}" / "model" / "final"
        task = make_task(self.config, build_model(self.config, self.data),
                         self.data.extra_classes)
        state, _ = load_checkpoint(stem, map_location="cpu")
        try:
            task.load_state_dict(state.get("task", {}))
        except RuntimeError as exc:
            raise DataFormatError(f"{stem}.pt does not fit the run's task: {exc}") from exc
        return task.to(self.config.trainer.device).eval()


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
                outs.append(self.model(batch, mask[s:s + self.batch_size][:, self.columns]).logits)
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
                f"`baseline`={spec!r}: this run trained no unimodal baselines; set "
                "`baselines: {unimodal: true}` in the config, or name another run directory."
            )
        if spec == "ensemble":
            combine = "probabilities" if run.config.task == "classification" else "mean"
            return [UnimodalEnsemble({m: cast(UnimodalModel, run.load_model(s, m))
                                      for m in run.data.modalities},
                                     combine=combine).eval() for s in seeds]
        modality = spec.split(":", 1)[1]
        _pick(modality, run.data.modalities, f"`baseline`={spec!r}", "the run's modalities")
        return [run.load_model(s, modality) for s in seeds]
    other = load_run(spec, device=device)
    same = ("dataset", "split", "target", "task")
    differ = [k for k in same if getattr(other.config, k) != getattr(run.config, k)]
    if differ or not set(other.data.modalities) <= set(run.data.modalities):
        raise InvalidInputError(
            f"`baseline`={spec!r}: the baseline must be trained on the same data, split, target "
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
        data_pid = plugin_pid(labels[0], labels[1], y.numpy(), progress=False)
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


def _represent(task: Task, inputs: Mapping[str, torch.Tensor],
               batch_size: int) -> dict[str, np.ndarray]:
    """The representations the task's objective trains (the model's per-modality embeddings
    by default; sequences mean-pooled) of ``inputs``, batched."""
    read = cast(Objective, task.objective).representations  # make_task builds an Objective
    n = next(iter(inputs.values())).shape[0]
    parts: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for s in range(0, n, batch_size):
            batch = {k: x[s:s + batch_size] for k, x in inputs.items()}
            for m, z in read(task.model(batch), batch).items():
                z = z.mean(dim=1) if z.ndim == 3 else z
                parts.setdefault(m, []).append(z.double().cpu().numpy())
    return {m: np.concatenate(v) for m, v in parts.items()}


def _stats(values: list[Any]) -> dict[str, Any]:
    """Mean, std (ddof=1; None for one seed) and the per-seed values; None where any is."""
    if any(v is None for v in values):
        return {"mean": None, "std": None, "per_seed": values}
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else None,
            "per_seed": [float(v) for v in arr]}


def _representation_section(run: LoadedRun, random_state: int) -> dict[str, Any]:
    """Retrieval, alignment, gap and probe of every seed's representations, aggregated."""
    batch = 4 * run.config.trainer.batch_size
    dev = torch.device(run.config.trainer.device)
    (test_x, y_test), (train_x, y_train) = run.data.test, run.data.train
    classification = run.config.task == "classification"
    per_seed = []
    for seed in run.config.trainer.seeds:
        task = run.load_task(seed)
        test = _represent(task, {m: x.to(dev) for m, x in test_x.items()}, batch)
        train = (_represent(task, {m: x.to(dev) for m, x in train_x.items()}, batch)
                 if classification else None)
        try:
            per_seed.append(representation_metrics(
                test, y_test=y_test.numpy() if classification else None, train=train,
                y_train=y_train.numpy() if classification else None, seed=random_state))
        except InvalidInputError as exc:
            raise InvalidInputError(f"`representations` (seed {seed}): {exc}") from exc
    first = per_seed[0]
    pairs = []
    for i, pair in enumerate(first["pairs"]):
        rows = [r["pairs"][i] for r in per_seed]
        metrics: dict[str, Any] = {}
        if pair["retrieval"] is not None:
            metrics.update({k: _stats([r["retrieval"][k] for r in rows])
                            for k in pair["retrieval"]})
        for key in ("gap", "mutual_knn", "cka"):
            metrics[key] = _stats([r[key] for r in rows])
        pairs.append({"modalities": pair["modalities"], "note": pair["note"],
                      "metrics": metrics})
    probe = (None if first["probe"] is None else
             {name: _stats([r["probe"][name] for r in per_seed]) for name in first["probe"]})
    objective = run.config.objective.name if run.config.objective is not None else None
    return {
        "split": "test", "n_samples": first["n_samples"], "widths": first["widths"],
        "objective": objective, "chance": first["chance"], "pairs": pairs, "probe": probe,
        "settings": {"ks": [1, 10], "knn_k": 10, "cka": "linear, debiased",
                     "probe": "logistic regression on the training split's embeddings, C "
                              "chosen on 20% of it, scored on the test split"},
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
    representations: bool | None = None,
) -> EvaluationResult:
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
    representations : bool, optional
        Score the per-modality embeddings of the fusion model on the test split: retrieval
        between every pair of modalities (R@1, R@10, median rank), mutual kNN, CKA, the
        modality gap, and linear-probe accuracy (:mod:`interplay.analysis.representations`).
        Default (None): when the run's objective trains representations (contrastive,
        binding, FactorCL).

    Returns
    -------
    EvaluationResult
        ``model`` and ``baseline`` (robustness aggregates over seeds and per seed),
        ``comparison`` (relative/effective robustness per modality), ``consistency``, ``pid``,
        ``representations``; ``to_dict()``/``to_json()`` give the JSON form.
    """
    if representations is not None and not isinstance(representations, bool):
        raise InvalidInputError(
            f"`representations` must be True, False or None (automatic), got {representations!r}.")
    run = load_run(run_dir, device=device)
    if representations is None:
        representations = (run.config.objective is not None
                           and learns_representations(run.config.objective.name))
    levels = [float(v) for v in noise_levels]
    if len(levels) < 2:
        raise InvalidInputError(f"`noise_levels` must hold at least two levels, got {levels}.")
    pair = list(pid_modalities) if pid_modalities else list(run.data.modalities[:2])
    _pick(pair, run.data.modalities, "`pid_modalities`", "the run's modalities")
    if len(pair) != 2 or pair[0] == pair[1]:
        raise InvalidInputError(
            f"`pid_modalities` must name two different modalities, got {pair}.")
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
    model = {**_aggregate(sweeps), "per_seed": [s.to_dict() for s in sweeps]}
    base: dict[str, Any] | None = None
    comparison: dict[str, Any] | None = None
    consistency: list[dict[str, Any]] | None = None
    pid: dict[str, Any] | None = None
    if base_sweeps:
        base = {"name": baseline, **_aggregate(base_sweeps),
                "per_seed": [s.to_dict() for s in base_sweeps]}
        comparison = {"relative_robustness": {}, "effective_robustness": {}}
        for m in run.data.modalities:
            f, b = model["noisy"][m]["mean"], base["noisy"][m]["mean"]
            comparison["effective_robustness"][m] = effective_robustness(f, b, levels)
            try:
                comparison["relative_robustness"][m] = relative_robustness(f, b, levels)
            except InvalidInputError:  # a baseline area <= 0 (e.g. negative-MSE curves)
                comparison["relative_robustness"][m] = None
    if run.config.task == "classification":
        batch = 4 * run.config.trainer.batch_size
        per_seed = [cross_modal_consistency(_Predictor(mod, run.data.modalities, batch), inputs,
                                            mask_order=run.data.modalities) for mod in models]
        consistency = [
            {"modalities": list(pair_), "mean": float(np.mean([c[pair_] for c in per_seed])),
             "per_seed": [c[pair_] for c in per_seed]} for pair_ in per_seed[0]]
        pid = _pid_section(run, predictions, pair, n_clusters, n_components, random_state)
    reps = _representation_section(run, random_state) if representations else None
    return EvaluationResult(
        run_dir=str(run.path.resolve()), task=run.config.task, fusion=run.config.fusion.name,
        seeds=list(run.config.trainer.seeds), n_test_samples=int(len(y)),
        settings={"noise_levels": levels, "n_repeats": n_repeats,
                  "random_state": random_state, "baseline": baseline,
                  "noise": "gaussian, scaled by the std of each modality's model input"},
        model=jsonable(model), baseline=jsonable(base), comparison=jsonable(comparison),
        consistency=jsonable(consistency), pid=jsonable(pid), representations=jsonable(reps))
