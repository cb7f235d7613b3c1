"""PyTorch DDP support: detect a ``torchrun`` launch, join the process group, reduce metrics.

Launch a training script on several processes (or machines) with::

    torchrun --nproc_per_node 2 train.py

and the :class:`~interplay.training.Trainer` inside it joins the process group from the
environment ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ...), wraps the task in
``DistributedDataParallel`` and shards the data with a ``DistributedSampler``. The backend is
``nccl`` for CUDA devices and ``gloo`` otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..exceptions import InvalidInputError


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a distributed run (world size 1 when not distributed)."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """Whether more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes files and shows progress (rank 0)."""
        return self.rank == 0


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidInputError(
            f"Environment variable {name} must be an integer, got {raw!r}."
        ) from exc


def setup_distributed(device: torch.device) -> DistContext:
    """Join (or reuse) the default process group if one exists or the environment asks for one.

    Returns a world of size 1 when ``torch.distributed`` is unavailable, no group is
    initialised and ``WORLD_SIZE`` is unset or 1.
    """
    if not dist.is_available():
        return DistContext()
    local_rank = _env_int("LOCAL_RANK") or 0
    if not dist.is_initialized():
        world = _env_int("WORLD_SIZE")
        if world is None or world <= 1:
            return DistContext()
        missing = [v for v in ("RANK", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
        if missing:
            raise InvalidInputError(
                f"WORLD_SIZE={world} asks for distributed training but {', '.join(missing)} "
                "is not set; launch the script with torchrun."
            )
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, init_method="env://")
    return DistContext(world_size=dist.get_world_size(), rank=dist.get_rank(),
                       local_rank=local_rank)


def shutdown_distributed() -> None:
    """Leave the default process group, if one is initialised (call once at the end of a script)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``tensor`` over all processes (in place); a no-op for a single process."""
    if ctx.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier(ctx: DistContext) -> None:
    """Wait for every process; a no-op for a single process."""
    if ctx.enabled:
        dist.barrier()
