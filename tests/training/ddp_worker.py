"""Worker for test_ddp.py, launched as `torchrun --nproc_per_node 2 ddp_worker.py OUT_DIR`.

Every rank trains the same tiny two-modality model with the interplay Trainer (which joins the
gloo process group from torchrun's environment) and saves its final parameters and history.
"""

import json
import sys
from pathlib import Path

import torch
from torch import nn

from interplay.training import Task, Trainer, seed_everything, shutdown_distributed

SETTINGS = {"max_epochs": 3, "batch_size": 8, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
            "seed": 4, "progress": False, "restore_best": False}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc_a = nn.Linear(3, 8)
        self.enc_b = nn.Linear(2, 8)
        self.head = nn.Sequential(nn.Tanh(), nn.Linear(16, 2))

    def forward(self, inputs):
        return self.head(torch.cat([self.enc_a(inputs["a"]), self.enc_b(inputs["b"])], dim=-1))


def data(n, seed):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 3, generator=g), torch.randn(n, 2, generator=g)
    return {"a": a, "b": b}, (a[:, 0] - b[:, 1] > 0).long()


def train(batch_size):
    seed_everything(0)
    task = Task(Net())
    result = Trainer(**{**SETTINGS, "batch_size": batch_size}).fit(task, data(96, 1), data(30, 2))
    return task, result


def run_rank(out: Path) -> None:
    """Train as one rank of the process group and save what this rank ends with."""
    task, result = train(SETTINGS["batch_size"])
    # one evaluation sample for two processes: rank 1's shard is empty
    tiny = Trainer(**SETTINGS).evaluate(task, data(1, 3))
    rank = torch.distributed.get_rank()
    torch.save(task.state_dict(), out / f"rank{rank}.pt")
    (out / f"rank{rank}.json").write_text(json.dumps({**result.to_dict(), "tiny": tiny}))
    shutdown_distributed()


if __name__ == "__main__":
    run_rank(Path(sys.argv[1]))
