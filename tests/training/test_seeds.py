import json
import math

import numpy as np
import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.training import seed_everything, summarize_seeds


def test_mean_and_sample_std_match_numpy():
    runs = [{"acc": 0.81, "loss": 0.5}, {"acc": 0.86, "loss": 0.4}, {"acc": 0.9, "loss": 0.45}]
    s = summarize_seeds(runs)
    assert s.n == 3 and list(s.mean) == ["acc", "loss"]
    assert s.mean["acc"] == pytest.approx(np.mean([0.81, 0.86, 0.9]))
    assert s.std["loss"] == pytest.approx(np.std([0.5, 0.4, 0.45], ddof=1))
    assert s.format("acc", digits=2) == "0.86 ± 0.05"
    assert s.to_dict()["values"]["acc"] == [0.81, 0.86, 0.9]
    assert "over 3 seed(s)" in str(s)


def test_single_run_has_undefined_std():
    s = summarize_seeds([{"acc": 0.5}])
    assert s.mean["acc"] == 0.5 and math.isnan(s.std["acc"])
    # the JSON form is strict JSON: the undefined std is null, never NaN
    assert json.loads(s.to_json())["std"] == {"acc": None}
    assert s.to_dict()["std"] == {"acc": None}


def test_only_shared_metrics_by_default_and_objects_with_metrics():
    class Run:
        def __init__(self, m):
            self.metrics = m

    s = summarize_seeds([Run({"a": 1.0, "b": 2.0}), {"a": 3.0}])
    assert list(s.mean) == ["a"] and s.mean["a"] == 2.0


@pytest.mark.parametrize(
    "results, metrics",
    [
        ([], None),
        ({"acc": 1.0}, None),
        ("acc", None),
        ([{"acc": 1.0}, 3], None),
        ([{"acc": 1.0}, {"acc": "high"}], None),
        ([{"acc": 1.0}, {"loss": 1.0}], None),
        ([{"acc": 1.0}, {"loss": 1.0}], ["acc"]),
    ],
)
def test_bad_results(results, metrics):
    with pytest.raises(InvalidInputError):
        summarize_seeds(results, metrics=metrics)


def test_seed_everything_reproduces_all_generators():
    import random

    seed_everything(11)
    a = (torch.rand(2), np.random.rand(2), random.random())
    seed_everything(11)
    b = (torch.rand(2), np.random.rand(2), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    for bad in (-1, 2**32, 1.5, True):
        with pytest.raises(InvalidInputError):
            seed_everything(bad)
