"""Robustness sweeps, robustness summaries and cross-modal consistency."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interplay import InvalidInputError, make_gate
from interplay.analysis import (
    cross_modal_consistency,
    effective_robustness,
    relative_robustness,
    robustness_auc,
    robustness_sweep,
)
from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head


def _xor_fn(inputs, mask):
    """Hand-made XOR predictor: rounds each input; a missing input reads as 0."""
    a = np.rint(np.asarray(inputs["a"], dtype=float)).astype(int)
    b = np.rint(np.asarray(inputs["b"], dtype=float)).astype(int)
    return (a ^ b) & 1


@pytest.fixture(scope="module")
def xor_data():
    d = make_gate("xor", 4000, random_state=0)
    return {"a": d.x1, "b": d.x2}, d.y


def test_clean_drop_and_noise_of_hand_made_xor(xor_data):
    inputs, y = xor_data
    r = robustness_sweep(_xor_fn, inputs, y, noise_levels=(0, 0.5, 2), random_state=0)
    assert r.clean == 1.0
    assert r.chance == pytest.approx(0.5, abs=0.02)
    for m in ("a", "b"):
        # XOR needs both inputs: without one, the prediction is the other input, right half the time
        assert r.dropped[m] == pytest.approx(0.5, abs=0.03)
        assert r.noisy[m][0] == r.clean  # level 0 is the clean evaluation
        # sigma = 0.5 for a fair bit; noise 0.25 (level 0.5) flips a bit w.p. P(|z|>2) = 0.0455
        assert r.noisy[m][1] == pytest.approx(1 - 0.0455, abs=0.015)
        # level 2: noise sd 1, flip prob P(|z| > 0.5) = 0.617... per reading (symmetric in 0/1)
        assert r.noisy[m][2] < r.noisy[m][1]


def test_mask_columns_follow_mask_order_and_drop_zeroes_input(xor_data):
    inputs, y = xor_data
    seen = []

    def fn(batch, mask):
        seen.append((mask.copy(), {k: np.asarray(v).copy() for k, v in batch.items()}))
        return _xor_fn(batch, mask)

    robustness_sweep(fn, inputs, y, noise_levels=(0,), modalities=["a"], mask_order=["b", "a"])
    (clean_mask, _), (drop_mask, drop_batch) = seen
    assert clean_mask.shape == (4000, 2) and clean_mask.all()
    assert not drop_mask[:, 1].any() and drop_mask[:, 0].all()
    assert not drop_batch["a"].any()
    np.testing.assert_array_equal(drop_batch["b"], inputs["b"])


def test_repeats_and_seed_make_noise_reproducible(xor_data):
    inputs, y = xor_data
    kw = dict(noise_levels=(0, 1), n_repeats=3, random_state=5)
    r1 = robustness_sweep(_xor_fn, inputs, y, **kw)
    r2 = robustness_sweep(_xor_fn, inputs, y, **kw)
    assert r1.noisy == r2.noisy
    assert r1.noisy_std["a"][0] == 0.0 and r1.noisy_std["a"][1] > 0.0
    back = json.loads(r1.to_json())
    assert back["noisy"]["b"] == r1.noisy["b"] and back["noise_levels"] == [0.0, 1.0]
    np.testing.assert_array_equal(r1.curve("a"), np.asarray(r1.noisy["a"]))


def test_custom_metric_and_logits(xor_data):
    inputs, y = xor_data

    def logits(batch, mask):
        p = _xor_fn(batch, mask)
        return np.stack([1 - p, p], axis=1).astype(float)

    def error_free(t, pred):
        return float(np.mean(pred.argmax(1) == t))

    r = robustness_sweep(logits, inputs, y, noise_levels=(0,), metric=error_free)
    assert r.metric == "error_free" and r.clean == 1.0 and r.chance is None


def _train_gate_model(gate: str, seed: int = 0):
    d = make_gate(gate, 2000, random_state=seed)
    x = {
        "a": torch.tensor(d.x1, dtype=torch.float32)[:, None],
        "b": torch.tensor(d.x2, dtype=torch.float32)[:, None],
    }
    y = torch.tensor(d.y)
    torch.manual_seed(seed)
    model = MultimodalModel(
        {"a": create_encoder("vector", 1, 8), "b": create_encoder("vector", 1, 8)},
        create_fusion("tensor", {"a": 8, "b": 8}, 16),
        create_head("classification", 16, 2),
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x).logits, y).backward()
        opt.step()
    return model.eval(), x, y


@pytest.mark.parametrize("gate", ["xor", "and"])
def test_trained_model_drops_to_chance_without_a_needed_modality(gate):
    model, x, y = _train_gate_model(gate)
    r = robustness_sweep(
        model, x, y, noise_levels=(0, 1), mask_order=model.modalities, random_state=0
    )
    assert r.clean == 1.0
    assert r.noisy["a"][0] == r.clean
    for m in ("a", "b"):
        # the target needs both inputs: the best single-input guess is the majority class
        assert r.dropped[m] <= r.chance + 0.03
        assert r.noisy[m][1] < r.clean


def test_robustness_summaries_closed_form():
    f, b = [1.0, 0.8, 0.6], [0.9, 0.5, 0.1]
    assert robustness_auc(f) == pytest.approx(0.8)
    assert relative_robustness(f, b) == pytest.approx(0.8 / 0.5)
    # (f - f0) area -0.2, (b - b0) area -0.4
    assert effective_robustness(f, b) == pytest.approx(0.2)
    # unequal spacing: levels 0, 1, 3 -> area = (0.9 * 1 + 0.7 * 2) / 3
    assert robustness_auc(f, [0, 1, 3]) == pytest.approx((0.9 + 1.4) / 3)
    assert effective_robustness(f, b, [0, 1, 3]) == pytest.approx((-0.1 - 0.6 + 0.2 + 1.2) / 3)
    # a curve that loses exactly as much as the baseline has no effective robustness
    assert effective_robustness([0.7, 0.6, 0.2], [0.9, 0.8, 0.4]) == pytest.approx(0.0)
    assert relative_robustness(b, b) == pytest.approx(1.0)


def test_cross_modal_consistency(xor_data):
    inputs, _ = xor_data
    both = cross_modal_consistency(_xor_fn, inputs)
    # only a -> prediction a, only b -> prediction b: they agree when a == b
    assert both[("a", "b")] == pytest.approx(np.mean(inputs["a"] == inputs["b"]))
    same = {"a": inputs["a"], "b": inputs["a"]}
    assert cross_modal_consistency(_xor_fn, same, ["b", "a"]) == {("b", "a"): 1.0}


def test_torch_inputs_get_a_torch_mask(xor_data):
    inputs, y = xor_data
    t = {k: torch.tensor(v) for k, v in inputs.items()}
    masks = []

    def fn(batch, mask):
        masks.append(mask)
        return _xor_fn({k: v.numpy() for k, v in batch.items()}, mask)

    r = robustness_sweep(fn, t, torch.tensor(y), noise_levels=(0, 1), random_state=0)
    assert all(isinstance(m, torch.Tensor) and m.dtype == torch.bool for m in masks)
    assert r.clean == 1.0 and r.noisy["a"][1] < 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(noise_levels=(0, -1)), "noise_levels"),
        (dict(noise_levels=(1, 0.5)), "noise_levels"),
        (dict(noise_levels=()), "noise_levels"),
        (dict(modalities=["c"]), "modalities"),
        (dict(metric="f1"), "metric"),
        (dict(n_repeats=0), "n_repeats"),
        (dict(mask_order=["a"]), "mask_order"),
    ],
)
def test_bad_sweep_arguments(xor_data, kwargs, match):
    inputs, y = xor_data
    with pytest.raises(InvalidInputError, match=match):
        robustness_sweep(_xor_fn, inputs, y, **kwargs)


def test_bad_inputs_and_predictions(xor_data):
    inputs, y = xor_data
    with pytest.raises(InvalidInputError, match="target"):
        robustness_sweep(_xor_fn, inputs, y[:10])
    with pytest.raises(InvalidInputError, match="same number of samples"):
        robustness_sweep(_xor_fn, {"a": inputs["a"], "b": inputs["b"][:5]}, y)
    with pytest.raises(InvalidInputError, match="inputs"):
        robustness_sweep(_xor_fn, [inputs["a"]], y)
    with pytest.raises(InvalidInputError, match="predict_fn"):
        robustness_sweep(lambda b, m: np.zeros(3), inputs, y)
    with pytest.raises(InvalidInputError, match="predict_fn"):
        robustness_sweep("model", inputs, y)
    with pytest.raises(InvalidInputError, match="at least two"):
        cross_modal_consistency(_xor_fn, inputs, ["a"])


def test_bad_curves():
    with pytest.raises(InvalidInputError, match="same noise levels"):
        effective_robustness([1, 0.5], [1, 0.5, 0.2])
    with pytest.raises(InvalidInputError, match="positive area"):
        relative_robustness([1, 0.5], [0, 0])
    with pytest.raises(InvalidInputError, match="one level per point"):
        robustness_auc([1, 0.5], [0, 1, 2])
    with pytest.raises(InvalidInputError, match="at least two"):
        robustness_auc([1.0])
