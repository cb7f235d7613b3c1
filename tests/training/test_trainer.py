import json

import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.training import Task, Trainer, TrainResult, seed_everything, summarize_seeds

FAST = {"batch_size": 16, "progress": False}


def _params(module):
    return [p.detach().clone() for p in module.state_dict().values()]


def _history_without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def _additive(n, seed):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 3, generator=g), torch.randn(n, 2, generator=g)
    return {"a": a, "b": b}, (a[:, 0] + b[:, 0] > 0).long()


def test_learns_and_reports_history(net_cls):
    train, val = _additive(96, 1), _additive(32, 2)
    seed_everything(0)
    task = Task(net_cls(dropout=0.0))
    result = Trainer(max_epochs=10, lr=0.05, **FAST).fit(task, train, val)
    assert isinstance(result, TrainResult)
    assert result.epochs_completed == 10 and len(result.history) == 10
    assert set(result.history[0]) == {"epoch", "train_loss", "train_accuracy", "val_loss",
                                      "val_accuracy", "lr", "seconds"}
    assert result.history[-1]["train_loss"] < 0.2 * result.history[0]["train_loss"]
    assert result.metrics["val_accuracy"] > 0.9
    assert result.metrics["val_loss"] == min(row["val_loss"] for row in result.history)
    json.loads(result.to_json())


def test_epoch_metrics_are_sample_means_over_the_whole_set(net_cls, xor_data):
    # 96 training samples in batches of 36: uneven last batch; evaluate() must equal one big batch
    (train, val) = xor_data
    seed_everything(0)
    task = Task(net_cls())
    trainer = Trainer(max_epochs=1, batch_size=36, progress=False)
    trainer.fit(task, train)
    metrics = trainer.evaluate(task, train)
    task.eval()
    with torch.no_grad():
        whole = task(*train)
    assert metrics["loss"] == pytest.approx(whole["loss"].item(), rel=1e-6)
    assert metrics["accuracy"] == pytest.approx(whole["accuracy"].item(), rel=1e-12)


RESUME_SETTINGS = [
    dict(max_epochs=6, lr=0.01, scheduler="cosine", restore_best=False, optimizer="adamw",
         weight_decay=0.01),
    # stops early in epoch 5, after the resume: the patience counter survives the interruption
    dict(max_epochs=6, lr=0.05, optimizer="sgd", momentum=0.9, patience=4,
         monitor="val_accuracy", restore_best=True),
]


@pytest.mark.parametrize("settings", RESUME_SETTINGS)
def test_resume_after_interruption_equals_uninterrupted_run(settings, net_cls, xor_data,
                                                            tmp_path):
    (train, val) = xor_data
    settings = {**settings, **FAST}

    seed_everything(7)
    ref_task = Task(net_cls(dropout=0.3))
    ref = Trainer(**settings).fit(ref_task, train, val)

    # Same run, crashing in the middle of epoch 4 (6 train + 2 val forward passes per epoch).
    seed_everything(7)
    crashing = net_cls(dropout=0.3, fail_at=3 * 8 + 3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        Trainer(checkpoint_dir=tmp_path, **settings).fit(Task(crashing), train, val)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-0003.json", "epoch-0003.pt"]

    # A new process would rebuild the model from scratch, with other initial weights and RNG.
    seed_everything(12345)
    resumed_task = Task(net_cls(dropout=0.3))
    torch.rand(17)
    resumed = Trainer(checkpoint_dir=tmp_path, **settings).fit(
        resumed_task, train, val, resume=True)

    assert resumed.resumed_from_epoch == 3
    assert resumed.stopped_early == ref.stopped_early
    assert _history_without_time(resumed.history) == _history_without_time(ref.history)
    for a, b in zip(_params(ref_task), _params(resumed_task), strict=True):
        assert torch.equal(a, b)
    assert resumed.best_epoch == ref.best_epoch and resumed.metrics == ref.metrics
    last = f"epoch-{ref.epochs_completed:04d}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{last}.json", f"{last}.pt", "final.json", "final.pt"]

    # resuming a finished run trains no further and reports the same outcome
    again_task = Task(net_cls(dropout=0.3))
    again = Trainer(checkpoint_dir=tmp_path, **settings).fit(again_task, train, val, resume=True)
    assert again.resumed_from_epoch == ref.epochs_completed and again.metrics == ref.metrics
    for a, b in zip(_params(ref_task), _params(again_task), strict=True):
        assert torch.equal(a, b)


