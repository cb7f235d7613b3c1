"""Readers and writers: round trips and an explicit error for every kind of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from interplay.data import DatasetMetadata, MultimodalDataset, read_dataset, save_dataset
from interplay.exceptions import DataFormatError, InvalidInputError


def _rich_dataset() -> MultimodalDataset:
    rng = np.random.default_rng(1)
    image = rng.normal(size=(6, 3, 2))
    image[4] = np.nan
    return MultimodalDataset(
        {"image": image, "audio": rng.integers(0, 5, size=(6, 4)).astype(np.int16),
         "flag": np.array([True, False] * 3)},
        {"digit": np.arange(6) % 2, "score": rng.normal(size=(6, 2))},
        default_target="score",
        observed={"image": np.array([1, 1, 1, 1, 0, 1], bool)},
        metadata=DatasetMetadata(name="rich", description="d", source="s", licence="MIT",
                                 modality_kinds={"image": "image"},
                                 classes={"digit": ("even", "odd")}, extra={"k": [1, 2]}),
    )


def _assert_same(a: MultimodalDataset, b: MultimodalDataset) -> None:
    assert a.modality_names == b.modality_names
    assert a.target_names == b.target_names
    assert a.default_target == b.default_target
    for k in a.modality_names:
        np.testing.assert_array_equal(a.modalities[k], b.modalities[k])
        assert a.modalities[k].dtype == b.modalities[k].dtype
        np.testing.assert_array_equal(a.observed[k], b.observed[k])
    for k in a.target_names:
        np.testing.assert_array_equal(a.targets[k], b.targets[k])
    assert a.metadata == b.metadata


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_round_trip(tmp_path, suffix):
    ds = _rich_dataset()
    path = save_dataset(ds, tmp_path / f"d{suffix}")
    back = read_dataset(path)
    _assert_same(ds, back)
    assert [p.name for p in tmp_path.iterdir()] == [f"d{suffix}"]  # no temp file left


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_round_trip_of_a_selection_and_subset_on_read(tmp_path, suffix):
    ds = _rich_dataset().select(samples=[5, 0, 2], modalities=["audio", "image"])
    path = save_dataset(ds, tmp_path / f"d{suffix}")
    _assert_same(ds, read_dataset(path))
    only = read_dataset(path, modalities=["audio"], target="digit")
    assert only.modality_names == ("audio",) and only.target_names == ("digit",)
    with pytest.raises(DataFormatError, match="no modality 'video'"):
        read_dataset(path, modalities=["video"])
    with pytest.raises(DataFormatError, match="no target 'label'"):
        read_dataset(path, target="label")


def test_plain_npz_by_array_names(tmp_path):
    p = tmp_path / "plain.npz"
    np.savez(p, x=np.ones((5, 2)), a=np.arange(5.0), b=np.arange(5.0) * 2, y=np.arange(5))
    ds = read_dataset(p, modalities={"x": "x", "ab": ["a", "b"]}, target="y")
    assert ds.shapes() == {"x": (2,), "ab": (2,)}
    np.testing.assert_array_equal(ds.modalities["ab"][:, 1], np.arange(5.0) * 2)
    np.testing.assert_array_equal(ds.target, np.arange(5))
    with pytest.raises(DataFormatError, match="no array 'z'"):
        read_dataset(p, modalities=["z"], target="y")
    with pytest.raises(DataFormatError, match="no target array 'label'"):
        read_dataset(p, modalities=["x"], target="label")
    with pytest.raises(DataFormatError, match="was not written by interplay"):
        read_dataset(p)


def test_plain_npz_errors(tmp_path):
    p = tmp_path / "bad.npz"
    np.savez(p, x=np.ones((5, 2)), short=np.ones((4, 2)), s=np.array(["a"] * 5),
             nan=np.array([[1.0], [np.nan], [1.0], [1.0], [1.0]]))
    with pytest.raises(DataFormatError, match="same number of samples"):
        read_dataset(p, modalities=["x", "short"])
    with pytest.raises(DataFormatError, match="dtype"):
        read_dataset(p, modalities=["s"])
    with pytest.raises(DataFormatError, match="missing/NaN values in 1 row"):
        read_dataset(p, modalities=["nan"])
    masked = read_dataset(p, modalities=["nan"], missing="mask")
    np.testing.assert_array_equal(masked.observed["nan"], [1, 0, 1, 1, 1])


def test_npz_with_object_array_is_not_unpickled(tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, x=np.array([{"a": 1}] * 3, dtype=object))
    with pytest.raises(DataFormatError, match="unpickle"):
        read_dataset(p, modalities=["x"])


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_corrupt_and_truncated_files(tmp_path, suffix):
    good = save_dataset(_rich_dataset(), tmp_path / f"good{suffix}")
    raw = good.read_bytes()
    trunc = tmp_path / f"trunc{suffix}"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFormatError):
        read_dataset(trunc)
    junk = tmp_path / f"junk{suffix}"
    junk.write_bytes(b"this is not a data file at all" * 10)
    with pytest.raises(DataFormatError):
        read_dataset(junk)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(DataFormatError, match="Cannot tell the format"):
        read_dataset(tmp_path / "x.h5")
    with pytest.raises(DataFormatError, match="`format` must be one of"):
        read_dataset(tmp_path / "x.npz", format="hdf5")
    with pytest.raises(DataFormatError, match="No such file"):
        read_dataset(tmp_path / "absent.npz")
    with pytest.raises(DataFormatError, match="use one of .npz, .parquet"):
        save_dataset(_rich_dataset(), tmp_path / "x.csv")
    with pytest.raises(DataFormatError, match="does not exist"):
        save_dataset(_rich_dataset(), tmp_path / "nowhere" / "x.npz")
    with pytest.raises(InvalidInputError, match="MultimodalDataset"):
        save_dataset({"a": 1}, tmp_path / "x.npz")
    with pytest.raises(InvalidInputError, match="missing"):
        read_dataset(tmp_path / "x.npz", missing="ignore")


def test_plain_parquet_one_column_or_list_of_columns(tmp_path):
    p = tmp_path / "t.parquet"
    table = pa.table({
        "pix": pa.array([[0.0, 1.0, 2.0, 3.0]] * 4, type=pa.list_(pa.float64())),
        "age": [1, 2, 3, 4], "height": [1.5, 1.6, 1.7, 1.8], "label": [0, 1, 0, 1],
        "name": ["a", "b", "c", "d"],
        "ragged": pa.array([[1.0], [1.0, 2.0], [1.0], [1.0]]),
        "nested": pa.array([[[1, 2], [3, 4]]] * 4),
    })
    pq.write_table(table, p)
    ds = read_dataset(p, modalities={"image": "pix", "tab": ["age", "height"],
                                     "nested": "nested"}, target="label")
    assert ds.shapes() == {"image": (4,), "tab": (2,), "nested": (2, 2)}
    np.testing.assert_array_equal(ds.modalities["tab"][:, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(ds.target, [0, 1, 0, 1])
    with pytest.raises(DataFormatError, match="different lengths.*ragged"):
        read_dataset(p, modalities=["ragged"])
    with pytest.raises(DataFormatError, match="column 'name' has type string"):
        read_dataset(p, modalities=["name"])
    with pytest.raises(DataFormatError, match="no column 'weight'"):
        read_dataset(p, modalities={"tab": ["age", "weight"]})
    with pytest.raises(DataFormatError, match="no column 'y'"):
        read_dataset(p, modalities=["age"], target="y")


def test_parquet_nulls_error_or_mask(tmp_path):
    p = tmp_path / "n.parquet"
    pq.write_table(pa.table({
        "v": pa.array([[1.0, 2.0], None, [3.0, 4.0]]), "s": pa.array([1, None, 3]),
        "y": pa.array([0, 1, None]),
    }), p)
    with pytest.raises(DataFormatError, match="modality 'v' has missing/NaN values in 1 row"):
        read_dataset(p, modalities=["v"])
    ds = read_dataset(p, modalities=["v", "s"], missing="mask")
    np.testing.assert_array_equal(ds.observed["v"], [True, False, True])
    np.testing.assert_array_equal(ds.observed["s"], [True, False, True])
    with pytest.raises(DataFormatError, match="target 'y'.*may not be missing"):
        read_dataset(p, modalities=["s"], target="y", missing="mask")


def test_csv(tmp_path):
    p = tmp_path / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6], "c": ["x", "y", "z"],
                  "inf": [1.0, np.inf, 2.0], "y": [0, 1, 1]}).to_csv(p, index=False)
    ds = read_dataset(p, modalities={"ab": ["a", "b"]}, target="y")
    np.testing.assert_array_equal(ds.modalities["ab"], [[1, 4], [2, 5], [3, 6]])
    assert ds.target.dtype.kind == "i"
    with pytest.raises(DataFormatError, match="'c' has type (large_)?string"):
        read_dataset(p, modalities=["c"])
    with pytest.raises(DataFormatError, match="infinite"):
        read_dataset(p, modalities=["inf"], missing="mask")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="not a readable CSV"):
        read_dataset(empty, modalities=["a"])
    header_only = tmp_path / "h.csv"
    header_only.write_text("a,b\n")
    with pytest.raises(DataFormatError, match="no rows"):
        read_dataset(header_only, modalities=["a"])
    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n1,2\n3,4,5,6\n"unclosed\n')
    with pytest.raises(DataFormatError):
        read_dataset(bad, modalities=["a"])


def test_hugging_face_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    feats = datasets.Features({
        "pixels": datasets.Sequence(datasets.Value("float32"), length=4),
        "mfcc": datasets.Array2D(shape=(2, 3), dtype="float32"),
        "label": datasets.ClassLabel(names=["cat", "dog"]),
    })
    hf = datasets.Dataset.from_dict({
        "pixels": [[0.0, 1.0, 2.0, 3.0]] * 5,
        "mfcc": [np.full((2, 3), i, dtype=np.float32) for i in range(5)],
        "label": [0, 1, 1, 0, 1],
    }, features=feats)
    hf.save_to_disk(str(tmp_path / "hf"))
    ds = read_dataset(tmp_path / "hf", modalities=["pixels", "mfcc"], target="label")
    assert ds.shapes() == {"pixels": (4,), "mfcc": (2, 3)}
    np.testing.assert_array_equal(ds.modalities["mfcc"][3], np.full((2, 3), 3.0))
    np.testing.assert_array_equal(ds.target, [0, 1, 1, 0, 1])
    assert ds.metadata.classes == {"label": ("cat", "dog")}
    datasets.DatasetDict({"train": hf, "test": hf}).save_to_disk(str(tmp_path / "hfd"))
    with pytest.raises(DataFormatError, match="pass `split=`"):
        read_dataset(tmp_path / "hfd", modalities=["pixels"])
    assert len(read_dataset(tmp_path / "hfd", modalities=["pixels"], split="test")) == 5
    (tmp_path / "notdata").mkdir()
    with pytest.raises(DataFormatError, match="save_to_disk"):
        read_dataset(tmp_path / "notdata", modalities=["pixels"])


def test_unserialisable_metadata_and_damaged_parquet_header(tmp_path):
    ds = MultimodalDataset({"a": np.zeros((2, 1))}, metadata=DatasetMetadata(extra={"f": print}))
    with pytest.raises(InvalidInputError, match="JSON-serialisable"):
        save_dataset(ds, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []
    p = tmp_path / "h.parquet"
    table = pa.table({"a": [1.0, 2.0]}).replace_schema_metadata({"__interplay__": '{"x": 1}'})
    pq.write_table(table, p)
    with pytest.raises(DataFormatError, match="damaged interplay header"):
        read_dataset(p)
