"""Compiled objectives train through Task / Trainer and the `objective:` section of a run."""

from __future__ import annotations

import math

import torch

from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head
from interplay.objectives import create_objective
from interplay.training import Task, Trainer, config_from_dict, run_training, seed_everything
from interplay.training.objective import list_objectives


def _data(n: int, seed: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, 2, generator=g)
    a = torch.cat([s, torch.randn(n, 1, generator=g)], 1)
    b = s @ torch.randn(2, 2, generator=g) + 0.1 * torch.randn(n, 2, generator=g)
    return {"a": a, "b": b}, (s[:, 0] > 0).long()


def test_presets_join_the_training_registry() -> None:
    assert {"dvsib", "beta-vae", "dvib", "multi-view-ib"} <= set(list_objectives())


def test_dvsib_trains_through_task_and_trainer() -> None:
    seed_everything(0)
    enc = {"a": create_encoder("vector", 3, 4), "b": create_encoder("vector", 2, 4)}
    model = MultimodalModel(enc, create_fusion("early", {"a": 4, "b": 4}, 6),
                            create_head("classification", 6, 2))
    objective = create_objective("dvsib", modalities={"a": 3, "b": 2}, latent_dim=2, beta=4.0,
                                 hidden=(16,), supervised=1.0)
    task = Task(model, objective=objective)
    assert task.metric_names[:len(objective.term_names)] == list(objective.term_names)
    before = objective.encoders["Z_a"][0].weight.detach().clone()
    result = Trainer(max_epochs=15, batch_size=32, lr=0.01, progress=False).fit(
        task, _data(128, 0), _data(64, 1))
    row = result.history[-1]
    for key in ("train_mi:Z_a~Z_b", "val_kl:a->Z_a", "train_ce", "val_loglik:Z_b->b"):
        assert key in row
    assert row["train_mi:Z_a~Z_b"] > 0.1  # the views share two dimensions
    assert not torch.equal(before, objective.encoders["Z_a"][0].weight)


def test_objective_section_of_a_run_config(tmp_path) -> None:
    cfg = config_from_dict({
        "dataset": {"name": "noisy-digits", "options": {"n_samples": 120}},
        "target": "digit",
        "encoders": {m: {"kind": "vector", "output_dim": 8} for m in ("rotated", "noisy")},
        "objective": {"name": "dvsib", "options": {
            "modalities": {"rotated": [256], "noisy": [256]}, "latent_dim": 4, "beta": 8.0,
            "hidden": [16], "supervised": 1.0}},
        "trainer": {"epochs": 1, "batch_size": 32, "seeds": [0]},
    })
    result = run_training(cfg, output_dir=tmp_path / "run", progress=False)
    metrics = result["runs"]["model"]["per_seed"][0]["metrics"]
    for term in ("kl:rotated->Z_rotated", "loglik:Z_noisy->noisy", "mi:Z_rotated~Z_noisy", "ce"):
        assert math.isfinite(metrics[f"test_{term}"])
