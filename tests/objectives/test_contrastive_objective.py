"""The registered contrastive objective trains a fusion model's encoders through Task/Trainer."""

from __future__ import annotations

import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head
from interplay.objectives.contrastive import clip_loss
from interplay.objectives.contrastive_objective import ContrastiveObjective
from interplay.training import Task, Trainer, seed_everything
from interplay.training.objective import create_objective, list_objectives


def _model(widths=(4, 4, 4)) -> MultimodalModel:
    enc = {m: create_encoder("vector", 3, w) for m, w in zip("abc", widths, strict=True)}
    return MultimodalModel(enc, create_fusion("early", dict(zip("abc", widths, strict=True)), 6),
                           create_head("classification", 6, 2))


def _data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 3, generator=g)
    batch = {m: z + 0.1 * torch.randn(n, 3, generator=g) for m in "abc"}
    return batch, (z[:, 0] > 0).long()


def test_registered_and_buildable_by_name():
    assert "contrastive" in list_objectives()
    obj = create_objective("contrastive", modalities=["a", "b", "c"], hub="a")
    assert obj.term_names == ("align_b_a", "align_c_a")


def test_terms_equal_clip_loss_on_the_model_embeddings():
    seed_everything(0)
    model = _model()
    obj = ContrastiveObjective(["a", "b", "c"])
    batch, y = _data(16, 0)
    out = model(batch)
    terms = obj(out, batch, y)
    scale = obj.losses["a|b"].scale
    expected = clip_loss(out.embeddings["a"], out.embeddings["b"], scale)
    assert terms["align_a_b"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert set(terms) == {"align_a_b", "align_a_c", "align_b_c", "loss"}


def test_binding_through_task_and_trainer_logs_terms_and_lowers_the_loss():
    seed_everything(0)
    obj = ContrastiveObjective(["a", "b", "c"], hub="a", supervised_weight=0.5)
    task = Task(_model(), objective=obj)
    assert {"align_b_a", "align_c_a", "supervised"} <= set(task.metric_names)
    train, val = _data(128, 1), _data(64, 2)
    before = obj(task.model(val[0]), *val)["loss"].item()
    Trainer(max_epochs=4, batch_size=32, lr=0.01, progress=False).fit(task, train, val)
    after = obj(task.model(val[0]), *val)["loss"].item()
    assert after < before
    # the objective's temperatures are trained with the model
    assert any(p is obj.losses["b|a"].log_scale for p in task.parameters())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"modalities": ["a"]}, "at least two"),
        ({"modalities": ["a", "b"], "hub": "z"}, "not among"),
        ({"pairs": [("a", "a")]}, "two different"),
        ({"modalities": ["a", "b"], "loss": "nope"}, "loss"),
        ({"modalities": ["a", "b"], "supervised_weight": -1.0}, "supervised_weight"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        ContrastiveObjective(**kwargs)


def test_mismatched_widths_and_missing_modality_are_refused():
    batch, y = _data(8, 0)
    out = _model((4, 5, 4))(batch)
    with pytest.raises(InvalidInputError, match="same output_dim"):
        ContrastiveObjective(["a", "b"])(out, batch, y)
    with pytest.raises(InvalidInputError, match="no embedding"):
        ContrastiveObjective(["a", "z"])(out, batch, y)


def test_the_bind_example_config_validates():
    from pathlib import Path

    from interplay.training.config import load_config

    path = Path(__file__).resolve().parents[2] / "examples" / "configs" / "mfeat_bind.yaml"
    cfg = load_config(path)
    assert cfg.objective is not None and cfg.objective.name == "contrastive"
    assert cfg.objective.options["hub"] == "pix"


def test_a_config_with_bad_contrastive_options_is_refused_when_the_task_is_built():
    with pytest.raises(InvalidInputError, match="hub"):
        create_objective("contrastive", modalities=["a", "b"], hub="z")
