"""Exact Shapley values against a hand-computed three-player game, and by modality masking."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interplay.balance import imbalance, modality_shapley, shapley_values
from interplay.exceptions import InvalidInputError
from interplay.models import MultimodalModel, create_encoder, create_fusion, create_head

# v(∅)=1 (a baseline the empty game keeps), singletons 2/3/4, pairs 6/7/9, all three 12
GAME = {(): 1, ("a",): 2, ("b",): 3, ("c",): 4, ("a", "b"): 6, ("a", "c"): 7, ("b", "c"): 9,
        ("a", "b", "c"): 12}


def v(subset: frozenset) -> float:
    return GAME[tuple(sorted(subset))]


def test_three_players_against_the_hand_computed_values():
    # φ_a = 1/3 (v(a)-v(∅)) + 1/6 (v(ab)-v(b)) + 1/6 (v(ac)-v(c)) + 1/3 (v(abc)-v(bc))
    #     = 1/3·1 + 1/6·3 + 1/6·3 + 1/3·3 = 7/3
    # φ_b = 1/3·2 + 1/6·4 + 1/6·5 + 1/3·5 = 23/6 ;  φ_c = 1/3·3 + 1/6·5 + 1/6·6 + 1/3·6 = 29/6
    phi = shapley_values(v, ["a", "b", "c"])
    assert phi == pytest.approx({"a": 7 / 3, "b": 23 / 6, "c": 29 / 6})
    assert sum(phi.values()) == pytest.approx(v(frozenset("abc")) - v(frozenset()))


def test_symmetric_players_get_equal_values_and_a_null_player_zero():
    phi = shapley_values(lambda s: float(len(s & {"x", "y"}) ** 2), ["x", "y", "null"])
    assert phi["x"] == pytest.approx(phi["y"]) and phi["null"] == 0.0


def test_array_valued_games_are_decomposed_entrywise():
    phi = shapley_values(lambda s: np.array([len(s), 2.0 * ("a" in s)]), ["a", "b"])
    np.testing.assert_allclose(phi["a"], [1.0, 2.0])
    np.testing.assert_allclose(phi["b"], [1.0, 0.0])


@pytest.mark.parametrize(("players", "value", "match"), [
    ([], v, "1 to 16 players"),
    (["a", "a"], v, "distinct"),
    ("abc", v, "a list of players"),
    (["a"], "v", "callable"),
    (["a"], lambda s: float("nan"), "finite"),
])
def test_bad_games_are_refused(players, value, match):
    with pytest.raises(InvalidInputError, match=match):
        shapley_values(value, players)


def test_imbalance():
    assert imbalance({"a": 0.2, "b": 0.2}) == 0.0
    assert imbalance({"a": 0.4, "b": 0.0}) == 1.0
    assert imbalance({"a": 0.0, "b": 0.0}) == 0.0


def _model_that_uses_only_a():
    torch.manual_seed(0)
    enc = {"a": create_encoder("vector", 2, 4), "b": create_encoder("vector", 2, 4)}
    model = MultimodalModel(enc, create_fusion("early", {"a": 4, "b": 4}, 4),
                            create_head("classification", 4, 2))
    with torch.no_grad():  # encoder b outputs zeros whatever its input: as good as missing
        for p in model.encoders["b"].parameters():
            p.zero_()
        for name, p in [*model.fusion.named_parameters(), *model.head.named_parameters()]:
            if name.endswith("bias"):  # with nothing present the logits are 0: class 0
                p.zero_()
    return model


def test_modality_shapley_by_masking():
    model = _model_that_uses_only_a()
    g = torch.Generator().manual_seed(1)
    x = {"a": torch.randn(200, 2, generator=g), "b": torch.randn(200, 2, generator=g)}
    with torch.no_grad():
        y = model(x).logits.argmax(1)
    assert 20 < int(y.sum()) < 180
    y[::3] = 1 - y[::3]  # right on two thirds of the samples with a present
    r = modality_shapley(model, x, y, per_sample=True)
    assert r.subsets["a+b"] == r.subsets["a"] == pytest.approx(2 / 3, abs=0.01)
    assert r.subsets["b"] == r.subsets[""] != r.subsets["a"]
    assert r.values["b"] == pytest.approx(0.0, abs=1e-12)
    assert r.values["a"] == pytest.approx(r.subsets["a"] - r.subsets[""])
    assert r.imbalance == pytest.approx(1.0)
    # per sample: efficiency per row, and their mean is the aggregate value
    assert r.per_sample.shape == (200, 2)
    np.testing.assert_allclose(r.per_sample.mean(axis=0), [r.values["a"], r.values["b"]])
    doc = json.loads(r.to_json())
    assert doc["kind"] == "modality_shapley" and len(doc["per_sample"]) == 200


def test_modality_shapley_bad_input():
    model = _model_that_uses_only_a()
    x = {"a": torch.randn(4, 2), "b": torch.randn(4, 2)}
    with pytest.raises(InvalidInputError, match="`metric` must be one of"):
        modality_shapley(model, x, torch.zeros(4, dtype=torch.long), metric="f1")
    with pytest.raises(InvalidInputError, match="hold the model's modalities"):
        modality_shapley(model, {"a": x["a"]}, torch.zeros(4, dtype=torch.long))
    with pytest.raises(InvalidInputError, match="4 rows"):
        modality_shapley(model, x, torch.zeros(3, dtype=torch.long))
