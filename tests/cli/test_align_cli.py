"""`interplay align`: the table, the JSON result, and every bad input from the issue."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from interplay.alignment import cka, mutual_knn
from interplay.cli.main import main


def cli(*args: str) -> int:
    return main(["align", *args])


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((120, 6))
    b = a @ rng.standard_normal((6, 4)) + 0.5 * rng.standard_normal((120, 4))
    pa, pb = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(pa, a)
    np.save(pb, b)
    return a, b, pa, pb


def test_table_and_json_with_permutations(pair, tmp_path, capsys):
    a, b, pa, pb = pair
    out = tmp_path / "align.json"
    assert cli(str(pa), str(pb), "--k", "5", "--permutations", "9", "--seed", "1",
               "--json", str(out)) == 0
    printed = " ".join(capsys.readouterr().out.split())
    for text in ("mutual_knn (k=5)", "debiased_cka", "chance", "p-value", "wrote"):
        assert text in printed
    data = json.loads(out.read_text())
    assert data["kind"] == "alignment" and "interplay_version" in data
    assert data["n_samples"] == 120 and data["k"] == 5
    m = data["metrics"]
    assert m["mutual_knn"]["score"] == mutual_knn(a, b, 5)
    assert m["mutual_knn"]["chance"] == pytest.approx(5 / 119)
    assert m["debiased_cka"]["score"] == pytest.approx(cka(a, b, debiased=True))
    assert m["cka"]["p_value"] == pytest.approx(0.1)  # (1 + 0) / (1 + 9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "align.json", "b.npy"]


def test_csv_npz_and_dataset_sources(pair, tmp_path, capsys):
    a, b, _, _ = pair
    pd.DataFrame(a, columns=[f"f{i}" for i in range(6)]).to_csv(tmp_path / "a.csv", index=False)
    np.savez(tmp_path / "b.npz", emb=b, other=b[:, :2])
    out = tmp_path / "r.json"
    assert cli(str(tmp_path / "a.csv"), str(tmp_path / "b.npz"), "--key-b", "emb",
               "--metric", "svcca", "--metric", "cycle_knn", "--json", str(out)) == 0
    assert set(json.loads(out.read_text())["metrics"]) == {"svcca", "cycle_knn"}
    assert cli("mfeat", "fou", "kar", "--metric", "mutual_knn", "--clamp", "0.95") == 0
    assert "2000 paired samples" in " ".join(capsys.readouterr().out.split())


def _save(tmp_path, name, arr):
    path = tmp_path / name
    np.save(path, arr)
    return str(path)


@pytest.mark.parametrize(
    ("a", "b", "extra", "match"),
    [
        (np.ones((5, 2)), np.ones((6, 2)), (), "same samples"),
        (np.r_[[[np.inf, 1.0]], np.eye(2)], np.eye(3, 2), (), "NaN or infinite"),
        (np.ones((1, 2)), np.ones((1, 2)), (), "at least 2 samples"),
        (np.eye(6), np.eye(6), ("--k", "6"), "--k must satisfy"),
        (np.eye(6), np.ones((6, 3)), ("--metric", "cka"), "constant"),
        (np.arange(6.0), np.eye(6), (), "1-D"),
        (np.eye(6), np.eye(6), ("--metric", "pearson"), "metric"),
        (np.eye(6), np.eye(6), ("--permutations", "-1"), "--permutations"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, a, b, extra, match):
    out = tmp_path / "never.json"
    args = [_save(tmp_path, "a.npy", a), _save(tmp_path, "b.npy", b), *extra, "--json",
            str(out)]
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert match in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.npy"]


@pytest.mark.parametrize(
    ("sources", "match"),
    [
        (["nowhere.npy", "b.npy"], "not a file"),
        (["mfeat", "fou", "nope"], "modalities"),
        (["a.txt", "b.npy"], "unknown file type"),
        (["two.npz", "b.npy"], "--key-a"),
        (["x", "y", "z", "w"], "SOURCES"),
    ],
)
def test_bad_sources(tmp_path, capsys, monkeypatch, sources, match):
    monkeypatch.chdir(tmp_path)
    np.save("b.npy", np.eye(4))
    np.savez("two.npz", u=np.eye(4), v=np.eye(4))
    (tmp_path / "a.txt").write_text("1 2\n")
    assert cli(*sources) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1
