"""Binding through a hub: only hub pairs are trained; emergent retrieval is measurable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.objectives.bind import BindModel, fit_bind


def _views(n: int = 256, seed: int = 0) -> dict[str, np.ndarray]:
    """Three modalities that are different noisy linear views of one latent."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 4))
    return {m: z @ rng.standard_normal((4, 6)) + 0.1 * rng.standard_normal((n, 6))
            for m in ("hub", "a", "b")}


def test_non_hub_pairs_are_never_trained_together():
    torch.manual_seed(0)
    model = BindModel({"hub": 6, "a": 6, "b": 6}, hub="hub", dim=8, hidden=(16,))
    assert model.pairs() == [("a", "hub"), ("b", "hub")]
    data = {m: torch.as_tensor(v, dtype=torch.float32) for m, v in _views(32).items()}
    terms = model(data)
    assert set(terms) == {"a|hub", "b|hub", "loss"}
    # the a-encoder's gradient comes only from the a|hub term
    terms["b|hub"].backward()
    assert all(p.grad is None for p in model.encoders["a"].parameters())


def test_emergent_retrieval_beats_chance():
    from interplay.alignment import retrieval_metrics

    data = _views(256)
    torch.manual_seed(0)
    model = BindModel({m: 6 for m in data}, hub="hub", dim=8, hidden=(32,))
    hist = fit_bind(model, data, epochs=15, batch_size=64, lr=3e-3)
    assert hist[-1]["loss"] < hist[0]["loss"]
    with torch.no_grad():
        z = model.embed({m: torch.as_tensor(v, dtype=torch.float32) for m, v in data.items()})
    m = retrieval_metrics(z["a"].numpy(), z["b"].numpy(), ks=(1, 10))
    assert m["a_to_b_R@10"] > 5 * 10 / 256  # chance R@10 is 10/256


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: BindModel({"a": 3, "b": 3}, hub="c"), "not among"),
        (lambda: BindModel({"a": 3}, hub="a"), "at least two"),
        (lambda: BindModel({"a": 3, "b": 3}, hub="a", pairs=[("a", "a")]), "two different"),
        (lambda: BindModel({"a": 3, "b": 3}, hub="a", loss="x"), "loss"),
        (lambda: fit_bind(BindModel({"a": 3, "b": 3}, hub="a"), {"a": np.ones((1, 3)),
                                                                 "b": np.ones((1, 3))}),
         "batch of one"),
        (lambda: fit_bind(BindModel({"a": 3, "b": 3}, hub="a"), {"a": np.ones((4, 3))}),
         "lacks"),
        (lambda: BindModel({"a": 3, "b": 3}, hub="a")({"a": torch.full((4, 3), float("nan")),
                                                       "b": torch.ones(4, 3)}), "NaN"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InvalidInputError, match=match):
        call()
