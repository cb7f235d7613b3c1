"""The ``Trainer``: epochs, validation, early stopping, checkpoints, resume, DDP."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .._json import dumps, jsonable
from .._threads import large_model, sized_work
from .._validation import check_choice, check_float, check_int
from ..exceptions import ConvergenceError, InvalidInputError
from .checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from .data import as_dataset, batch_size_of, make_loader, to_device
from .distributed import DistContext, all_reduce_sum, barrier, setup_distributed
from .seeds import seed_everything
from .task import Task

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], Any]

_OPTIMIZERS = ("adam", "adamw", "sgd")
#: Settings that shape the training trajectory; a resume must use the same values.
_TRAJECTORY_KEYS = ("batch_size", "optimizer", "lr", "weight_decay", "momentum", "scheduler",
                    "grad_clip_norm", "seed", "world_size")
_CKPT = re.compile(r"^epoch-(\d+)\.json$")


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` did.

    Attributes
    ----------
    history : list of dict
        One row per completed epoch: ``epoch`` (1-based), ``train_<name>`` and ``val_<name>``
        for the loss and every metric, ``lr`` and ``seconds``.
    monitor, mode : str
        The metric early stopping and best-model selection watched, and whether lower
        (``"min"``) or higher (``"max"``) is better.
    best_epoch : int
        Epoch (1-based) with the best monitored value.
    best_score : float
        That value.
    stopped_early : bool
        Whether early stopping ended training before ``max_epochs``.
    epochs_completed : int
        Number of epochs in ``history``.
    resumed_from_epoch : int or None
        Epoch of the checkpoint this run resumed from.
    metrics : dict
        The history row of the epoch whose weights the model holds at the end (the best epoch
        when ``restore_best``, otherwise the last), without the epoch/lr/seconds entries.
    """

    history: list[dict[str, float]]
    monitor: str
    mode: str
    best_epoch: int
    best_score: float
    stopped_early: bool
    epochs_completed: int
    resumed_from_epoch: int | None
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-ready: NaN becomes None)."""
        return jsonable(asdict(self))

    def to_json(self, **kwargs: Any) -> str:
        """Strict JSON text of :meth:`to_dict`."""
        return dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        metrics = "  ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return (f"TrainResult: {self.epochs_completed} epochs"
                + (" (stopped early)" if self.stopped_early else "")
                + f", best {self.monitor}={self.best_score:.4g} at epoch {self.best_epoch}"
                + (f"\n{metrics}" if metrics else ""))

    def __repr__(self) -> str:
        return (f"TrainResult(epochs_completed={self.epochs_completed}, best_epoch="
                f"{self.best_epoch}, {self.monitor}={self.best_score:.4g}; print() for more)")


class _Progress:
    """Rich progress bars over epochs and batches on a terminal; elsewhere (a log file, CI) one
    plain line per epoch on stderr; nothing when disabled."""

    def __init__(self, enabled: bool, max_epochs: int, start_epoch: int) -> None:
        self._bar = None
        self._log: Any = None
        self._max_epochs = max_epochs
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        if not console.is_terminal:  # bars would print cut-off lines there
            self._log = console
            return
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
            console=console,
        )
        self._epochs = self._bar.add_task("epochs", total=max_epochs, completed=start_epoch,
                                          info="")
        self._batches = self._bar.add_task("batches", total=None, info="")
        self._bar.start()

    def start_epoch(self, epoch: int, n_batches: int) -> None:
        if self._bar is not None:
            self._bar.reset(self._batches, total=n_batches, description=f"epoch {epoch}", info="")

    def advance_batch(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._batches)

    def end_epoch(self, row: dict[str, float]) -> None:
        info = "  ".join(f"{k}={v:.4g}" for k, v in row.items()
                         if k.startswith(("train_loss", "val_")))
        if self._bar is not None:
            self._bar.update(self._epochs, advance=1, info=info)
        elif self._log is not None:
            self._log.print(f"epoch {int(row['epoch'])}/{self._max_epochs}  {info}  "
                            f"({row.get('seconds', 0.0):.1f} s)", markup=False, highlight=False,
                            soft_wrap=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _check_device(device: Any) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidInputError(
            f"`device` must be a torch device such as 'cpu' or 'cuda:0', got {device!r}."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError(
            f"`device` is {device!r} but CUDA is not available here; use 'cpu'."
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidInputError(f"`device` is {device!r} but MPS is not available here; use 'cpu'.")
    return dev


class Trainer:
    """Fit a :class:`Task` with validation, early stopping, checkpoints and exact resume.

    Parameters
    ----------
    max_epochs : int, default 10
    batch_size : int, default 32
        Samples per optimisation step *per process*; under DDP the global batch is
        ``batch_size * world_size``.
    optimizer : {"adam", "adamw", "sgd"} or callable, default "adam"
        A name, or ``factory(parameters) -> torch.optim.Optimizer``.
    lr, weight_decay, momentum : float
        Used when ``optimizer`` is a name (``momentum`` by SGD only).
    scheduler : None, "cosine" or callable, default None
        Learning-rate schedule stepped once per epoch: ``"cosine"`` anneals to 0 over
        ``max_epochs``; a callable is ``factory(optimizer) -> scheduler``.
    grad_clip_norm : float, optional
        Clip the global gradient norm to this value.
    device : str or torch.device, default "cpu"
        Under DDP with ``"cuda"``, each process uses ``cuda:LOCAL_RANK``.
    seed : int, default 0
        Seeds Python, NumPy and torch at the start of :meth:`fit` and sets the shuffling order
        (a function of ``seed`` and the epoch).
    patience : int, optional
        Stop after this many epochs without improvement of ``monitor`` (no early stopping when
        None).
    monitor : str, optional
        ``"val_loss"``, ``"val_<metric>"``, ``"train_loss"`` or ``"train_<metric>"``; default
        ``"val_loss"`` when validation data is given, else ``"train_loss"``.
    mode : {"min", "max"}, optional
        Whether lower or higher ``monitor`` is better; default ``"max"`` for accuracy-like
        metrics (names ending in ``accuracy``), else ``"min"``.
    min_delta : float, default 0
        Smallest change that counts as an improvement.
    restore_best : bool, default True
        Load the weights of the best epoch at the end of :meth:`fit`.
    checkpoint_dir : path, optional
        Folder for a checkpoint after every epoch (``epoch-NNNN.pt`` + ``.json``) and the final
        model (``final.pt`` + ``.json``). Needed for ``resume``.
    keep_checkpoints : int, default 1
        Number of epoch checkpoints kept (older ones are deleted).
    progress : bool, default True
        Show rich progress bars (on rank 0 only).
    num_workers : int, default 0
        DataLoader worker processes.

    Notes
    -----
    Resume is exact: a checkpoint holds the task, optimizer (and auxiliary optimizer) and
    scheduler states, the Python/NumPy/torch generator states, the best weights so far and the
    epoch; the shuffling order is a function of the seed and the epoch. An interrupted run
    resumed with ``fit(..., resume=True)`` restarts from its last completed epoch and, on the
    same hardware and software, ends with bitwise the same parameters as an uninterrupted run.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.lin = nn.Linear(2, 2)
    ...     def forward(self, inputs):
    ...         return self.lin(torch.cat([inputs["a"], inputs["b"]], -1))
    >>> g = torch.Generator().manual_seed(0)
    >>> a, b = torch.randn(64, 1, generator=g), torch.randn(64, 1, generator=g)
    >>> y = (a[:, 0] + b[:, 0] > 0).long()
    >>> result = Trainer(max_epochs=30, lr=0.05, progress=False).fit(
    ...     Task(Net()), ({"a": a, "b": b}, y))
    >>> result.metrics["train_accuracy"] > 0.9
    True
    """

    def __init__(
        self,
        *,
        max_epochs: int = 10,
        batch_size: int = 32,
        optimizer: str | OptimizerFactory = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        scheduler: str | SchedulerFactory | None = None,
        grad_clip_norm: float | None = None,
        device: str | torch.device = "cpu",
        seed: int = 0,
        patience: int | None = None,
        monitor: str | None = None,
        mode: str | None = None,
        min_delta: float = 0.0,
        restore_best: bool = True,
        checkpoint_dir: str | Path | None = None,
        keep_checkpoints: int = 1,
        progress: bool = True,
        num_workers: int = 0,
    ) -> None:
        self.max_epochs = check_int(max_epochs, "max_epochs", minimum=1)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        if isinstance(optimizer, str):
            check_choice(optimizer, "optimizer", _OPTIMIZERS)
        elif not callable(optimizer):
            raise InvalidInputError(
                f"`optimizer` must be one of {_OPTIMIZERS} or a callable "
                f"factory(parameters) -> Optimizer, got {type(optimizer).__name__}."
            )
        self.optimizer = optimizer
        self.lr = check_float(lr, "lr", low=0.0, low_open=True)
        self.weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
        self.momentum = check_float(momentum, "momentum", low=0.0)
        if isinstance(scheduler, str):
            check_choice(scheduler, "scheduler", ("cosine",))
        elif scheduler is not None and not callable(scheduler):
            raise InvalidInputError(
                "`scheduler` must be None, 'cosine' or a callable factory(optimizer) -> "
                f"scheduler, got {type(scheduler).__name__}."
            )
        self.scheduler = scheduler
        self.grad_clip_norm = (None if grad_clip_norm is None else
                               check_float(grad_clip_norm, "grad_clip_norm", low=0.0,
                                           low_open=True))
        self.device = _check_device(device)
        self.seed = check_int(seed, "seed", minimum=0)
        if self.seed >= 2**32:
            raise InvalidInputError(f"`seed` must be < 2**32, got {self.seed}.")
        self.patience = None if patience is None else check_int(patience, "patience", minimum=1)
        if monitor is not None and (not isinstance(monitor, str)
                                    or not monitor.startswith(("train_", "val_"))):
            raise InvalidInputError(
                f"`monitor` must be a name like 'val_loss' or 'train_accuracy', got {monitor!r}."
            )
        self.monitor = monitor
        self.mode = None if mode is None else check_choice(mode, "mode", ("min", "max"))
        self.min_delta = check_float(min_delta, "min_delta", low=0.0)
        if not isinstance(restore_best, bool):
            raise InvalidInputError(f"`restore_best` must be True or False, got {restore_best!r}.")
        self.restore_best = restore_best
        if checkpoint_dir is not None and not isinstance(checkpoint_dir, (str, Path)):
            raise InvalidInputError(
                f"`checkpoint_dir` must be a path, got {type(checkpoint_dir).__name__}."
            )
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.keep_checkpoints = check_int(keep_checkpoints, "keep_checkpoints", minimum=1)
        if not isinstance(progress, bool):
            raise InvalidInputError(f"`progress` must be True or False, got {progress!r}.")
        self.progress = progress
        self.num_workers = check_int(num_workers, "num_workers", minimum=0)

    # ----------------------------------------------------------------------------- set-up
    def config(self) -> dict[str, Any]:
        """The settings as JSON-ready values (callables by name)."""
        def name(v: Any) -> Any:
            return v if v is None or isinstance(v, (str, int, float, bool)) else (
                getattr(v, "__qualname__", type(v).__name__))
        return {
            "max_epochs": self.max_epochs, "batch_size": self.batch_size,
            "optimizer": name(self.optimizer), "lr": self.lr, "weight_decay": self.weight_decay,
            "momentum": self.momentum, "scheduler": name(self.scheduler),
            "grad_clip_norm": self.grad_clip_norm, "device": str(self.device), "seed": self.seed,
            "patience": self.patience, "monitor": self.monitor, "mode": self.mode,
            "min_delta": self.min_delta, "restore_best": self.restore_best,
        }

    def _make_optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        if callable(self.optimizer):
            opt = self.optimizer(params)
            if not isinstance(opt, torch.optim.Optimizer):
                raise InvalidInputError(
                    f"The `optimizer` factory must return a torch.optim.Optimizer, "
                    f"got {type(opt).__name__}."
                )
            return opt
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum,
                                   weight_decay=self.weight_decay)
        cls = torch.optim.Adam if self.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=self.lr, weight_decay=self.weight_decay)

    def _make_scheduler(self, opt: torch.optim.Optimizer) -> Any:
        if self.scheduler is None:
            return None
        if self.scheduler == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.max_epochs)
        sched = self.scheduler(opt)  # type: ignore[operator]
        if not (hasattr(sched, "step") and hasattr(sched, "state_dict")):
            raise InvalidInputError(
                "The `scheduler` factory must return an object with step() and state_dict(), "
                f"got {type(sched).__name__}."
            )
        return sched

    def _resolve_monitor(self, task: Task, has_val: bool) -> tuple[str, str]:
        monitor = self.monitor or ("val_loss" if has_val else "train_loss")
        names = ["loss", *task.metric_names]
        prefix, _, base = monitor.partition("_")
        if prefix == "val" and not has_val:
            raise InvalidInputError(f"`monitor`={monitor!r} needs validation data (`val_data`).")
        if base not in names:
            raise InvalidInputError(
                f"`monitor` must name the loss or a metric of the task "
                f"({', '.join(f'{prefix}_{n}' for n in names)}), got {monitor!r}."
            )
        mode = self.mode or ("max" if base.endswith("accuracy") else "min")
        return monitor, mode

    # ------------------------------------------------------------------------- epochs
    def _run_epoch(self, model: nn.Module, task: Task, loader: Iterable[Any], ctx: DistContext,
                   device: torch.device, opt: torch.optim.Optimizer | None,
                   bar: _Progress | None,
                   aux_opt: torch.optim.Optimizer | None = None) -> dict[str, float]:
        """One pass over ``loader``; trains when ``opt`` is given. Returns sample means.

        ``model`` is ``task`` or its DDP wrapper. A training step is forward, the task's
        backward (its balancer's, if any), the balancer's after-backward hook, gradient
        clipping, its before-step hook, the optimiser step, and then the objective's auxiliary
        steps with ``aux_opt`` (when it has auxiliary parameters).
        """
        values: dict[str, list[torch.Tensor]] = {}
        sizes: list[int] = []
        aux = {id(p) for p in task.auxiliary_parameters()}
        params = [p for p in model.parameters() if p.requires_grad and id(p) not in aux]
        for inputs, target in loader:
            inputs, target = to_device(inputs, device), to_device(target, device)
            out = model(inputs, target)
            if opt is not None:
                opt.zero_grad(set_to_none=True)
                task.backward(out)
                out = {**out, **task.after_backward()}
                if self.grad_clip_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, self.grad_clip_norm)
                task.before_optimizer_step()
                opt.step()
                if aux_opt is not None:
                    out = {**out, **task.auxiliary_step(aux_opt)}
            sizes.append(batch_size_of(inputs, target))
            for key, value in out.items():
                values.setdefault(key, []).append(value.detach())
            if bar is not None:
                bar.advance_batch()
        # sample-weighted sums, then one all-reduce of [sums..., count] over the processes
        # every process reduces the same keys, even one whose shard held no batch
        keys = ["loss", *task.metric_names, *(task.step_names if opt is not None else ())]
        weights = torch.tensor(sizes, dtype=torch.float64, device=device)
        sums = [(torch.stack([v.reshape(()).to(device, torch.float64) for v in values[k]])
                 * weights).sum()
                if values.get(k) else torch.zeros((), dtype=torch.float64, device=device)
                for k in keys]
        packed = torch.stack([*sums, weights.sum()])
        packed = all_reduce_sum(packed, ctx).cpu()
        total = float(packed[-1])
        if total == 0:
            raise InvalidInputError("A data loader produced no samples; is the dataset empty?")
        return {k: float(packed[i]) / total for i, k in enumerate(keys)}

    def evaluate(self, task: Task, data: Any) -> dict[str, float]:
        """Loss and metrics of ``task`` on ``data`` (sample means), without training."""
        if not isinstance(task, Task):
            raise InvalidInputError(f"`task` must be an interplay Task, got {type(task).__name__}.")
        dataset = as_dataset(data, "data")
        ctx = setup_distributed(self.device)
        device = self._process_device(ctx)
        task.to(device)
        loader = make_loader(dataset, batch_size=self.batch_size, shuffle=False, seed=self.seed,
                             num_replicas=ctx.world_size, rank=ctx.rank,
                             num_workers=self.num_workers)
        task.eval()
        with torch.no_grad():
            return self._run_epoch(task, task, loader, ctx, device, None, None)

    def _process_device(self, ctx: DistContext) -> torch.device:
        if ctx.enabled and self.device.type == "cuda" and self.device.index is None:
            return torch.device("cuda", ctx.local_rank)
        return self.device

    # ---------------------------------------------------------------------- checkpoints
    def _latest_checkpoint(self) -> Path | None:
        if self.checkpoint_dir is None or not self.checkpoint_dir.is_dir():
            return None
        found = sorted((int(m.group(1)), p) for p in self.checkpoint_dir.iterdir()
                       if (m := _CKPT.match(p.name)))
        return found[-1][1].with_suffix("") if found else None

    def _prune_checkpoints(self) -> None:
        folder = self.checkpoint_dir
        if folder is None:
            return
        found = sorted((int(m.group(1)), p) for p in folder.iterdir()
                       if (m := _CKPT.match(p.name)))
        for _, p in found[: -self.keep_checkpoints]:
            p.unlink(missing_ok=True)  # the record first: a .pt without .json is never used
            p.with_suffix(".pt").unlink(missing_ok=True)

    # ------------------------------------------------------------------------------ fit
    @sized_work(lambda self, task, *args, **kwargs: isinstance(task, nn.Module)
                and large_model(task))  # small models: one thread (interplay._threads)
    def fit(self, task: Task, train_data: Any, val_data: Any = None, *,
            resume: bool = False) -> TrainResult:
        """Train ``task`` on ``train_data``; validate on ``val_data`` after every epoch.

        Parameters
        ----------
        task : Task
        train_data, val_data : Dataset or (dict, tensor)
            A torch ``Dataset`` whose items are ``(inputs, target)`` with ``inputs`` a dict
            ``{modality: tensor}``, or a pair ``({modality: tensor (n, ...)}, target (n, ...))``.
        resume : bool, default False
            Continue from the latest checkpoint in ``checkpoint_dir`` if there is one (start
            afresh otherwise). The trajectory settings (batch size, optimizer, learning rate,
            schedule, seed, number of processes) must match the checkpoint's.

        Returns
        -------
        TrainResult
        """
        if not isinstance(task, Task):
            raise InvalidInputError(f"`task` must be an interplay Task, got {type(task).__name__}.")
        if not isinstance(resume, bool):
            raise InvalidInputError(f"`resume` must be True or False, got {resume!r}.")
        if resume and self.checkpoint_dir is None:
            raise InvalidInputError("`resume=True` needs `checkpoint_dir` to be set.")
        train_set = as_dataset(train_data, "train_data")
        val_set = None if val_data is None else as_dataset(val_data, "val_data")
        monitor, mode = self._resolve_monitor(task, val_set is not None)

        ctx = setup_distributed(self.device)
        device = self._process_device(ctx)
        config = {**self.config(), "world_size": ctx.world_size}
        seed_everything(self.seed)
        task.to(device)
        # the objective's auxiliary parameters (e.g. FactorCL's critics) get their own optimiser
        aux_params = task.auxiliary_parameters()
        aux = {id(p) for p in aux_params}
        opt = self._make_optimizer([p for p in task.parameters()
                                    if p.requires_grad and id(p) not in aux])
        aux_opt = self._make_optimizer(aux_params) if aux_params else None
        sched = self._make_scheduler(opt)

        history: list[dict[str, float]] = []
        best_score = math.inf if mode == "min" else -math.inf
        best_epoch, bad_epochs, start, stopped = 0, 0, 0, False
        best_state: dict[str, torch.Tensor] | None = None
        resumed_from = None
        latest = self._latest_checkpoint() if resume else None
        if latest is not None:
            # onto the CPU: RNG states must stay there; load_state_dict moves the rest
            state, meta = load_checkpoint(latest, map_location="cpu")
            diff = {k: (meta["config"].get(k), config[k]) for k in _TRAJECTORY_KEYS
                    if meta["config"].get(k) != config[k]}
            if diff:
                raise InvalidInputError(
                    f"Cannot resume from {latest}: settings differ from the checkpoint's "
                    f"(checkpoint, now): {diff}."
                )
            try:
                task.load_state_dict(state["task"])
            except RuntimeError as exc:
                raise InvalidInputError(
                    f"The checkpoint {latest} does not fit this task's model: {exc}"
                ) from exc
            opt.load_state_dict(state["optimizer"])
            if aux_opt is not None:
                aux_opt.load_state_dict(state["auxiliary_optimizer"])
            if sched is not None:
                sched.load_state_dict(state["scheduler"])
            restore_rng_state(state["rng"])
            best_state = state["best_task"] or None
            history, start = meta["history"], meta["epoch"]
            best_score, best_epoch = meta["best_score"], meta["best_epoch"]
            bad_epochs, stopped = meta["bad_epochs"], meta["stopped_early"]
            resumed_from = start

        model: nn.Module = task
        if ctx.enabled:
            if task.balancer is not None and not task.balancer.supports_distributed:
                raise InvalidInputError(
                    f"balancer {task.balancer.name!r} computes per-loss gradients with "
                    "torch.autograd.grad, which DistributedDataParallel does not synchronise; "
                    "train it in one process."
                )
            if aux_opt is not None:
                raise InvalidInputError(
                    "the objective trains auxiliary parameters with their own optimiser, which "
                    "DistributedDataParallel does not synchronise; train it in one process."
                )
            ids = [device.index] if device.type == "cuda" else None
            model = DistributedDataParallel(task, device_ids=ids)
        train_loader = make_loader(train_set, batch_size=self.batch_size, shuffle=True,
                                   seed=self.seed, num_replicas=ctx.world_size, rank=ctx.rank,
                                   num_workers=self.num_workers)
        val_loader = None if val_set is None else make_loader(
            val_set, batch_size=self.batch_size, shuffle=False, seed=self.seed,
            num_replicas=ctx.world_size, rank=ctx.rank, num_workers=self.num_workers)

        bar = _Progress(self.progress and ctx.is_main, self.max_epochs, start)
        try:
            for epoch in range(start, self.max_epochs):
                if stopped:
                    break
                t0 = time.perf_counter()
                train_loader.sampler.set_epoch(epoch)  # type: ignore[union-attr]
                bar.start_epoch(epoch + 1, len(train_loader))
                task.train()
                task.on_epoch_start(epoch)
                row: dict[str, float] = {"epoch": epoch + 1}
                train = self._run_epoch(model, task, train_loader, ctx, device, opt, bar,
                                        aux_opt)
                if not math.isfinite(train["loss"]):
                    raise ConvergenceError(
                        f"The training loss became {train['loss']} in epoch {epoch + 1}; "
                        "lower `lr` or set `grad_clip_norm`."
                    )
                row.update({f"train_{k}": v for k, v in train.items()})
                if val_loader is not None:
                    task.eval()
                    with torch.no_grad():
                        val = self._run_epoch(task, task, val_loader, ctx, device, None, None)
                    row.update({f"val_{k}": v for k, v in val.items()})
                row.update(task.on_epoch_end(epoch, dict(row)))
                row["lr"] = float(opt.param_groups[0]["lr"])
                if sched is not None:
                    sched.step()
                row["seconds"] = time.perf_counter() - t0
                history.append(row)

                score = row[monitor]
                better = (score < best_score - self.min_delta if mode == "min"
                          else score > best_score + self.min_delta)
                if better:
                    best_score, best_epoch, bad_epochs = score, epoch + 1, 0
                    if self.restore_best:
                        best_state = {k: v.detach().clone() for k, v in task.state_dict().items()}
                else:
                    bad_epochs += 1
                stopped = self.patience is not None and bad_epochs >= self.patience
                bar.end_epoch(row)

                if self.checkpoint_dir is not None:
                    if ctx.is_main:
                        save_checkpoint(
                            self.checkpoint_dir / f"epoch-{epoch + 1:04d}",
                            {"task": task.state_dict(), "optimizer": opt.state_dict(),
                             "auxiliary_optimizer": {} if aux_opt is None
                             else aux_opt.state_dict(),
                             "scheduler": {} if sched is None else sched.state_dict(),
                             "rng": capture_rng_state(), "best_task": best_state or {}},
                            {"epoch": epoch + 1, "history": history, "best_score": best_score,
                             "best_epoch": best_epoch, "bad_epochs": bad_epochs,
                             "stopped_early": stopped, "config": config,
                             "torch_version": torch.__version__},
                        )
                        self._prune_checkpoints()
                    barrier(ctx)
        finally:
            bar.close()

        final_row = history[-1] if history else {}
        if self.restore_best and best_state is not None:
            task.load_state_dict(best_state)
            final_row = history[best_epoch - 1]
        result = TrainResult(
            history=history, monitor=monitor, mode=mode, best_epoch=best_epoch,
            best_score=best_score, stopped_early=stopped, epochs_completed=len(history),
            resumed_from_epoch=resumed_from,
            metrics={k: v for k, v in final_row.items() if k not in ("epoch", "lr", "seconds")},
        )
        if self.checkpoint_dir is not None:
            if ctx.is_main:
                save_checkpoint(self.checkpoint_dir / "final", {"task": task.state_dict()},
                                {"result": result.to_dict(), "config": config,
                                 "torch_version": torch.__version__})
            barrier(ctx)
        return result
