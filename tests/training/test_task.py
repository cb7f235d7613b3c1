import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interplay.balance import Balancer
from interplay.exceptions import InvalidInputError
from interplay.training import Task, Trainer


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


# --------------------------------------------------------------------------- balancer hooks
class Recorder(Balancer):
    """Records the hooks in order; adds a term; halves the gradient of encoder 'a'."""

    term_names = ("extra",)
    step_names = ("grad_a",)

    def __init__(self):
        super().__init__()
        self.calls: list[str] = []
        self.seen_groups = None
        self.clipped_norm = None

    def transform_batch(self, inputs, mask, training):
        self.calls.append(f"transform:{training}")
        return inputs, mask

    def extra_terms(self, output, batch, target):
        self.calls.append("extra")
        return {"extra": 0.5 * output.logits.pow(2).mean()}

    def backward(self, loss, terms):
        self.calls.append("backward")
        assert terms["extra"].requires_grad
        loss.backward()

    def after_backward(self, groups):
        self.calls.append("after_backward")
        self.seen_groups = groups
        for p in groups["a"]:
            p.grad.mul_(0.5)
        return {"grad_a": sum(float(p.grad.norm()) for p in groups["a"])}

    def before_optimizer_step(self, groups):
        self.calls.append("before_step")
        grads = [p.grad.reshape(-1) for p in self.parameters_of_task if p.grad is not None]
        self.clipped_norm = float(torch.cat(grads).norm())

    def on_epoch_start(self, epoch):
        self.calls.append(f"epoch_start:{epoch}")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(f"epoch_end:{epoch}")
        assert "val_loss" in logs
        return {"recorder_epoch": float(epoch)}


def _fusion_model(seed=0):
    from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head

    torch.manual_seed(seed)
    enc = {"a": create_encoder("vector", 3, 4), "b": create_encoder("vector", 2, 4)}
    return MultimodalModel(enc, create_fusion("late", {"a": 4, "b": 4}, 6),
                           create_head("classification", 6, 2))


def _two(n, seed):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 3, generator=g), torch.randn(n, 2, generator=g)
    return {"a": a, "b": b}, (a[:, 0] > 0).long()


def test_the_trainer_calls_the_balancer_hooks_in_order():
    model = _fusion_model()
    rec = Recorder()
    task = Task(model, balancer=rec)
    rec.parameters_of_task = list(task.parameters())
    assert all(p is q for p, q in zip(rec.groups["a"], model.encoders["a"].parameters(),
                                      strict=True))
    assert not set(map(id, rec.groups["a"])) & set(map(id, model.head.parameters()))
    assert "extra" in task.metric_names and task.step_names == ["grad_a"]
    result = Trainer(max_epochs=2, batch_size=32, lr=0.01, grad_clip_norm=1e-3,
                     progress=False).fit(task, _two(64, 0), _two(32, 1))
    step = ["transform:True", "extra", "backward", "after_backward", "before_step"]
    val = ["transform:False", "extra"]
    epoch = lambda e: [f"epoch_start:{e}", *step, *step, *val, f"epoch_end:{e}"]  # noqa: E731
    assert rec.calls == epoch(0) + epoch(1)
    assert rec.clipped_norm == pytest.approx(1e-3, rel=1e-4)  # the hook runs after clipping
    row = result.history[-1]
    assert row["recorder_epoch"] == 1.0 and row["train_grad_a"] > 0
    assert row["train_extra"] > 0 and "val_extra" in row and "val_grad_a" not in row


def test_the_balancer_term_enters_the_loss_and_its_gradient_hook_acts():
    model = _fusion_model()
    x, y = _two(16, 0)
    out = model(x)
    manual = F.cross_entropy(out.logits, y) + 0.5 * out.logits.pow(2).mean()
    manual.backward()
    expected = {n: p.grad.clone() * (0.5 if n.startswith("encoders.a.") else 1.0)
                for n, p in model.named_parameters()}
    model.zero_grad()
    task = Task(model, balancer=Recorder())
    result = task(x, y)
    torch.testing.assert_close(result["loss"], manual)
    task.backward(result)
    task.after_backward()
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.grad, expected[n])


def test_modality_curves_log_masked_metrics_and_gradient_norms():
    model = _fusion_model()
    task = Task(model, modality_curves=True)
    assert task.metric_names == ["accuracy", "accuracy_only_a", "accuracy_only_b"]
    assert task.step_names == ["gradnorm_a", "gradnorm_b"]
    x, y = _two(32, 0)
    out = task(x, y)
    only_a = torch.tensor([[True, False]]).expand(32, 2)
    expected = (model(x, only_a).logits.argmax(1) == y).double().mean()
    torch.testing.assert_close(out["accuracy_only_a"], expected)
    result = Trainer(max_epochs=1, batch_size=16, progress=False).fit(task, (x, y), _two(16, 1))
    row = result.history[0]
    assert row["train_gradnorm_a"] > 0 and row["train_gradnorm_b"] > 0
    assert 0 <= row["val_accuracy_only_b"] <= 1


def test_curves_and_balancers_refuse_models_without_the_structure():
    with pytest.raises(InvalidInputError, match="`decode"):
        Task(DictNet(), modality_curves=True)
    with pytest.raises(InvalidInputError, match="`encoders` maps each modality"):
        Task(DictNet(), balancer=Recorder())
    with pytest.raises(InvalidInputError, match="`balancer` must be an interplay Balancer"):
        Task(DictNet(), balancer="ogm_ge")
