"""MultimodalDataset: validation, selection without copies, splits, numpy and torch views."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from interplay.data import DatasetMetadata, MultimodalDataset
from interplay.exceptions import InvalidInputError


def _toy(n: int = 10) -> MultimodalDataset:
    rng = np.random.default_rng(0)
    return MultimodalDataset(
        {"image": rng.normal(size=(n, 4, 4)), "audio": rng.normal(size=(n, 3))},
        {"digit": np.arange(n) % 3, "score": rng.normal(size=n)},
        metadata=DatasetMetadata(name="toy", modality_kinds={"image": "image", "audio": "audio"}),
    )


def test_basic_properties():
    ds = _toy()
    assert len(ds) == ds.n_samples == 10
    assert ds.modality_names == ("image", "audio")
    assert ds.target_names == ("digit", "score")
    assert ds.default_target == "digit"
    np.testing.assert_array_equal(ds.target, np.arange(10) % 3)
    assert ds.shapes() == {"image": (4, 4), "audio": (3,)}
    assert ds.mask.shape == (10, 2) and ds.mask.all()
    assert not ds.has_missing
    assert ds.nbytes() == 10 * (16 + 3) * 8 + 10 * 8 + 10 * 8
    info = ds.info()
    assert info["modalities"]["image"]["kind"] == "image"
    assert info["modalities"]["image"]["shape"] == [4, 4]


def test_single_array_target_named_y_and_default_target():
    ds = MultimodalDataset({"a": np.zeros((3, 2))}, np.array([1, 2, 3]))
    assert ds.target_names == ("y",)
    ds2 = _toy()
    ds3 = MultimodalDataset(dict(ds2.modalities), dict(ds2.targets), default_target="score")
    np.testing.assert_array_equal(ds3.target, ds2.targets["score"])


def test_no_targets():
    ds = MultimodalDataset({"a": np.zeros((3, 2)), "b": np.ones((3, 1))})
    assert ds.target_names == () and ds.default_target is None
    with pytest.raises(InvalidInputError, match="no targets"):
        _ = ds.target


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"modalities": {}}, "non-empty mapping"),
        ({"modalities": {"a": np.zeros((3, 2)), "b": np.zeros((4, 2))}}, "same number of samples"),
        ({"modalities": {"a": np.zeros((3, 2))}, "targets": np.zeros(4)}, "same number"),
        ({"modalities": {"a": np.array([[1.0, np.nan]])}}, "NaN or infinite"),
        ({"modalities": {"a": np.array([[1.0, np.inf]])}}, "NaN or infinite"),
        ({"modalities": {"a": np.array([["x", "y"]])}}, "must hold numbers"),
        ({"modalities": {"a": np.zeros((2, 2))}, "targets": np.array([0.0, np.nan])},
         "targets.*NaN"),
        ({"modalities": {"a": np.zeros((2, 2))}, "targets": np.array(["a", "b"])},
         "must hold numbers"),
        ({"modalities": {"a": np.zeros((2, 2))}, "targets": {"t": [0, 1]},
          "default_target": "u"}, "default_target"),
        ({"modalities": {"a": np.zeros((2, 2))}, "observed": {"b": [True, True]}},
         "not one of"),
        ({"modalities": {"a": np.zeros((2, 2))}, "observed": {"a": [1, 0]}}, "boolean array"),
        ({"modalities": {"a": np.zeros((0, 2))}}, "at least one sample"),
        ({"modalities": {"a": [[1.0, 2.0], [3.0]]}}, "numpy cannot turn"),
        ({"modalities": {"a": np.zeros((2, 2))}, "metadata": {"colour": 1}}, "unknown keys"),
        ({"modalities": {"a": np.zeros((2, 2))},
          "metadata": DatasetMetadata(modality_kinds={"b": "image"})}, "not a modality"),
    ],
)
def test_validation_errors(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        MultimodalDataset(**kwargs)


def test_unknown_modality_kind():
    with pytest.raises(InvalidInputError, match="modality_kinds"):
        DatasetMetadata(modality_kinds={"a": "smell"})


def test_missing_mask_allows_nan_only_where_missing():
    x = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, 4.0]])
    obs = np.array([True, False, True])
    ds = MultimodalDataset({"a": x, "b": np.zeros((3, 1))}, observed={"a": obs})
    assert ds.has_missing
    np.testing.assert_array_equal(ds.mask, np.array([[1, 1], [0, 1], [1, 1]], dtype=bool))
    with pytest.raises(InvalidInputError, match="1 observed sample"):
        MultimodalDataset({"a": x}, observed={"a": np.array([True, True, False])})
    ok = MultimodalDataset({"a": x}, allow_nonfinite=True)
    assert np.isnan(ok.modalities["a"]).any()


def test_select_shares_memory_for_modalities_and_slices():
    ds = _toy()
    sub = ds.select(modalities=["audio"])
    assert sub.modality_names == ("audio",)
    assert np.shares_memory(sub.modalities["audio"], ds.modalities["audio"])
    assert sub.metadata.modality_kinds == {"audio": "audio"}
    sl = ds.select(samples=slice(2, 8, 2))
    assert np.shares_memory(sl.modalities["image"], ds.modalities["image"])
    np.testing.assert_array_equal(sl.target, [2, 1, 0])
    # contiguous index arrays become slices (views) too
    ar = ds.select(samples=np.arange(3, 7))
    assert np.shares_memory(ar.modalities["audio"], ds.modalities["audio"])


def test_select_with_index_array_gathers_on_access_and_composes():
    ds = _toy()
    idx = np.array([9, 0, 4, 4])
    sub = ds.select(samples=idx)
    assert sub._mods["image"] is ds._mods["image"]  # the stored array is shared, not copied
    np.testing.assert_array_equal(sub.modalities["audio"], ds.modalities["audio"][idx])
    sub2 = sub.select(samples=[1, 3])
    np.testing.assert_array_equal(sub2.target, ds.target[[0, 4]])
    np.testing.assert_array_equal(sub2[1]["modalities"]["image"], ds.modalities["image"][4])
    mask = np.zeros(10, bool)
    mask[[1, 5]] = True
    np.testing.assert_array_equal(ds.select(samples=mask).target, ds.target[[1, 5]])
    np.testing.assert_array_equal(ds.select(samples=[-1]).target, [ds.target[9]])


def test_select_errors():
    ds = _toy()
    with pytest.raises(InvalidInputError, match="'video'"):
        ds.select(modalities=["video"])
    with pytest.raises(InvalidInputError, match="indices must lie"):
        ds.select(samples=[10])
    with pytest.raises(InvalidInputError, match="boolean mask"):
        ds.select(samples=np.ones(3, bool))
    with pytest.raises(InvalidInputError, match="integer indices"):
        ds.select(samples=np.array([0.5]))
    with pytest.raises(InvalidInputError, match="twice"):
        ds.select(modalities=["audio", "audio"])
    with pytest.raises(IndexError):
        ds[10]


def test_select_targets_changes_default():
    ds = _toy().select(targets=["score"])
    assert ds.target_names == ("score",) and ds.default_target == "score"


def test_splits_are_deterministic_disjoint_and_complete():
    ds = _toy(100)
    a = ds.split_indices(validation=0.1, test=0.2, seed=3)
    b = ds.split_indices(validation=0.1, test=0.2, seed=3)
    c = ds.split_indices(validation=0.1, test=0.2, seed=4)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[2], c[2])
    tr, va, te = a
    assert (len(tr), len(va), len(te)) == (70, 10, 20)
    assert np.array_equal(np.sort(np.concatenate(a)), np.arange(100))
    splits = ds.split(validation=0.1, test=0.2, seed=3)
    np.testing.assert_array_equal(splits.test.target, ds.target[te])
    assert [len(s) for s in splits] == [70, 10, 20]


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1], [80, 20])
    ds = MultimodalDataset({"a": np.zeros((100, 1))}, y)
    tr, va, te = ds.split_indices(validation=0.0, test=0.25, seed=0, stratify=True)
    assert np.bincount(y[te]).tolist() == [20, 5]
    with pytest.raises(InvalidInputError, match="stratify"):
        ds.split_indices(stratify="nope")
    with pytest.raises(InvalidInputError, match="< 1"):
        ds.split_indices(validation=0.5, test=0.5)


def test_to_numpy_and_features():
    ds = _toy()
    mods, y = ds.to_numpy(target="score")
    assert mods["image"] is ds._mods["image"]
    np.testing.assert_array_equal(y, ds.targets["score"])
    f = ds.features()
    assert f.shape == (10, 19)
    np.testing.assert_array_equal(f[:, :16], ds.modalities["image"].reshape(10, 16))
    with pytest.raises(InvalidInputError, match="target"):
        ds.to_numpy(target="nope")


def test_import_does_not_import_torch():
    code = "import sys, interplay.data; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_to_torch_and_dataloader():
    torch = pytest.importorskip("torch")
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    x[2] = np.nan
    ds = MultimodalDataset({"a": x, "b": np.ones((6, 3, 2))}, np.arange(6),
                           observed={"a": np.array([1, 1, 0, 1, 1, 1], bool)})
    tds = ds.select(samples=[2, 3]).to_torch()
    assert len(tds) == 2
    item = tds[0]
    assert item["modalities"]["a"].dtype == torch.float32
    assert torch.equal(item["modalities"]["a"], torch.zeros(2))  # missing -> fill value
    assert item["observed"]["a"].item() is False and item["target"].item() == 2
    assert torch.equal(tds[1]["modalities"]["a"], torch.tensor([6.0, 7.0]))
    loader = ds.dataloader(batch_size=4, shuffle=True, seed=1)
    batches = list(loader)
    assert batches[0]["modalities"]["b"].shape == (4, 3, 2)
    assert sorted(torch.cat([b["target"] for b in batches]).tolist()) == list(range(6))
    again = torch.cat([b["target"] for b in ds.dataloader(batch_size=4, shuffle=True, seed=1)])
    assert torch.equal(again, torch.cat([b["target"] for b in batches]))
    with pytest.raises(InvalidInputError, match="dtype"):
        ds.to_torch(dtype="int64")
