"""The auxiliary_targets objective: per-modality heads on extra targets, through Task,
Trainer (checkpoint and exact resume) and the config path (``run_training``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay.data import MultimodalDataset, save_dataset
from interplay.exceptions import InvalidInputError
from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head
from interplay.training import (
    AuxiliaryTargetsObjective,
    MultimodalTensorDataset,
    Task,
    Trainer,
    config_from_dict,
    run_training,
    seed_everything,
)
from interplay.training.objective import create_objective, list_objectives
from interplay.training.run import prepare_data

K = 4  # classes of each modality's own label


def digit_pair(n: int, seed: int, noise: float = 0.3):
    """Each modality shows one of K classes (a noisy one-hot code, in its own random basis);
    the target is the parity of the sum of the two classes: pure synergy."""
    rng = np.random.default_rng(seed)
    da, db = rng.integers(0, K, n), rng.integers(0, K, n)
    basis = np.random.default_rng(99)
    proj_a, proj_b = basis.standard_normal((K, 6)), basis.standard_normal((K, 5))
    a = np.eye(K)[da] @ proj_a + noise * rng.standard_normal((n, 6))
    b = np.eye(K)[db] @ proj_b + noise * rng.standard_normal((n, 5))
    return a, b, (da + db) % 2, da, db


def tensors(n: int, seed: int):
    a, b, y, da, db = digit_pair(n, seed)
    f = torch.float32
    return ({"a": torch.as_tensor(a, dtype=f), "b": torch.as_tensor(b, dtype=f)},
            {"target": torch.as_tensor(y), "da": torch.as_tensor(da),
             "db": torch.as_tensor(db)})


def model(fusion: str = "tensor") -> MultimodalModel:
    return MultimodalModel(
        {"a": create_encoder("vector", 6, 8, hidden_dims=(16,)),
         "b": create_encoder("vector", 5, 8, hidden_dims=(16,))},
        create_fusion(fusion, {"a": 8, "b": 8}, 16), create_head("classification", 16, 2))


def objective(**options):
    return AuxiliaryTargetsObjective({"a": "da", "b": "db"}, classes={"da": K, "db": K},
                                     **options)


def test_registered_with_its_description():
    assert "auxiliary_targets" in list_objectives()
    made = create_objective("auxiliary_targets", targets={"a": "da"}, warmup_epochs=2)
    assert made.extra_targets == ("da",) and made.warmup_epochs == 2


def test_heads_receive_gradient_and_warm_up_silences_the_main_loss():
    torch.manual_seed(0)
    inputs, target = tensors(32, 0)
    task = Task(model(), objective=objective(warmup_epochs=1))
    aux_heads = list(task.objective.heads.parameters())
    main_head = list(task.model.head.parameters())

    def grads(epoch: int) -> tuple[float, float]:
        task.train()
        task.on_epoch_start(epoch)
        task.zero_grad(set_to_none=True)
        out = task(inputs, target)
        out["loss"].backward()
        norm = [sum(float(p.grad.abs().sum()) if p.grad is not None else 0.0 for p in ps)
                for ps in (aux_heads, main_head)]
        return norm[0], norm[1]

    aux, main = grads(0)  # warm-up: only the auxiliary heads (and encoders) learn
    assert aux > 0 and main == 0
    aux, main = grads(1)
    assert aux > 0 and main > 0
    # the loss reported outside training always weighs the main loss in
    task.eval()
    task.on_epoch_start(0)
    with torch.no_grad():
        out = task(inputs, target)
    assert torch.isclose(out["loss"], out["main"] + out["aux_a"] + out["aux_b"])


def test_metrics_read_the_main_target_of_a_dict_target():
    inputs, target = tensors(16, 1)
    task = Task(model(), objective=objective())
    task.eval()
    with torch.no_grad():
        out = task(inputs, target)
    logits = task.model(inputs).logits
    expected = (logits.argmax(-1) == target["target"]).double().mean()
    assert torch.isclose(out["accuracy"], expected)
    assert set(out) == {"loss", "main", "aux_a", "aux_b", "accuracy"}


@pytest.mark.parametrize(("make", "message"), [
    (lambda: AuxiliaryTargetsObjective({}), "non-empty dict"),
    (lambda: AuxiliaryTargetsObjective({"a": "target"}), "other than 'target'"),
    (lambda: AuxiliaryTargetsObjective({"a": "da"}, weight=-1.0), "`weight`"),
    (lambda: AuxiliaryTargetsObjective({"a": "da"}, classes={"da": 1}), r"classes\['da'\]"),
    (lambda: Task(model(), objective=AuxiliaryTargetsObjective({"a": "da"})),
     "number of classes of \\['da'\\]"),
    (lambda: Task(model(), objective=AuxiliaryTargetsObjective({"c": "da"},
                                                               classes={"da": 3})),
     "modalities \\['c'\\] that the model does not encode"),
])
def test_bad_options_are_named(make, message):
    with pytest.raises(InvalidInputError, match=message):
        make()


def test_a_batch_without_the_extra_targets_is_refused():
    inputs, target = tensors(8, 2)
    task = Task(model(), objective=objective())
    with pytest.raises(InvalidInputError, match="needs each batch's target as a dict"):
        task(inputs, target["target"])
    with pytest.raises(InvalidInputError, match=r"extra targets \['db'\]"):
        task(inputs, {"target": target["target"], "da": target["da"]})


def test_dataset_of_dict_targets_checks_rows():
    inputs, target = tensors(8, 3)
    ds = MultimodalTensorDataset(inputs, target)
    batch_inputs, batch_target = ds.__getitems__([1, 5])
    assert torch.equal(batch_target["da"], target["da"][[1, 5]])
    with pytest.raises(InvalidInputError, match="different numbers of samples"):
        MultimodalTensorDataset(inputs, {**target, "db": target["db"][:4]})


def test_trains_the_fused_parity_and_each_modality_head():
    train, val = tensors(400, 4), tensors(200, 5)
    seed_everything(0)
    task = Task(model(), objective=objective(warmup_epochs=5))
    trainer = Trainer(max_epochs=40, lr=3e-3, batch_size=32, progress=False)
    trainer.fit(task, train)
    assert trainer.evaluate(task, val)["accuracy"] > 0.9
    task.eval()
    with torch.no_grad():
        heads = task.objective.auxiliary_logits(task.model(val[0]))
    for m, name in (("a", "da"), ("b", "db")):
        assert (heads[m].argmax(-1) == val[1][name]).double().mean() > 0.9


def test_checkpoint_resume_is_exact_across_the_warm_up(tmp_path):
    train, val = tensors(96, 6), tensors(32, 7)
    settings = {"batch_size": 32, "lr": 1e-2, "progress": False, "seed": 3}

    seed_everything(1)
    ref = Task(model(), objective=objective(warmup_epochs=2))
    ref_result = Trainer(max_epochs=4, **settings).fit(ref, train, val)

    seed_everything(1)
    Trainer(max_epochs=2, checkpoint_dir=tmp_path, **settings).fit(
        Task(model(), objective=objective(warmup_epochs=2)), train, val)
    seed_everything(5)  # a fresh process: other initial weights
    resumed = Task(model(), objective=objective(warmup_epochs=2))
    result = Trainer(max_epochs=4, checkpoint_dir=tmp_path, **settings).fit(
        resumed, train, val, resume=True)

    assert result.resumed_from_epoch == 2
    assert [r["val_loss"] for r in result.history] == [r["val_loss"]
                                                       for r in ref_result.history]
    for (name, a), (_, b) in zip(ref.state_dict().items(), resumed.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name
    assert any(k.startswith("objective.heads.") for k in resumed.state_dict())


# ------------------------------------------------------------------------ the config path
@pytest.fixture
def data_file(tmp_path):
    a, b, y, da, db = digit_pair(400, 8)
    return save_dataset(MultimodalDataset({"a": a, "b": b},
                                          targets={"parity": y, "da": da, "db": db}),
                        tmp_path / "pairs.npz")


def config(path, **objective_options):
    return {
        "dataset": {"path": str(path)}, "modalities": ["a", "b"], "target": "parity",
        "encoders": {"a": {"output_dim": 8, "options": {"hidden_dims": [16]}},
                     "b": {"output_dim": 8, "options": {"hidden_dims": [16]}}},
        "fusion": {"name": "tensor", "output_dim": 16},
        "trainer": {"epochs": 40, "lr": 0.003, "batch_size": 32, "patience": None},
        "objective": {"name": "auxiliary_targets",
                      "options": {"targets": {"a": "da", "b": "db"}, **objective_options}},
    }


def test_config_path_loads_extra_targets_on_the_same_split(data_file):
    data = prepare_data(config_from_dict(config(data_file)))
    assert data.extra_classes == {"da": K, "db": K}
    inputs, target = data.with_extra_targets("test")
    assert torch.equal(target["target"], data.test[1])
    assert torch.equal((target["da"] + target["db"]) % 2, target["target"])
    assert data.info["extra_targets"] == {"da": list(range(K)), "db": list(range(K))}


def test_config_path_names_an_unknown_extra_target(data_file):
    cfg = config_from_dict(config(data_file, targets={"a": "da", "b": "digit_b"}))
    with pytest.raises(InvalidInputError,
                       match="objective: extra target: 'digit_b' not in the dataset, whose "
                             "targets are 'parity', 'da', 'db'"):
        prepare_data(cfg)


def test_config_path_names_an_unknown_modality(data_file, tmp_path):
    cfg = config_from_dict(config(data_file, targets={"a": "da", "c": "db"}))
    with pytest.raises(InvalidInputError, match="objective: .*modalities \\['c'\\]"):
        run_training(cfg, output_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_config_path_trains_and_learns_parity(data_file, tmp_path):
    from interplay.analysis.evaluation import load_run

    cfg = config_from_dict({**config(data_file, warmup_epochs=5),
                            "baselines": {"unimodal": True}})
    result = run_training(cfg, output_dir=tmp_path / "run", progress=False)
    record = result["runs"]["model"]["per_seed"][0]
    assert record["metrics"]["test_accuracy"] > 0.85
    assert "val_aux_a" in record["history"][0] and "train_main" in record["history"][0]
    # the unimodal baselines train on the label alone: no modality tells the parity
    assert result["runs"]["ensemble"]["per_seed"][0]["metrics"]["test_accuracy"] < 0.7
    # the run reads back: the model without the auxiliary heads, its test accuracy as recorded
    run = load_run(tmp_path / "run")
    inputs, y = run.data.test
    with torch.no_grad():
        hits = (run.load_model(0)(inputs).logits.argmax(-1) == y).double().mean()
    assert float(hits) == pytest.approx(record["metrics"]["test_accuracy"])


def test_the_example_config_asks_for_the_recipe():
    from pathlib import Path

    from interplay.training import load_config

    path = Path(__file__).resolve().parents[2] / "examples" / "configs" / "av_digits_synergy.yaml"
    cfg = load_config(path)
    made = create_objective(cfg.objective.name, **cfg.objective.options)
    assert made.extra_targets == ("image_digit", "audio_digit") and made.warmup_epochs == 20
