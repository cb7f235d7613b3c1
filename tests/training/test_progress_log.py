"""Training progress written to a non-terminal (a log file, CI) is one plain line per epoch."""

from __future__ import annotations

import torch
from torch import nn

from interplay.training import Task, Trainer


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, inputs):
        return self.lin(torch.cat([inputs["a"], inputs["b"]], -1))


def test_one_plain_line_per_epoch_when_stderr_is_not_a_terminal(capsys):
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 1, generator=g), torch.randn(64, 1, generator=g)
    data = ({"a": a, "b": b}, (a[:, 0] > 0).long())
    Trainer(max_epochs=3, progress=True).fit(Task(_Net()), data, data)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 3
    for i, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch {i}/3  train_loss=")
        assert "val_loss=" in line and line.endswith(" s)")
        assert "…" not in line and "━" not in line  # no bar, nothing cut off
