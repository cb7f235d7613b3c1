"""Training on in-context Markov chains: the record, its consistency, and (slow) learning."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interplay.dynamics import MarkovConfig, train_markov
from interplay.exceptions import InvalidInputError

TINY = dict(length=16, d_model=8, batch_size=8, eval_seqs=16, eval_every=3, steps=7)


def test_record_layout_and_consistency():
    seen = []
    cfg = MarkovConfig(order=2, n_layers=2, n_heads=2, **TINY)
    result = train_markov(cfg, progress=lambda step, row: seen.append(step))
    json.dumps(result, allow_nan=False)
    assert result["kind"] == "dynamics_markov" and "interplay_version" in result
    assert result["units"] == "bits"
    assert seen == [3, 6, 7] == result["curves"]["step"]
    curves, final, refs = result["curves"], result["final"], result["references"]
    assert len(curves["induction"][0]) == 2 and len(curves["induction"][0][0]) == 2
    assert len(curves["excess_by_position"][0]) == 15  # positions 0..14 predict symbols 1..15
    assert np.asarray(curves["attention_by_offset"][-1]).shape == (2, 2, 7)  # offsets 0..2k+2
    # the record's numbers agree with one another
    assert final["loss"] - refs["kgram"] == pytest.approx(final["excess"], abs=1e-9)
    assert final["excess"] == pytest.approx(np.mean(final["excess_by_position"][1:]))
    assert final["kl"] >= 0
    assert refs["true"] < refs["unigram"] and refs["uniform"] == 1.0
    att = np.asarray(final["attention_example"])
    assert att.shape == (2, 2, 15, 15)
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-3)
    assert len(final["example_sequence"]) == 15


def test_same_seed_same_record():
    cfg = MarkovConfig(order=1, n_layers=1, **TINY)
    a, b = train_markov(cfg), train_markov(cfg)
    assert a["curves"]["loss"] == b["curves"]["loss"]
    c = train_markov(MarkovConfig(order=1, n_layers=1, **{**TINY, "seed": 1}))
    assert c["curves"]["loss"] != a["curves"]["loss"]


def test_one_thread_while_training_and_restored():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        during = []
        train_markov(MarkovConfig(order=1, n_layers=1, **{**TINY, "steps": 3}),
                     progress=lambda step, row: during.append(torch.get_num_threads()))
        assert during == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("kwargs,match", [
    (dict(order=0), "`order` must be >= 1"),
    (dict(alphabet_size=1), "`alphabet_size` must be >= 2"),
    (dict(order=3, length=3), "longer than `order`"),
    (dict(alpha=-1.0), "`alpha` must be > 0"),
    (dict(d_model=10, n_heads=3), "divisible"),
    (dict(steps=0), "`steps` must be >= 1"),
])
def test_config_bad_input(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        MarkovConfig(**kwargs)


def test_no_matching_key_gives_none_not_nan():
    # length 3 and order 2: the only query with a context has no earlier matching key
    result = train_markov(MarkovConfig(order=2, length=3, n_layers=1, d_model=8, batch_size=2,
                                       eval_seqs=4, steps=1))
    assert result["final"]["induction"] == [[None]]
    json.dumps(result, allow_nan=False)


@pytest.mark.slow
def test_two_layers_learn_order_one_and_one_layer_does_not():
    """The lab's headline on its easiest case (about half a minute of CPU).

    In the experiment (docs/dynamics.md) the 2-layer model is at about 0.03 bits of excess by
    step 400 (40% of the unigram-to-k-gram gap) and the 1-layer model at about 95% of the gap.
    """
    common = dict(order=1, steps=400, eval_every=100, eval_seqs=128)
    two = train_markov(MarkovConfig(n_layers=2, **common))
    one = train_markov(MarkovConfig(n_layers=1, **common))
    gap = two["references"]["unigram"] - two["references"]["kgram"]
    assert two["final"]["excess"] < 0.55 * gap
    assert one["final"]["excess"] > 0.8 * gap
    assert two["final"]["induction"][1][0] > 0.75 > one["final"]["induction"][0][0]
