"""`interplay recommend`: profile and ranking on every kind of input, JSON schema, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from interplay import make_gate
from interplay.analysis.recommend import DEFAULT_AFFINITY, fusion_facts
from interplay.cli.main import main

SIMPLICITY = sorted(DEFAULT_AFFINITY.table, key=lambda f: fusion_facts()[f][1])

# gated too: its gates depend on both modalities, and the hard synthetic suite measures it
# within 1% of the best on every XOR-, product- and sum-mod-3 set
SYNERGY_CAPABLE = {"tensor", "low_rank_tensor", "multiplicative", "cross_attention",
                   "perceiver", "poe", "gated"}


def cli(*args: str) -> int:
    return main(["recommend", *args, "--no-progress"])


@pytest.fixture
def xor_csv(tmp_path):
    d = make_gate("xor", 3000, random_state=0)
    path = tmp_path / "xor.csv"
    pd.DataFrame({"a": d.x1, "b": d.x2, "label": d.y}).to_csv(path, index=False)
    return path


def test_example_prints_profile_and_ranking(capsys):
    assert cli("--example", "gates") == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in ("R redundancy", "S synergy", "share", "recommended:", "predicted"):
        assert text in out
    assert sum(name in out for name in SIMPLICITY) == len(SIMPLICITY)


def test_xor_csv_writes_the_json_schema(tmp_path, xor_csv, capsys):
    out = tmp_path / "rec.json"
    assert cli(str(xor_csv), "--x1", "a", "--x2", "b", "--y", "label", "--json", str(out)) == 0
    data = json.loads(out.read_text())
    assert set(data) == {"kind", "interplay_version", "provenance", "best", "best_fusion",
                         "separated", "why", "ranking", "shares", "affinity_source", "notes",
                         "profile", "data", "columns", "excluded", "unimodal_accuracy"}
    assert data["kind"] == "recommendation" and data["provenance"]["seed"] == 0
    assert data["best"] in SYNERGY_CAPABLE
    assert data["columns"] == {"x1": ["a"], "x2": ["b"], "y": ["label"]}
    assert data["data"] == str(xor_csv)
    top = data["ranking"][0]
    assert top["name"] == data["best"] or not data["separated"]
    assert all(r["interval"][0] <= r["score"] <= r["interval"][1] for r in data["ranking"])
    # XOR: each column alone is at chance, so the unimodal gate leaves the ensemble out
    assert set(data["excluded"]) == {"ensemble"}
    assert {r["name"] for r in data["ranking"]} == set(SIMPLICITY) - {"ensemble"}
    scores = [r["score"] for r in data["ranking"]]
    assert all(0 <= s <= 1 for s in scores)
    assert data["shares"]["synergy"] == pytest.approx(1.0, abs=0.01)
    assert data["profile"]["estimator"] == "plugin"
    assert data["profile"]["pid"]["synergy"] == pytest.approx(1.0, abs=0.01)
    assert f"wrote{out}" in "".join(capsys.readouterr().out.split())  # rich may wrap the path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.json", "xor.csv"]


def test_npz_embeddings_use_the_cluster_estimator_and_candidates(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 2000)
    emb1 = rng.standard_normal((3, 10))[a] + 0.3 * rng.standard_normal((2000, 10))
    emb2 = rng.standard_normal((3, 6))[a] + 0.3 * rng.standard_normal((2000, 6))
    path, out = tmp_path / "emb.npz", tmp_path / "r.json"
    np.savez(path, emb1=emb1, emb2=emb2, y=a)
    assert cli(str(path), "--x1", "emb1", "--x2", "emb2", "--y", "y", "--clusters", "5",
               "--components", "0", "--candidates", "tensor,late", "--json", str(out)) == 0
    data = json.loads(out.read_text())
    assert data["profile"]["estimator"] == "cluster"
    assert "all columns" in data["profile"]["reason"]
    assert data["profile"]["dominant"] == "redundancy"
    ranking = data["ranking"]
    assert sorted(r["name"] for r in ranking) == ["late", "tensor"]
    assert ranking[0]["score"] >= ranking[1]["score"]
    assert len(data["columns"]["x1"]) == 10


def test_probability_table_is_decomposed_exactly(tmp_path):
    path, out = tmp_path / "p.npy", tmp_path / "r.json"
    np.save(path, make_gate("xor", 10, random_state=0).pmf)
    assert cli(str(path), "--json", str(out)) == 0
    data = json.loads(out.read_text())
    assert data["profile"]["estimator"] == "exact"
    assert data["shares"]["synergy"] == pytest.approx(1.0, abs=1e-6)
    assert data["columns"] is None
    assert data["best"] in SYNERGY_CAPABLE


def test_bootstrap_adds_share_intervals(tmp_path, xor_csv, capsys):
    out = tmp_path / "r.json"
    assert cli(str(xor_csv), "--x1", "a", "--x2", "b", "--y", "label", "--bootstrap", "10",
               "--json", str(out)) == 0
    assert "share interval" in " ".join(capsys.readouterr().out.split())
    ci = json.loads(out.read_text())["profile"]["share_ci"]
    assert set(ci) == {"redundancy", "unique1", "unique2", "synergy"}
    assert ci["synergy"][0] > 0.9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--x1", "a", "--x2", "b"], "--y is required"),
        (["--x1", "a", "--x2", "nope", "--y", "label"], "no column 'nope'"),
        (["--x1", "a", "--x2", "a", "--y", "label"], "used in --x1 and --x2"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--estimator", "knn"], "estimator"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--candidates", "tensor,mlp"],
         "does not cover"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--candidates", "tensor,"],
         "empty fusion name"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--components", "-1"], "--components"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--clusters", "1"], "--clusters must be"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--bootstrap", "1"], "--bootstrap must be"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--example", "gates"], "got both"),
        (["--x1", "a", "--x2", "b", "--y", "label", "--json", "missing_dir/r.json"],
         "does not exist"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, xor_csv, capsys, monkeypatch, args,
                                                message):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    extra = [] if "--json" in args else ["--json", str(tmp_path / "out.json")]
    assert cli(str(xor_csv), *args, *extra) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_bad_files_exit_2(tmp_path, capsys):
    assert cli(str(tmp_path / "none.csv"), "--x1", "a", "--x2", "b", "--y", "y") == 2
    assert "no such file" in " ".join(capsys.readouterr().err.split())
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not an array")
    assert cli(str(bad)) == 2
    assert "not a readable .npy" in " ".join(capsys.readouterr().err.split())
    assert cli() == 2


def test_a_constant_target_is_refused(tmp_path, capsys):
    path = tmp_path / "c.csv"
    pd.DataFrame({"a": [0, 1] * 50, "b": [1, 0] * 50, "y": [3] * 100}).to_csv(path, index=False)
    assert cli(str(path), "--x1", "a", "--x2", "b", "--y", "y") == 2
    assert "single value" in " ".join(capsys.readouterr().err.split())
