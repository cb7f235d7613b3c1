import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interplay.exceptions import InvalidInputError
from interplay.training import Task


class DictNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 3)

    def forward(self, inputs):
        z = self.lin(inputs["x"])
        return {"logits": z, "rep": z.detach()}


class ScaledCE(nn.Module):
    """A loss with its own parameter (a learnable temperature)."""

    def __init__(self):
        super().__init__()
        self.log_t = nn.Parameter(torch.zeros(()))

    def forward(self, output, target):
        return F.cross_entropy(output["logits"] * self.log_t.exp(), target)


def test_loss_and_metrics_match_manual_computation():
    torch.manual_seed(0)
    task = Task(DictNet(), loss="cross_entropy", metrics=["accuracy"])
    x, y = torch.randn(10, 2), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    out = task({"x": x}, y)
    logits = task.model({"x": x})["logits"]
    assert torch.allclose(out["loss"], F.cross_entropy(logits, y))
    assert out["accuracy"].item() == pytest.approx((logits.argmax(1) == y).double().mean().item())
    assert out["loss"].requires_grad and not out["accuracy"].requires_grad


def test_weighted_sum_of_several_losses():
    torch.manual_seed(0)
    scaled = ScaledCE()
    task = Task(DictNet(), loss={"ce": "cross_entropy", "scaled": scaled},
                loss_weights={"scaled": 0.25}, metrics=[])
    x, y = torch.randn(8, 2), torch.randint(0, 3, (8,))
    out = task({"x": x}, y)
    assert torch.allclose(out["loss"], out["loss_ce"] + 0.25 * out["loss_scaled"])
    assert task.metric_names == ["loss_ce", "loss_scaled"]
    # the loss module's parameter belongs to the task, so an optimizer over the task trains it
    assert any(p is scaled.log_t for p in task.parameters())
    out["loss"].backward()
    assert scaled.log_t.grad is not None and scaled.log_t.grad.abs() > 0


def test_binary_accuracy_with_one_logit():
    pred = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])
    target = torch.tensor([1.0, 1.0, 0.0, 0.0])
    task = Task(_Pick(), loss="bce", metrics=["accuracy"])
    out = task({"p": pred}, target)
    # predictions 1, 0, 1, 0 against 1, 1, 0, 0
    assert out["accuracy"].item() == pytest.approx(0.5)
    assert out["loss"].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(pred[:, 0], target).item())


class _Pick(nn.Module):
    def forward(self, inputs):
        return inputs["p"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "not a module"},
        {"loss": "hinge"},
        {"loss": 3},
        {"loss": {}},
        {"loss": {"ce": "cross_entropy"}, "loss_weights": {"other": 1.0}},
        {"loss": {"ce": "cross_entropy"}, "loss_weights": {"ce": float("nan")}},
        {"metrics": "accuracy"},
        {"metrics": ["f1"]},
        {"metrics": ["accuracy", "accuracy"]},
    ],
)
def test_bad_task_arguments(kwargs):
    model = kwargs.pop("model", DictNet())
    with pytest.raises(InvalidInputError):
        Task(model, **kwargs)


def test_bad_inputs_and_missing_output_key():
    task = Task(DictNet(), output_key="pred")
    with pytest.raises(InvalidInputError, match="output_key"):
        task({"x": torch.zeros(2, 2)}, torch.zeros(2, dtype=torch.long))
    with pytest.raises(InvalidInputError, match="inputs"):
        Task(DictNet())(torch.zeros(2, 2), torch.zeros(2, dtype=torch.long))
