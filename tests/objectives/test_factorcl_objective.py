"""FactorCL-SUP/-SSL as registered objectives: the trainer's auxiliary (critic) optimiser,
checkpoints and resume, and `interplay train` from YAML."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import pytest
import torch
import yaml

from interplay.cli.main import main
from interplay.exceptions import InvalidInputError
from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head
from interplay.objectives.factorcl_objective import FactorCLSSLObjective, FactorCLSupObjective
from interplay.training import Task, Trainer, load_checkpoint, seed_everything
from interplay.training.objective import create_objective, list_objectives


def _model(widths=(4, 5), task="classification") -> MultimodalModel:
    enc = {m: create_encoder("vector", 3, w) for m, w in zip("ab", widths, strict=True)}
    return MultimodalModel(enc, create_fusion("late", dict(zip("ab", widths, strict=True)), 6),
                           create_head(task, 6, 2 if task == "classification" else 1))


def _data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 3, generator=g)
    batch = {m: z + 0.3 * torch.randn(n, 3, generator=g) for m in "ab"}
    return batch, (z[:, 0] > 0).long()


def _snapshot(params):
    return [p.detach().clone() for p in params]


def _changed(before, params) -> bool:
    return any(not torch.equal(b, p) for b, p in zip(before, params, strict=True))


def test_both_modes_are_registered_and_built_by_name():
    objectives = list_objectives()
    assert {"factorcl_sup", "factorcl_ssl"} <= set(objectives)
    sup = create_objective("factorcl_sup", modalities=["a", "b"], supervised_weight=0.5)
    assert isinstance(sup, FactorCLSupObjective)
    assert sup.term_names[-1] == "supervised" and "club_unique" in sup.term_names
    ssl = create_objective("factorcl_ssl", modalities=["a", "b"], noise_std=0.2, mask_p=0.1)
    assert isinstance(ssl, FactorCLSSLObjective)


def test_terms_are_factorcl_on_the_model_embeddings_of_different_widths():
    seed_everything(0)
    obj = FactorCLSupObjective(["a", "b"], feat_dim=4, hidden=[8])
    task = Task(_model((4, 5)), objective=obj)
    batch, y = _data(16, 0)
    out = task.model(batch)
    terms = obj(out, batch, y)
    direct = obj.factorcl.factor_terms(obj.factorcl.heads(out.embeddings["a"],
                                                          out.embeddings["b"]), y)
    assert {k: v.item() for k, v in terms.items()} == pytest.approx(
        {k: v.item() for k, v in direct.items()})
    # the critics are the auxiliary parameters, and only they
    assert {id(p) for p in task.auxiliary_parameters()} == {
        id(p) for p in obj.factorcl.critic_parameters()}
    assert "auxiliary_loss" in task.step_names


def test_representations_are_the_four_factors():
    seed_everything(0)
    obj = FactorCLSupObjective(["a", "b"], feat_dim=4, hidden=[8])
    task = Task(_model(), objective=obj)
    batch, _ = _data(1, 0)  # a single sample can be represented (no negatives needed)
    out = task.model(batch)
    reps = obj.representations(out, batch)
    z = obj.factorcl.heads(out.embeddings["a"], out.embeddings["b"])
    assert list(reps) == ["a:shared", "a:unique", "b:shared", "b:unique"]
    assert torch.equal(reps["a:unique"], z["z1u"]) and torch.equal(reps["b:shared"], z["z2s"])


def test_the_auxiliary_step_trains_the_critics_and_nothing_else():
    seed_everything(0)
    obj = FactorCLSupObjective(["a", "b"], feat_dim=4, hidden=[8], critic_steps=2)
    task = Task(_model(), objective=obj)
    critics = task.auxiliary_parameters()
    ids = {id(p) for p in critics}
    others = [p for p in task.parameters() if id(p) not in ids]
    task.train()
    batch, y = _data(32, 1)
    task.backward(task(batch, y))
    before_c, before_o = _snapshot(critics), _snapshot(others)
    out = task.auxiliary_step(torch.optim.Adam(critics, lr=0.01))
    assert torch.isfinite(out["auxiliary_loss"])
    assert _changed(before_c, critics)
    assert not _changed(before_o, others)
    with pytest.raises(InvalidInputError, match="training forward pass first"):
        task.auxiliary_step(torch.optim.Adam(critics, lr=0.01))


def test_the_main_step_never_moves_the_critics():
    seed_everything(0)
    obj = FactorCLSupObjective(["a", "b"], feat_dim=4, hidden=[8])
    obj.auxiliary_steps = 0  # the trainer's main step alone
    task = Task(_model(), objective=obj)
    critics = task.auxiliary_parameters()
    ids = {id(p) for p in critics}
    others = [p for p in task.parameters() if id(p) not in ids]
    before_c, before_o = _snapshot(critics), _snapshot(others)
    Trainer(max_epochs=2, batch_size=16, lr=0.01, progress=False).fit(task, _data(64, 2))
    assert not _changed(before_c, critics)
    assert _changed(before_o, others)

    obj.auxiliary_steps = 1
    Trainer(max_epochs=1, batch_size=16, lr=0.01, progress=False).fit(task, _data(64, 2))
    assert _changed(before_c, critics)


def test_ssl_trains_through_the_trainer_deterministically():
    def fit() -> tuple[float, list[torch.Tensor]]:
        seed_everything(0)
        obj = FactorCLSSLObjective(["a", "b"], feat_dim=4, hidden=[8], noise_std=0.3,
                                   mask_p=0.2, supervised_weight=1.0)
        task = Task(_model(), objective=obj)
        result = Trainer(max_epochs=3, batch_size=16, lr=0.01, progress=False,
                         seed=4).fit(task, _data(64, 3), _data(32, 4))
        assert "train_auxiliary_loss" in result.history[0]
        return result.metrics["val_loss"], [p.detach().clone() for p in task.parameters()]

    (l1, w1), (l2, w2) = fit(), fit()
    assert l1 == l2 and all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))


def test_resume_restores_the_critic_optimiser_exactly(tmp_path):
    def fit(epochs: int, resume: bool) -> list[torch.Tensor]:
        seed_everything(0)
        task = Task(_model(), objective=FactorCLSupObjective(["a", "b"], feat_dim=4,
                                                             hidden=[8]))
        Trainer(max_epochs=epochs, batch_size=16, lr=0.01, progress=False,
                checkpoint_dir=tmp_path / "ck", restore_best=False).fit(
            task, _data(64, 5), resume=resume)
        return [p.detach().clone() for p in task.parameters()]

    full = fit(3, False)
    state, _ = load_checkpoint(tmp_path / "ck" / "epoch-0003")
    assert state["auxiliary_optimizer"]["state"]  # Adam moments of the critics
    shutil.rmtree(tmp_path / "ck")
    fit(2, False)
    resumed = fit(3, True)
    assert all(torch.equal(a, b) for a, b in zip(full, resumed, strict=True))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"modalities": ["a"]}, "two different modalities"),
        ({"modalities": ["a", "a"]}, "two different modalities"),
        ({"modalities": ["a", "b"], "critic_steps": 0}, "critic_steps"),
        ({"modalities": ["a", "b"], "critic": "mlp"}, "critic"),
        ({"modalities": ["a", "b"], "feat_dim": 0}, "feat_dim"),
        ({"modalities": ["a", "b"], "supervised_weight": -1}, "supervised_weight"),
        ({"modalities": ["a", "b"], "colour": 3}, "Bad option for objective 'factorcl_sup'"),
    ],
)
def test_bad_options_are_refused_with_the_library_error(options, match):
    with pytest.raises(InvalidInputError, match=match):
        create_objective("factorcl_sup", **options)


def test_bad_fits_to_the_model_and_batch_are_refused():
    with pytest.raises(InvalidInputError, match=r"\[.z.\] are not among the model.s"):
        Task(_model(), objective=FactorCLSupObjective(["a", "z"]))
    with pytest.raises(InvalidInputError, match="classification model"):
        Task(_model(task="regression"), objective=FactorCLSupObjective(["a", "b"]))
    with pytest.raises(InvalidInputError, match="not bound to a model"):
        FactorCLSupObjective(["a", "b"]).auxiliary_parameters()
    with pytest.raises(InvalidInputError, match="mask_p"):
        FactorCLSSLObjective(["a", "b"], mask_p=1.0)
    task = Task(_model(), objective=FactorCLSupObjective(["a", "b"]))
    batch, y = _data(1, 0)
    with pytest.raises(InvalidInputError, match="batch of 1"):
        task(batch, y)
    batch, y = _data(4, 0)
    with pytest.raises(InvalidInputError, match="integer class labels"):
        task(batch, y.float())


# --------------------------------------------------------------------------- the CLI
TINY = {
    "dataset": {"name": "mfeat", "max_samples": 240},
    "modalities": ["fou", "kar"],
    "split": {"validation": 0.2, "test": 0.25, "seed": 0},
    "encoders": {m: {"output_dim": 8, "options": {"hidden_dims": [16]}} for m in ("fou", "kar")},
    "fusion": {"name": "late", "output_dim": 8},
    "objective": {"name": "factorcl_sup",
                  "options": {"modalities": ["fou", "kar"], "feat_dim": 8, "hidden": [16],
                              "supervised_weight": 1.0}},
    "trainer": {"epochs": 3, "batch_size": 32, "lr": 0.01, "seeds": [0]},
}


def _train(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", *args, "--no-progress"])
    return code, out.getvalue() + err.getvalue()


def test_train_from_yaml_writes_checkpoint_and_result_and_resumes(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(TINY))
    run_dir = tmp_path / "run"
    assert _train(str(config), "--out", str(run_dir))[0] == 0
    result = json.loads((run_dir / "result.json").read_text())
    record = result["runs"]["model"]["per_seed"][0]
    assert {"test_nce_shared", "test_club_unique", "test_supervised",
            "test_accuracy"} <= set(record["metrics"])
    assert all("train_auxiliary_loss" in row for row in record["history"])
    state, _ = load_checkpoint(run_dir / "seed-0" / "model" / "final")
    assert any(k.startswith("objective.factorcl.club_unique") for k in state["task"])

    (run_dir / "result.json").unlink()
    for suffix in (".pt", ".json"):
        (run_dir / "seed-0" / "model" / f"final{suffix}").unlink()
    assert _train(str(config), "--out", str(run_dir), "--resume")[0] == 0
    again = json.loads((run_dir / "result.json").read_text())["runs"]["model"]["per_seed"][0]
    assert again["resumed_from_epoch"] == 3
    assert again["metrics"] == record["metrics"]

    # evaluate scores FactorCL's factors, read from the checkpoint's trained heads
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["evaluate", str(run_dir), "--noise-levels", "0,1", "--no-progress"]) == 0
    reps = json.loads((run_dir / "evaluation.json").read_text())["representations"]
    assert reps["objective"] == "factorcl_sup"
    assert reps["widths"] == {"fou:shared": 8, "fou:unique": 8, "kar:shared": 8,
                              "kar:unique": 8}
    assert len(reps["pairs"]) == 6 and set(reps["probe"]) == {*reps["widths"], "all"}


def test_bad_objective_options_in_yaml_exit_2_and_write_nothing(tmp_path):
    bad = {**TINY, "objective": {"name": "factorcl_sup",
                                 "options": {"modalities": ["fou", "zer"]}}}
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(bad))
    code, printed = _train(str(config), "--out", str(tmp_path / "run"))
    assert code == 2
    assert "objective" in printed and "'zer'" in printed
    assert not (tmp_path / "run").exists()


def test_the_example_config_validates():
    from pathlib import Path

    from interplay.training.config import load_config

    path = Path(__file__).resolve().parents[2] / "examples" / "configs" / "mfeat_factorcl.yaml"
    cfg = load_config(path)
    assert cfg.objective is not None and cfg.objective.name == "factorcl_sup"


def test_a_batch_where_every_label_occurs_once_has_zero_conditional_terms():
    seed_everything(0)
    obj = FactorCLSupObjective(["a", "b"], feat_dim=4, hidden=[8])
    task = Task(_model(), objective=obj)
    batch, _ = _data(2, 0)
    terms = obj(task.model(batch), batch, torch.tensor([0, 1]))
    assert terms["club_shared_given_y"].item() == 0.0
    assert terms["nce_unique_given_y"].item() == 0.0
    assert all(torch.isfinite(v) for v in terms.values())
    assert torch.isfinite(obj.auxiliary_loss(task.model(batch), batch, torch.tensor([0, 1])))


def test_an_auxiliary_optimiser_is_refused_under_ddp(monkeypatch):
    from interplay.training import trainer as trainer_module
    from interplay.training.distributed import DistContext

    monkeypatch.setattr(trainer_module, "setup_distributed",
                        lambda device: DistContext(world_size=2, rank=0, local_rank=0))
    task = Task(_model(), objective=FactorCLSupObjective(["a", "b"], feat_dim=4, hidden=[8]))
    with pytest.raises(InvalidInputError, match="auxiliary parameters with their own optimiser"):
        Trainer(max_epochs=1, batch_size=16, progress=False).fit(task, _data(32, 0))


@pytest.mark.slow
def test_the_example_config_trains_and_its_embeddings_are_evaluated(tmp_path):
    from pathlib import Path

    config = Path(__file__).resolve().parents[2] / "examples" / "configs" / "mfeat_factorcl.yaml"
    assert _train(str(config), "--out", str(tmp_path / "run"))[0] == 0
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["runs"]["model"]["summary"]["mean"]["test_accuracy"] > 0.93
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["evaluate", str(tmp_path / "run"), "--no-progress"]) == 0
    reps = json.loads((tmp_path / "run" / "evaluation.json").read_text())["representations"]
    assert reps["objective"] == "factorcl_sup" and reps["probe"]["all"]["mean"] > 0.93
