"""The objective seam: objectives see the whole model output and log their named terms."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interplay.exceptions import InvalidInputError
from interplay.models import (
    ModelOutput,
    MultimodalModel,
    create_encoder,
    create_fusion,
    create_head,
)
from interplay.training import Task, Trainer, seed_everything
from interplay.training.objective import (
    Objective,
    SupervisedObjective,
    create_objective,
    list_objectives,
)


def _model() -> MultimodalModel:
    enc = {"a": create_encoder("vector", 3, 4), "b": create_encoder("vector", 2, 4)}
    return MultimodalModel(enc, create_fusion("early", {"a": 4, "b": 4}, 6),
                           create_head("classification", 6, 2))


def _data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 3, generator=g), torch.randn(n, 2, generator=g)
    return {"a": a, "b": b}, (a[:, 0] + b[:, 0] > 0).long()


class AlignedCE(Objective):
    """Cross-entropy plus a learnable-weighted pull between the two embeddings."""

    term_names = ("ce", "align")

    def __init__(self):
        super().__init__()
        self.log_w = nn.Parameter(torch.zeros(()))
        self.seen: list[tuple[type, list[str], list[str]]] = []

    def forward(self, output, batch, target):
        self.seen.append((type(output), sorted(output.embeddings), sorted(batch)))
        ce = F.cross_entropy(output.logits, target)
        align = (output.embeddings["a"] - output.embeddings["b"]).pow(2).mean()
        return {"loss": ce + self.log_w.exp() * align, "ce": ce, "align": align}


def test_an_objective_reads_the_model_output_and_its_terms_are_logged():
    seed_everything(0)
    objective = AlignedCE()
    task = Task(_model(), objective=objective)
    assert task.metric_names == ["ce", "align", "accuracy"]
    assert any(p is objective.log_w for p in task.parameters())
    result = Trainer(max_epochs=2, batch_size=16, lr=0.05, progress=False).fit(
        task, _data(64, 0), _data(32, 1))
    row = result.history[-1]
    for key in ("train_ce", "train_align", "val_ce", "val_align"):
        assert key in row and row[key] > 0
    assert objective.seen[0] == (ModelOutput, ["a", "b"], ["a", "b"])
    assert objective.log_w.item() != 0.0  # trained with the model


def test_a_plain_function_is_an_objective_and_its_terms_are_found_on_first_use():
    def objective(output, batch, target):
        ce = F.cross_entropy(output.logits, target)
        return {"loss": 2 * ce, "half": ce}

    task = Task(_model(), objective=objective)
    out = task(*_data(8, 0))
    torch.testing.assert_close(out["loss"], 2 * out["half"])
    assert task.metric_names == ["half", "accuracy"]


def test_the_default_objective_is_the_supervised_loss():
    seed_everything(0)
    model = _model()
    task = Task(model)
    assert isinstance(task.objective, SupervisedObjective)
    x, y = _data(8, 0)
    torch.testing.assert_close(task(x, y)["loss"], F.cross_entropy(model(x).logits, y))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"objective": AlignedCE(), "loss": "mse"}, "either `loss`"),
    ({"objective": "supervised"}, "must be callable"),
])
def test_bad_objective_arguments(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        Task(_model(), **kwargs)


def test_an_objective_must_return_its_total_under_loss():
    task = Task(_model(), objective=lambda output, batch, target: {"total": output.logits.sum()})
    with pytest.raises(InvalidInputError, match="under 'loss'"):
        task(*_data(4, 0))


def test_registry():
    assert "supervised" in list_objectives()
    assert create_objective("supervised", loss="mse").term_names == ()
    with pytest.raises(InvalidInputError, match="`objective` must be one of"):
        create_objective("nope")
    with pytest.raises(InvalidInputError, match="Bad option for objective 'supervised'"):
        create_objective("supervised", temperature=2)
