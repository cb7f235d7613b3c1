"""PID of a model's predictions and its agreement with the data's PID."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay import InvalidInputError, make_gate, quantify
from interplay.analysis import model_pid, pid_agreement


@pytest.mark.parametrize("method", ["broja", "mmi"])
def test_perfect_xor_model_is_pure_synergy(method):
    d = make_gate("xor", 4000, random_state=1)
    r = model_pid(d.x1, d.x2, d.x1 ^ d.x2, method=method)
    assert r.synergy == pytest.approx(1.0, abs=0.01)
    assert max(r.redundancy, r.unique1, r.unique2) < 0.01


def test_logits_are_argmaxed_and_match_the_and_truth():
    d = make_gate("and", 8000, random_state=2)
    pred = np.minimum(d.x1, d.x2)
    logits = torch.tensor(np.stack([1.0 - pred, pred], axis=1))
    r = model_pid(d.x1, d.x2, logits)
    assert r.redundancy == pytest.approx(d.truth["redundancy"], abs=0.02)
    assert r.synergy == pytest.approx(d.truth["synergy"], abs=0.02)


def test_model_that_copies_one_modality_has_only_its_unique_information():
    d = make_gate("xor", 4000, random_state=3)
    r = model_pid(d.x1, d.x2, d.x1)
    assert r.unique1 == pytest.approx(1.0, abs=0.01)
    assert r.synergy + r.redundancy + r.unique2 < 0.01


def test_constant_model_has_zero_pid():
    d = make_gate("xor", 100, random_state=0)
    r = model_pid(d.x1, d.x2, np.zeros(100, dtype=int))
    assert r.atoms == {"redundancy": 0.0, "unique1": 0.0, "unique2": 0.0, "synergy": 0.0}
    assert r.n_samples == 100 and r.warnings
    with pytest.raises(InvalidInputError, match="same number of samples"):
        model_pid(d.x1, d.x2[:50], np.zeros(100, dtype=int))


def test_pid_agreement_closed_form():
    data = {"redundancy": 1.0, "unique1": 0.0, "unique2": 1.0, "synergy": 2.0}
    model = {"redundancy": 0.4, "unique1": 0.3, "unique2": 0.2, "synergy": 0.1}
    assert pid_agreement(data, model) == pytest.approx(0.25 * 0.4 + 0.25 * 0.2 + 0.5 * 0.1)


def test_pid_agreement_rewards_the_right_interaction():
    d = make_gate("xor", 4000, random_state=4)
    data = quantify(d.x1, d.x2, d.y, progress=False)
    good = model_pid(d.x1, d.x2, d.x1 ^ d.x2)
    copy = model_pid(d.x1, d.x2, d.x1)
    assert pid_agreement(data, good) == pytest.approx(1.0, abs=0.02)
    assert pid_agreement(data, copy) == pytest.approx(0.0, abs=0.02)


def test_pid_agreement_bad_arguments():
    ok = {"redundancy": 1.0, "unique1": 0.0, "unique2": 0.0, "synergy": 0.0}
    zero = dict.fromkeys(ok, 0.0)
    with pytest.raises(InvalidInputError, match="sum to 0"):
        pid_agreement(zero, ok)
    with pytest.raises(InvalidInputError, match="non-negative"):
        pid_agreement({**ok, "synergy": -0.5}, ok)
    with pytest.raises(InvalidInputError, match="model_pid"):
        pid_agreement(ok, {"redundancy": 1.0})
    d = make_gate("xor", 500, random_state=0)
    bits = quantify(d.x1, d.x2, d.y, progress=False)
    nats = quantify(d.x1, d.x2, d.y, base="e", progress=False)
    with pytest.raises(InvalidInputError, match="units"):
        pid_agreement(bits, nats)
    with pytest.raises(InvalidInputError, match="predictions"):
        model_pid(d.x1, d.x2, np.zeros((500, 1)))
