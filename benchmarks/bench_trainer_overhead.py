"""Overhead of interplay's Trainer over a plain PyTorch training loop.

Both train the same two-modality MLP on the same in-memory data with the same seed, the same
optimizer and the same per-epoch shuffling, so they do the same arithmetic (the script checks
that they end with the same parameters). The difference in wall time is the trainer's own cost:
data loader and sampler, the Task's dict handling, metric bookkeeping, epoch records.

Run single-threaded for stable timings::

    OMP_NUM_THREADS=1 python benchmarks/bench_trainer_overhead.py

Each repeat times the plain loop and the Trainer back to back (order alternating); the ratio
reported is the median over repeats of trainer_time / plain_time, for wall-clock time and for
the process's CPU time, and the ratio of the fastest runs (the least disturbed by other load).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from interplay.training import Task, Trainer, seed_everything


class TwoTowerMLP(nn.Module):
    def __init__(self, d_a: int, d_b: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.enc_a = nn.Sequential(nn.Linear(d_a, hidden), nn.ReLU())
        self.enc_b = nn.Sequential(nn.Linear(d_b, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, n_classes))

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(torch.cat([self.enc_a(inputs["a"]), self.enc_b(inputs["b"])], dim=-1))


def make_data(n: int, d_a: int, d_b: int, n_classes: int):
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, d_a, generator=g), torch.randn(n, d_b, generator=g)
    w = torch.randn(d_a + d_b, n_classes, generator=g)
    y = (torch.cat([a, b], dim=1) @ w).argmax(dim=1)
    return {"a": a, "b": b}, y


def plain_loop(model: nn.Module, inputs, y, *, epochs: int, batch_size: int, lr: float,
               seed: int) -> list[float]:
    """The loop a user would write by hand (same shuffling rule as the trainer)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = y.shape[0]
    losses = []
    for epoch in range(epochs):
        model.train()
        g = torch.Generator().manual_seed(seed + epoch)
        order = torch.randperm(n, generator=g)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            out = model({k: v[idx] for k, v in inputs.items()})
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        losses.append(total / n)
    return losses


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write the result here as JSON")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    d_a, d_b, n_classes, lr, seed = 64, 32, 10, 1e-3, 0
    inputs, y = make_data(args.n, d_a, d_b, n_classes)

    def build() -> nn.Module:
        seed_everything(seed)
        return TwoTowerMLP(d_a, d_b, args.hidden, n_classes)

    def run_plain() -> tuple[float, nn.Module, list[float]]:
        model = build()
        t, c = time.perf_counter(), time.process_time()
        losses = plain_loop(model, inputs, y, epochs=args.epochs, batch_size=args.batch_size,
                            lr=lr, seed=seed)
        return (time.perf_counter() - t, time.process_time() - c), model, losses

    def run_trainer(metrics=(), progress=False) -> tuple[float, nn.Module, list[float]]:
        model = build()
        task = Task(model, loss="cross_entropy", metrics=metrics)
        trainer = Trainer(max_epochs=args.epochs, batch_size=args.batch_size, lr=lr, seed=seed,
                          progress=progress, restore_best=False)
        t, c = time.perf_counter(), time.process_time()
        result = trainer.fit(task, (inputs, y))
        elapsed = (time.perf_counter() - t, time.process_time() - c)
        return elapsed, model, [row["train_loss"] for row in result.history]

    run_plain()
    run_trainer()  # warm-up (lazy imports, allocator)

    plain_t, trainer_t, metric_t = [], [], []  # (wall, cpu) seconds per repeat
    for r in range(args.repeats):
        order = (run_plain, run_trainer) if r % 2 == 0 else (run_trainer, run_plain)
        times = {}
        for fn in order:
            times[fn.__name__], model, losses = fn()
            if fn is run_plain:
                plain_model, plain_losses = model, losses
            else:
                trainer_model, trainer_losses = model, losses
        plain_t.append(times["run_plain"])
        trainer_t.append(times["run_trainer"])
        metric_t.append(run_trainer(metrics=("accuracy",))[0])

    max_diff = max(float((p - q).abs().max()) for p, q in
                   zip(plain_model.state_dict().values(), trainer_model.state_dict().values(),
                       strict=True))
    wall = [t[0] / p[0] for t, p in zip(trainer_t, plain_t, strict=True)]
    cpu = [t[1] / p[1] for t, p in zip(trainer_t, plain_t, strict=True)]
    result = {
        "n_samples": args.n, "batch_size": args.batch_size, "hidden": args.hidden,
        "epochs": args.epochs, "repeats": args.repeats,
        "steps_per_run": args.epochs * -(-args.n // args.batch_size),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "torch": torch.__version__,
        "plain_wall_seconds_median": statistics.median(t[0] for t in plain_t),
        "trainer_wall_seconds_median": statistics.median(t[0] for t in trainer_t),
        "trainer_with_accuracy_wall_seconds_median": statistics.median(t[0] for t in metric_t),
        "wall_ratio_median": statistics.median(wall),
        "wall_ratio_min": min(wall), "wall_ratio_max": max(wall),
        "cpu_ratio_median": statistics.median(cpu),
        "cpu_ratio_min": min(cpu), "cpu_ratio_max": max(cpu),
        "best_of_ratio": min(t[0] for t in trainer_t) / min(p[0] for p in plain_t),
        "plain_wall_seconds": [p[0] for p in plain_t],
        "trainer_wall_seconds": [t[0] for t in trainer_t],
        "overhead_percent_wall": 100 * (statistics.median(wall) - 1),
        "overhead_percent_cpu": 100 * (statistics.median(cpu) - 1),
        "max_abs_param_difference": max_diff,
        "epoch_losses_plain": plain_losses, "epoch_losses_trainer": trainer_losses,
    }
    print(f"plain loop      : {result['plain_wall_seconds_median']:.3f} s "
          f"(median of {args.repeats})")
    print(f"Trainer         : {result['trainer_wall_seconds_median']:.3f} s")
    print(f"Trainer + acc.  : {result['trainer_with_accuracy_wall_seconds_median']:.3f} s")
    for kind in ("wall", "cpu"):
        print(f"{kind:4s} time ratio : {result[kind + '_ratio_median']:.3f} "
              f"[{result[kind + '_ratio_min']:.3f}, {result[kind + '_ratio_max']:.3f}]"
              f" -> overhead {result['overhead_percent_' + kind]:+.1f}%")
    print(f"best-of-{args.repeats} ratio: {result['best_of_ratio']:.3f} "
          f"(fastest Trainer run / fastest plain run, the timeit convention)")
    print(f"same final parameters: max |difference| = {max_diff:.3g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