def test_resume_refuses_changed_trajectory_settings(net_cls, xor_data, tmp_path):
    (train, _) = xor_data
    Trainer(max_epochs=1, checkpoint_dir=tmp_path, **FAST).fit(Task(net_cls()), train)
    with pytest.raises(InvalidInputError, match="lr"):
        Trainer(max_epochs=2, lr=0.5, checkpoint_dir=tmp_path, **FAST).fit(
            Task(net_cls()), train, resume=True)


def test_resume_without_checkpoint_starts_afresh(net_cls, xor_data, tmp_path):
    (train, _) = xor_data
    result = Trainer(max_epochs=2, checkpoint_dir=tmp_path / "new", **FAST).fit(
        Task(net_cls()), train, resume=True)
    assert result.resumed_from_epoch is None and result.epochs_completed == 2


def test_early_stopping_stops_after_patience_epochs_without_improvement(net_cls, xor_data):
    (train, val) = xor_data
    # a vanishing learning rate: the validation loss cannot improve by min_delta after epoch 1
    result = Trainer(max_epochs=20, optimizer="sgd", lr=1e-12, patience=3, min_delta=1e-3,
                     **FAST).fit(Task(net_cls()), train, val)
    assert result.stopped_early
    assert result.epochs_completed == 4
    assert result.best_epoch == 1 and result.monitor == "val_loss" and result.mode == "min"


def test_restore_best_returns_the_weights_of_the_best_epoch(net_cls, xor_data):
    (train, val) = xor_data
    seed_everything(3)
    task = Task(net_cls(hidden=64, dropout=0.0))
    trainer = Trainer(max_epochs=12, lr=0.2, optimizer="sgd", momentum=0.9,
                      monitor="val_accuracy", **FAST)
    result = trainer.fit(task, train, val)
    assert result.mode == "max"
    accs = [row["val_accuracy"] for row in result.history]
    assert result.best_score == max(accs) and result.best_epoch == accs.index(max(accs)) + 1
    assert result.best_epoch < result.epochs_completed  # the check below is not trivial
    assert trainer.evaluate(task, val)["accuracy"] == result.best_score
    assert result.metrics["val_accuracy"] == result.best_score


def test_same_seed_same_model_different_seed_different_model(net_cls, xor_data):
    (train, _) = xor_data
    finals = []
    for seed in (5, 5, 6):
        seed_everything(0)
        task = Task(net_cls())
        Trainer(max_epochs=2, seed=seed, **FAST).fit(task, train)
        finals.append(_params(task))
    assert all(torch.equal(a, b) for a, b in zip(finals[0], finals[1], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(finals[0], finals[2], strict=True))


def test_progress_bars_run(net_cls, xor_data, capsys):
    (train, val) = xor_data
    Trainer(max_epochs=2, batch_size=32, progress=True).fit(Task(net_cls()), train, val)
    assert "epoch" in capsys.readouterr().err


def test_summarize_seeds_over_trainer_runs(net_cls, xor_data):
    (train, val) = xor_data
    results = []
    for seed in range(3):
        seed_everything(seed)
        results.append(Trainer(max_epochs=2, seed=seed, **FAST).fit(Task(net_cls()), train, val))
    summary = summarize_seeds(results, metrics=["val_accuracy"])
    vals = torch.tensor([r.metrics["val_accuracy"] for r in results], dtype=torch.float64)
    assert summary.n == 3
    assert summary.mean["val_accuracy"] == pytest.approx(vals.mean().item())
    assert summary.std["val_accuracy"] == pytest.approx(vals.std(unbiased=True).item())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_epochs": 0}, {"max_epochs": 2.5}, {"batch_size": 0}, {"lr": 0.0}, {"lr": -1},
        {"lr": float("nan")}, {"optimizer": "rmsprop"}, {"optimizer": 3},
        {"scheduler": "linear"}, {"scheduler": 1}, {"device": "not-a-device"}, {"seed": -1},
        {"seed": 2**40}, {"patience": 0}, {"monitor": "loss"}, {"mode": "up"},
        {"min_delta": -0.1}, {"progress": "yes"}, {"keep_checkpoints": 0},
        {"grad_clip_norm": 0}, {"restore_best": 1}, {"checkpoint_dir": 5},
    ],
)
def test_bad_trainer_arguments(kwargs):
    with pytest.raises(InvalidInputError):
        Trainer(**kwargs)


