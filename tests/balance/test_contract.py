"""The balancer contract, over the whole registry: each changes what it claims, leaves a
model without a balancer untouched, survives an interrupted run, and refuses what it cannot do."""

from __future__ import annotations

import copy

import pytest
import torch

from interplay.balance import Balancer, create_balancer, list_balancers
from interplay.exceptions import InvalidInputError
from interplay.models import (
    MultimodalModel,
    UnimodalModel,
    create_encoder,
    create_fusion,
    create_head,
)
from interplay.training import Task, Trainer, config_from_dict, seed_everything
from interplay.training.run import make_task

NAMES = sorted(list_balancers())


def _model(seed: int = 0, task: str = "classification") -> MultimodalModel:
    torch.manual_seed(seed)
    enc = {"a": create_encoder("vector", 3, 6, hidden_dims=(8,)),
           "b": create_encoder("vector", 2, 6, hidden_dims=(8,))}
    n_out = 3 if task == "classification" else 1
    return MultimodalModel(enc, create_fusion("late", {"a": 6, "b": 6}, 8),
                           create_head(task, 8, n_out))


def _data(n: int, seed: int):
    """Modality a decides the class almost alone; b helps a little."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 3, generator=g), torch.randn(n, 2, generator=g)
    y = (a[:, 0] > 0.4).long() + (a[:, 0] > -0.4).long()
    y = torch.where(b[:, 0] > 1.5, torch.zeros_like(y), y)
    return {"a": a, "b": b}, y


def _steps(task: Task, n_steps: int = 2) -> tuple[list[float], list[dict[str, torch.Tensor]]]:
    """Losses and encoder gradients (after every hook) of a few SGD steps on fixed batches."""
    torch.manual_seed(5)
    opt = torch.optim.SGD(task.parameters(), lr=0.1)
    task.train()
    losses, grads = [], []
    for i in range(n_steps):
        x, y = _data(32, 10 + i)
        opt.zero_grad(set_to_none=True)
        out = task(x, y)
        task.backward(out)
        task.after_backward()
        task.before_optimizer_step()
        losses.append(float(out["loss"].detach()))
        grads.append({n: p.grad.clone() for n, p in task.model.encoders.named_parameters()})
        opt.step()
    return losses, grads


@pytest.mark.parametrize("name", NAMES)
def test_each_balancer_changes_what_it_claims(name):
    balancer = create_balancer(name)
    assert balancer.acts_on and balancer.acts_on <= {"batch", "loss", "gradients"}
    plain_losses, plain_grads = _steps(Task(_model()))
    losses, grads = _steps(Task(_model(), balancer=balancer))
    if "loss" in balancer.acts_on:
        assert losses[0] != pytest.approx(plain_losses[0], rel=1e-6)
    if "batch" in balancer.acts_on:
        seen = []
        model = _model()
        model.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(kwargs.get("mask")),
                                        with_kwargs=True)
        _steps(Task(model, balancer=create_balancer(name)), 1)
        assert seen[0] is not None and not bool(seen[0].all())
    # whatever it acts on, the encoders' update differs from plain training by the 2nd step
    assert any(not torch.allclose(grads[1][k], plain_grads[1][k]) for k in grads[1])


@pytest.mark.parametrize("name", NAMES)
def test_a_balancer_leaves_the_model_itself_alone(name):
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    task = Task(model, balancer=create_balancer(name))
    assert model.state_dict().keys() == before.keys()
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    own = {id(p) for p in model.parameters()}
    assert all(id(p) not in own for p in task.balancer.parameters())


def test_without_a_balancer_training_is_the_plain_loop():
    model, twin = _model(), _model()
    _steps(Task(model), 3)
    torch.manual_seed(5)
    opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    for i in range(3):
        x, y = _data(32, 10 + i)
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(twin(x).logits, y).backward()
        opt.step()
    for a, b in zip(model.state_dict().values(), twin.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_an_interrupted_run_resumes_exactly(name, tmp_path):
    train, val = _data(96, 1), _data(48, 2)
    settings = {"batch_size": 32, "lr": 0.01, "progress": False, "patience": None}

    seed_everything(3)
    ref_task = Task(_model(), balancer=create_balancer(name))
    ref = Trainer(max_epochs=4, **settings).fit(ref_task, train, val)

    seed_everything(3)
    first = Task(_model(), balancer=create_balancer(name))
    Trainer(max_epochs=2, checkpoint_dir=tmp_path, **settings).fit(first, train, val)
    seed_everything(99)  # a new process: other weights, another RNG position
    resumed_task = Task(_model(seed=7), balancer=create_balancer(name))
    resumed = Trainer(max_epochs=4, checkpoint_dir=tmp_path, **settings).fit(
        resumed_task, train, val, resume=True)

    assert resumed.resumed_from_epoch == 2
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in ref.history]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in resumed.history] == strip
    for (k, a), b in zip(ref_task.state_dict().items(), resumed_task.state_dict().values(),
                         strict=True):
        assert torch.equal(a, b), k


@pytest.mark.parametrize("name", NAMES)
def test_a_balancer_that_needs_two_modalities_refuses_one(name):
    uni = UnimodalModel("a", create_encoder("vector", 3, 6), create_head("classification", 6, 3))
    with pytest.raises(InvalidInputError, match="at least 2 modalities"):
        Task(uni, balancer=create_balancer(name))


@pytest.mark.parametrize("name", ["ogm_ge", "agm", "mcr"])
def test_classification_only_balancers_refuse_regression(name):
    with pytest.raises(InvalidInputError, match="classification model"):
        Task(_model(task="regression"), loss="mse", balancer=create_balancer(name))


def test_unknown_balancer_and_bad_options():
    with pytest.raises(InvalidInputError, match="`balancer` must be one of 'agm'"):
        create_balancer("ogm")
    with pytest.raises(InvalidInputError, match=r"got unknown option\(s\) \['beta'\]"):
        create_balancer("ogm_ge", beta=1)
    with pytest.raises(InvalidInputError, match="`game` must be one of"):
        create_balancer("mcr", game="selfish")
    with pytest.raises(InvalidInputError, match="`alpha` must be >= 0"):
        create_balancer("agm", alpha=-1)


@pytest.mark.parametrize("name", NAMES)
def test_every_balancer_is_reachable_from_a_config(name):
    cfg = config_from_dict({"dataset": {"name": "mfeat"}, "balance": {"name": name}})
    task = make_task(cfg, _model())
    assert isinstance(task.balancer, Balancer) and task.balancer.name == name
    assert copy.deepcopy(cfg.balance.options) == {}
