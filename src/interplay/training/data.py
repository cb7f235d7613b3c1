"""Batches for the trainer: in-memory multimodal tensors, samplers and device moves.

Shuffling is a pure function of ``(seed, epoch)`` (the rule of ``DistributedSampler``), so the
data order after a resume is restored from the epoch number alone, and a run on ``k`` processes
sees the same global batches as one process with a ``k`` times larger batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torch.utils.data.distributed import DistributedSampler

from ..exceptions import InvalidInputError

Batch = tuple[dict[str, torch.Tensor], Any]


class MultimodalTensorDataset(Dataset):
    """Samples held in memory as ``{modality: tensor}`` plus a target tensor (or a dict of them).

    Batches are cut by fancy indexing (``__getitems__``), not by stacking single samples, which
    keeps the loader's cost per batch small.

    Parameters
    ----------
    inputs : dict
        ``{modality: tensor of shape (n_samples, ...)}``.
    target : tensor or dict
        Shape ``(n_samples, ...)``; or a dict of such tensors, the main target under
        ``"target"`` and auxiliary targets under their names (what an objective with
        auxiliary targets reads, see :mod:`interplay.training.auxiliary_targets`).

    Examples
    --------
    >>> import torch
    >>> ds = MultimodalTensorDataset({"a": torch.zeros(5, 2)}, torch.arange(5))
    >>> inputs, y = ds.__getitems__([0, 3])
    >>> inputs["a"].shape, y.tolist()
    (torch.Size([2, 2]), [0, 3])
    """

    def __init__(self, inputs: Mapping[str, torch.Tensor],
                 target: torch.Tensor | Mapping[str, torch.Tensor]) -> None:
        if not isinstance(inputs, Mapping) or not inputs:
            raise InvalidInputError(
                "`inputs` must be a non-empty dict {modality: tensor}, "
                f"got {type(inputs).__name__}."
            )
        n = _target_rows(target)
        for name, x in inputs.items():
            if not isinstance(x, torch.Tensor):
                raise InvalidInputError(
                    f"`inputs[{name!r}]` must be a torch.Tensor, got {type(x).__name__}."
                )
            if x.ndim == 0 or x.shape[0] != n:
                raise InvalidInputError(
                    f"`inputs[{name!r}]` has shape {tuple(x.shape)} but `target` has "
                    f"{n} samples; every modality needs one row per sample."
                )
        if n < 1:
            raise InvalidInputError("`target` must hold at least one sample.")
        self.inputs = dict(inputs)
        self.target = dict(target) if isinstance(target, Mapping) else target
        self._n = n

    def __len__(self) -> int:
        return self._n

    def _rows(self, index: Any) -> Batch:
        target = ({k: v[index] for k, v in self.target.items()}
                  if isinstance(self.target, dict) else self.target[index])
        return {k: v[index] for k, v in self.inputs.items()}, target

    def __getitem__(self, index: int) -> Batch:
        return self._rows(index)

    def __getitems__(self, indices: Sequence[int] | torch.Tensor) -> Batch:
        return self._rows(indices if isinstance(indices, torch.Tensor)
                          else torch.as_tensor(indices))


def _target_rows(target: Any) -> int:
    """Number of samples of a target tensor or dict of target tensors (all the same)."""
    named = dict(target) if isinstance(target, Mapping) else {"": target}
    if not named:
        raise InvalidInputError("`target` must not be an empty dict.")
    rows = set()
    for key, value in named.items():
        where = f"`target[{key!r}]`" if key else "`target`"
        if not isinstance(value, torch.Tensor):
            raise InvalidInputError(
                f"{where} must be a torch.Tensor, got {type(value).__name__}."
            )
        rows.add(int(value.shape[0]) if value.ndim else -1)
    if len(rows) > 1:
        raise InvalidInputError(
            f"`target` holds tensors with different numbers of samples {sorted(rows)}; every "
            "target needs one row per sample."
        )
    return rows.pop()


def _passthrough(batch: Batch) -> Batch:
    return batch


def as_dataset(data: Any, name: str) -> Dataset:
    """Accept a ``Dataset`` of ``(inputs, target)`` samples or a pair ``(inputs, target)``."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], Mapping):
        return MultimodalTensorDataset(data[0], data[1])
    raise InvalidInputError(
        f"`{name}` must be a torch Dataset yielding (inputs, target) or a pair "
        f"(dict {{modality: tensor}}, target tensor); got {type(data).__name__}."
    )


class ShardSampler(Sampler[int]):
    """Every ``num_replicas``-th index from ``rank``, in order, without padding.

    Used for evaluation: the shards partition the data exactly, so metrics summed over the
    processes equal the single-process metrics.
    """

    def __init__(self, n: int, num_replicas: int, rank: int) -> None:
        self.n, self.num_replicas, self.rank = n, num_replicas, rank

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.num_replicas))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.num_replicas))


class TensorBatchLoader:
    """Batches of a :class:`MultimodalTensorDataset` in the order of a sampler.

    The sampler's indices for the epoch are turned into one index tensor and cut into slices,
    which avoids the per-batch Python work of a ``DataLoader``; the order is the sampler's.
    """

    def __init__(self, dataset: MultimodalTensorDataset, sampler: Sampler[int],
                 batch_size: int) -> None:
        self.dataset, self.sampler, self.batch_size = dataset, sampler, batch_size

    def __len__(self) -> int:
        return -(-len(self.sampler) // self.batch_size)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Batch]:
        order = torch.as_tensor(list(self.sampler), dtype=torch.long)
        for start in range(0, order.numel(), self.batch_size):
            yield self.dataset.__getitems__(order[start:start + self.batch_size])


def make_loader(dataset: Dataset, *, batch_size: int, shuffle: bool, seed: int,
                num_replicas: int, rank: int,
                num_workers: int) -> DataLoader | TensorBatchLoader:
    """A loader whose order depends only on ``seed`` and the epoch given to
    ``loader.sampler.set_epoch`` (a ``DistributedSampler`` when shuffling)."""
    if shuffle:
        sampler: Sampler[int] = DistributedSampler(
            dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed
        )
    else:
        sampler = ShardSampler(len(dataset), num_replicas, rank)  # type: ignore[arg-type]
    if isinstance(dataset, MultimodalTensorDataset) and num_workers == 0:
        return TensorBatchLoader(dataset, sampler, batch_size)
    collate = _passthrough if hasattr(dataset, "__getitems__") else None
    # The stub types collate_fn as taking a list, but with ``__getitems__`` it receives that
    # method's result (a whole Batch) unchanged.
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=num_workers,
                      collate_fn=collate)  # type: ignore[arg-type]


def to_device(value: Any, device: torch.device) -> Any:
    """Move tensors (also inside dicts, lists and tuples) to ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, Mapping):
        return {k: to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v, device) for v in value)
    return value


def batch_size_of(inputs: Mapping[str, torch.Tensor], target: Any) -> int:
    """Number of samples in a batch."""
    if isinstance(target, torch.Tensor) and target.ndim:
        return int(target.shape[0])
    first = next(iter(inputs.values()))
    return int(first.shape[0])
