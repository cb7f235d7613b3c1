"""Modality dropout, the first balancer: the mask's law, when it applies, exact resume."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from interplay.balance import ModalityDropout, create_balancer, modality_dropout_mask
from interplay.exceptions import InvalidInputError
from interplay.models import (
    MultimodalModel,
    UnimodalModel,
    create_encoder,
    create_fusion,
    create_head,
)
from interplay.training import Task, Trainer, config_from_dict, seed_everything
from interplay.training.run import make_task, run_training


class MaskedNet(nn.Module):
    """Two modalities, zeroed where the mask says missing; records the masks it receives."""

    modalities = ("a", "b")

    def __init__(self, fail_at: int | None = None):
        super().__init__()
        self.enc_a, self.enc_b = nn.Linear(3, 8), nn.Linear(2, 8)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(16, 2))
        self.masks: list[torch.Tensor | None] = []
        self.fail_at = fail_at

    def forward(self, inputs, mask=None):
        self.masks.append(mask)
        if self.fail_at is not None and len(self.masks) == self.fail_at:
            raise RuntimeError("simulated crash")
        keep = torch.ones(inputs["a"].shape[0], 2) if mask is None else mask.float()
        za = self.enc_a(inputs["a"] * keep[:, :1])
        zb = self.enc_b(inputs["b"] * keep[:, 1:])
        return self.head(torch.cat([za, zb], dim=-1))


class NoMaskNet(nn.Module):
    modalities = ("a", "b")

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(5, 2)

    def forward(self, inputs):
        return self.lin(torch.cat([inputs["a"], inputs["b"]], dim=-1))


class OneColumnNet(MaskedNet):
    modalities = ("a",)


def _data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 3, generator=g), torch.randn(n, 2, generator=g)
    return {"a": a, "b": b}, (a[:, 0] + b[:, 0] > 0).long()


@pytest.mark.parametrize(("k", "p"), [(2, 0.5), (3, 0.3)])
def test_mask_follows_independent_drops_conditioned_on_one_present(k, p):
    torch.manual_seed(0)
    mask = modality_dropout_mask(40_000, k, p)
    assert mask.shape == (40_000, k) and mask.dtype == torch.bool
    assert mask.any(dim=1).all()
    alive = 1 - p**k  # probability that an independent draw keeps at least one modality
    dropped = (~mask).double().mean(dim=0)
    torch.testing.assert_close(dropped, torch.full((k,), p * (1 - p ** (k - 1)) / alive,
                                                   dtype=torch.float64), atol=0.01, rtol=0)
    full = mask.all(dim=1).double().mean().item()
    assert full == pytest.approx((1 - p) ** k / alive, abs=0.01)


def test_mask_without_dropout_keeps_everything_and_repeats_by_seed():
    assert modality_dropout_mask(5, 2, 0.0).all()
    torch.manual_seed(3)
    first = modality_dropout_mask(50, 3, 0.6)
    torch.manual_seed(3)
    assert torch.equal(first, modality_dropout_mask(50, 3, 0.6))


@pytest.mark.parametrize(("args", "match"), [((4, 1, 0.5), "n_modalities"),
                                             ((4, 2, 1.0), "`p` must be <"),
                                             ((-1, 2, 0.5), "n_samples")])
def test_mask_arguments_are_checked(args, match):
    with pytest.raises(InvalidInputError, match=match):
        modality_dropout_mask(*args)


def test_training_mode_passes_a_fresh_mask_and_evaluation_none():
    net = MaskedNet()
    task = Task(net, balancer=ModalityDropout(0.5))
    inputs, y = _data(64, 0)
    torch.manual_seed(0)
    task.train()
    task(inputs, y)
    task(inputs, y)
    task.eval()
    task(inputs, y)
    first, second, evaluation = net.masks
    assert first.shape == (64, 2) and first.any(dim=1).all()
    assert not first.all() and not torch.equal(first, second)
    assert evaluation is None


def test_no_dropout_calls_the_model_without_a_mask():
    net = MaskedNet()
    task = Task(net)
    task.train()
    task(*_data(8, 0))
    assert net.masks == [None] and task.balancer is None


@pytest.mark.parametrize(("model", "match"), [
    (NoMaskNet(), "NoMaskNet has no `mask` argument"),
    (OneColumnNet(), "needs at least 2 modalities"),
])
def test_modality_dropout_refuses_a_model_it_cannot_mask(model, match):
    with pytest.raises(InvalidInputError, match=match):
        Task(model, balancer=ModalityDropout(0.2))


@pytest.mark.parametrize(("p", "match"), [(1.0, "`p` must be < 1"), (-0.1, "`p` must be >= 0"),
                                          ("0.3", "`p` must be a number")])
def test_bad_drop_probability_is_refused(p, match):
    with pytest.raises(InvalidInputError, match=match):
        create_balancer("modality_dropout", p=p)


def test_model_without_mask_is_fine_without_dropout():
    out = Task(NoMaskNet())(*_data(4, 0))
    assert torch.isfinite(out["loss"])


def _fusion_model() -> MultimodalModel:
    encoders = {"a": create_encoder("vector", 3, 8), "b": create_encoder("vector", 2, 8)}
    return MultimodalModel(encoders, create_fusion("gated", {"a": 8, "b": 8}, 8),
                           create_head("classification", 8, 2))


DROP = {"name": "modality_dropout", "options": {"p": 0.25}}


def test_run_config_sets_dropout_for_the_fusion_model_only():
    cfg = config_from_dict({"dataset": {"name": "mfeat"}, "balance": DROP})
    assert make_task(cfg, _fusion_model()).balancer.p == 0.25
    baseline = UnimodalModel("a", create_encoder("vector", 3, 8),
                             create_head("classification", 8, 2))
    assert make_task(cfg, baseline).balancer is None
    several = config_from_dict({"dataset": {"name": "mfeat"}, "task": "regression",
                                "losses": {"mse": 1.0, "mae": 0.5}, "balance": DROP})
    assert make_task(several, _fusion_model()).balancer.p == 0.25


def test_the_old_trainer_key_says_where_dropout_went():
    with pytest.raises(InvalidInputError, match="moved to the balance section"):
        config_from_dict({"dataset": {"name": "mfeat"}, "trainer": {"modality_dropout": 0.3}})


def test_a_multimodal_model_learns_under_dropout():
    seed_everything(0)
    model = _fusion_model()
    train, val = _data(256, 1), _data(128, 2)
    result = Trainer(max_epochs=15, lr=0.02, batch_size=64, progress=False).fit(
        Task(model, balancer=ModalityDropout(0.3)), train, val)
    assert result.metrics["val_accuracy"] > 0.85
    # with b missing the label is still half-predictable from a[:, 0]
    model.eval()
    inputs, y = val
    only_a = torch.tensor([[True, False]]).expand(128, 2)
    acc = (model(inputs, only_a).logits.argmax(1) == y).double().mean().item()
    assert acc > 0.65


def test_resume_with_modality_dropout_equals_uninterrupted_run(tmp_path):
    train, val = _data(96, 1), _data(32, 2)
    settings = {"max_epochs": 5, "lr": 0.02, "batch_size": 16, "progress": False}

    seed_everything(7)
    ref_task = Task(MaskedNet(), balancer=ModalityDropout(0.4))
    ref = Trainer(**settings).fit(ref_task, train, val)

    # the same run crashes in epoch 4 (6 training + 2 validation forward passes per epoch)
    seed_everything(7)
    crashing = Task(MaskedNet(fail_at=3 * 8 + 3), balancer=ModalityDropout(0.4))
    with pytest.raises(RuntimeError, match="simulated crash"):
        Trainer(checkpoint_dir=tmp_path, **settings).fit(crashing, train, val)

    seed_everything(999)
    torch.rand(13)  # another process: other weights and another RNG position
    resumed_task = Task(MaskedNet(), balancer=ModalityDropout(0.4))
    resumed = Trainer(checkpoint_dir=tmp_path, **settings).fit(resumed_task, train, val,
                                                               resume=True)
    assert resumed.resumed_from_epoch == 3
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in ref.history]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in resumed.history] == strip
    for a, b in zip(ref_task.state_dict().values(), resumed_task.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b)
    # the masks of the resumed epochs are those of the uninterrupted run
    ref_masks = [m for m in ref_task.model.masks if m is not None]
    resumed_masks = [m for m in resumed_task.model.masks if m is not None]
    assert len(resumed_masks) == 2 * 6
    assert all(torch.equal(a, b) for a, b in zip(ref_masks[-12:], resumed_masks, strict=True))


def test_a_config_run_trains_its_fusion_model_under_dropout(tmp_path):
    tiny = {
        "dataset": {"name": "mfeat", "max_samples": 160},
        "modalities": ["fou", "kar"],
        "encoders": {m: {"output_dim": 4, "options": {"hidden_dims": [8]}} for m in ("fou", "kar")},
        "fusion": {"name": "late", "output_dim": 4},
        "trainer": {"epochs": 2, "batch_size": 32, "seeds": [0]},
    }
    runs = {}
    for p in (0.0, 0.5):
        balance = {"name": "modality_dropout", "options": {"p": p}}
        cfg = config_from_dict({**tiny, "balance": balance})
        runs[p] = run_training(cfg, output_dir=tmp_path / str(p), progress=False)
        assert runs[p]["config"]["balance"] == balance
    plain, dropped = (runs[p]["runs"]["model"]["per_seed"][0]["history"] for p in (0.0, 0.5))
    # same seed, same data, same initial weights: only the masks differ
    assert len(plain) == len(dropped) == 2
    assert plain[0]["train_loss"] != dropped[0]["train_loss"]