def test_cuda_device_without_cuda_is_refused():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(InvalidInputError, match="CUDA"):
        Trainer(device="cuda")


def test_bad_fit_arguments(net_cls, xor_data, tmp_path):
    (train, val) = xor_data
    trainer = Trainer(max_epochs=1, **FAST)
    task = Task(net_cls())
    with pytest.raises(InvalidInputError, match="task"):
        trainer.fit(net_cls(), train)
    with pytest.raises(InvalidInputError, match="train_data"):
        trainer.fit(task, torch.zeros(3, 2))
    with pytest.raises(InvalidInputError, match="inputs"):
        trainer.fit(task, ({"a": torch.zeros(5, 3), "b": torch.zeros(4, 2)}, torch.zeros(5)))
    with pytest.raises(InvalidInputError, match="val_data"):
        Trainer(monitor="val_accuracy", **FAST).fit(task, train)
    with pytest.raises(InvalidInputError, match="monitor"):
        Trainer(monitor="val_f1", **FAST).fit(task, train, val)
    with pytest.raises(InvalidInputError, match="checkpoint_dir"):
        trainer.fit(task, train, resume=True)
    with pytest.raises(InvalidInputError, match="optimizer"):
        Trainer(optimizer=lambda params: "sgd", **FAST).fit(task, train)


def test_custom_optimizer_and_scheduler_factories(net_cls, xor_data, tmp_path):
    (train, _) = xor_data
    trainer = Trainer(
        max_epochs=3,
        optimizer=lambda params: torch.optim.SGD(params, lr=0.1),
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        checkpoint_dir=tmp_path, **FAST)
    result = trainer.fit(Task(net_cls()), train)
    assert [row["lr"] for row in result.history] == pytest.approx([0.1, 0.05, 0.025])


class _PerSampleDataset(torch.utils.data.Dataset):
    """A map-style dataset yielding one (inputs, target) sample at a time."""

    def __init__(self, inputs, target):
        self.inputs, self.target = inputs, target

    def __len__(self):
        return len(self.target)

    def __getitem__(self, i):
        return {k: v[i] for k, v in self.inputs.items()}, self.target[i]


def test_generic_dataset_gives_the_same_training_as_in_memory_tensors(net_cls, xor_data):
    (train, val) = xor_data
    finals = []
    for wrap in (lambda d: d, lambda d: _PerSampleDataset(*d)):
        seed_everything(0)
        task = Task(net_cls(dropout=0.0))  # (a DataLoader draws from torch's RNG: other masks)
        result = Trainer(max_epochs=2, batch_size=10, progress=False).fit(
            task, wrap(train), wrap(val))
        finals.append((_params(task), _history_without_time(result.history)))
    assert finals[0][1] == finals[1][1]
    assert all(torch.equal(a, b) for a, b in zip(finals[0][0], finals[1][0], strict=True))
