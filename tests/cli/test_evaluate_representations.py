"""`interplay evaluate` on representation runs: retrieval between modality pairs, alignment,
the modality gap and linear-probe accuracy of the per-modality embeddings; and the bad inputs
of contrastive training from the command line."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from interplay.alignment import modality_gap, mutual_knn, retrieval_metrics
from interplay.analysis.evaluation import load_run
from interplay.analysis.representations import representation_metrics
from interplay.cli.main import main
from interplay.exceptions import InvalidInputError

TINY = {
    "dataset": {"name": "mfeat", "max_samples": 240},
    "modalities": ["fou", "kar", "zer"],
    "split": {"validation": 0.2, "test": 0.25, "seed": 0},
    "encoders": {m: {"output_dim": 8, "options": {"hidden_dims": [16]}}
                 for m in ("fou", "kar", "zer")},
    "fusion": {"name": "late", "output_dim": 8},
    "objective": {"name": "contrastive",
                  "options": {"modalities": ["fou", "kar", "zer"], "hub": "kar",
                              "supervised_weight": 0.5}},
    "trainer": {"epochs": 3, "batch_size": 32, "lr": 0.01, "seeds": [0, 1]},
}


def run_cli(*args: str, progress_flag: bool = True) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, *(["--no-progress"] if progress_flag else [])])
    return code, " ".join((out.getvalue() + err.getvalue()).split())


def train(folder: Path, config: dict, name: str = "run") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    code, printed = run_cli("train", str(path), "--out", str(folder / name))
    assert code == 0, printed
    return folder / name


@pytest.fixture(scope="module")
def bound(tmp_path_factory):
    """A tiny binding run (fou and zer aligned with kar), 2 seeds, and its evaluation."""
    folder = tmp_path_factory.mktemp("bind")
    run_dir = train(folder, TINY)
    code, printed = run_cli("evaluate", str(run_dir), "--noise-levels", "0,1")
    assert code == 0, printed
    return run_dir, json.loads((run_dir / "evaluation.json").read_text()), printed


def test_a_binding_run_is_scored_as_representations_by_default(bound):
    _, ev, printed = bound
    reps = ev["representations"]
    assert reps["objective"] == "contrastive" and reps["split"] == "test"
    assert reps["n_samples"] == ev["n_test_samples"] == 60
    assert [p["modalities"] for p in reps["pairs"]] == [["fou", "kar"], ["fou", "zer"],
                                                        ["kar", "zer"]]
    assert reps["chance"]["R@1"] == pytest.approx(1 / 60)
    for pair in reps["pairs"]:
        m = pair["metrics"]
        assert {"a_to_b_R@1", "a_to_b_R@10", "a_to_b_median_rank", "b_to_a_R@1", "gap",
                "mutual_knn", "cka"} <= set(m)
        assert len(m["a_to_b_R@1"]["per_seed"]) == 2 and m["a_to_b_R@1"]["std"] is not None
        assert 0 <= m["a_to_b_R@1"]["mean"] <= m["a_to_b_R@10"]["mean"] <= 1
        assert 1 <= m["a_to_b_median_rank"]["mean"] <= 60
    assert set(reps["probe"]) == {"fou", "kar", "zer", "all"}
    assert all(0 <= s["mean"] <= 1 for s in reps["probe"].values())
    assert "Representations on 60 test samples" in printed
    assert "linear-probe test accuracy" in printed


def test_the_scores_are_those_of_the_trained_model_embeddings(bound):
    run_dir, ev, _ = bound
    run = load_run(run_dir)
    inputs, _ = run.data.test
    with torch.no_grad():
        emb = run.load_model(1).encode(inputs)
    a, b = emb["fou"].double().numpy(), emb["kar"].double().numpy()
    direct = retrieval_metrics(a, b, ks=(1, 10))
    got = ev["representations"]["pairs"][0]["metrics"]
    for key in ("a_to_b_R@1", "a_to_b_R@10", "a_to_b_median_rank", "b_to_a_R@1"):
        assert got[key]["per_seed"][1] == pytest.approx(direct[key])
    assert got["gap"]["per_seed"][1] == pytest.approx(modality_gap(a, b).norm)
    assert got["mutual_knn"]["per_seed"][1] == pytest.approx(mutual_knn(a, b, k=10))


def test_no_representations_keeps_plain_evaluate(bound, tmp_path):
    run_dir, _, _ = bound
    out = tmp_path / "plain.json"
    assert run_cli("evaluate", str(run_dir), "--noise-levels", "0,1", "--no-representations",
                   "--json", str(out))[0] == 0
    assert json.loads(out.read_text())["representations"] is None


def test_a_supervised_run_is_scored_only_when_asked_and_unequal_widths_skip_retrieval(
        tmp_path):
    config = {k: v for k, v in TINY.items() if k != "objective"}
    config = {**config, "modalities": ["fou", "kar"], "trainer": {**TINY["trainer"],
                                                                   "seeds": [0]},
              "encoders": {"fou": {"output_dim": 8}, "kar": {"output_dim": 6}}}
    run_dir = train(tmp_path, config)
    assert run_cli("evaluate", str(run_dir), "--noise-levels", "0,1")[0] == 0
    assert json.loads((run_dir / "evaluation.json").read_text())["representations"] is None
    code, printed = run_cli("evaluate", str(run_dir), "--noise-levels", "0,1",
                            "--representations")
    assert code == 0
    pair = json.loads((run_dir / "evaluation.json").read_text())["representations"]["pairs"][0]
    assert "widths 8 and 6 differ" in pair["note"] and "a_to_b_R@1" not in pair["metrics"]
    assert pair["metrics"]["gap"]["mean"] is None
    assert pair["metrics"]["mutual_knn"]["mean"] is not None  # row-paired scores still work
    assert "widths 8 and 6 differ" in printed


def test_the_report_shows_the_representation_section(bound, tmp_path):
    run_dir, ev, _ = bound
    page = tmp_path / "report.html"
    assert run_cli("report", str(run_dir / "evaluation.json"), "-o", str(page),
                   progress_flag=False)[0] == 0
    html = page.read_text()
    assert "Representations (contrastive objective) on 60 test samples" in html
    assert "Linear probe" in html and 'alt="cross-modal retrieval and probe accuracy"' in html
    r1 = ev["representations"]["pairs"][0]["metrics"]["a_to_b_R@1"]
    assert f"{r1['mean']:.3f} ± {r1['std']:.3f}" in html


# ------------------------------------------------------------- the library function
def _ranks_by_loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    ranks = []
    for i in range(len(a)):
        sims = [float(an[i] @ bn[j]) for j in range(len(b))]
        ranks.append(1 + sum(s > sims[i] for s in sims))
    return np.asarray(ranks)


def test_representation_metrics_against_a_loop_and_a_probe():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    z = rng.standard_normal((120, 6)) + 2.0 * y[:, None]
    a, b = z + 0.8 * rng.standard_normal(z.shape), z + 0.8 * rng.standard_normal(z.shape)
    test = {"a": a[80:], "b": b[80:]}
    r = representation_metrics(test, y_test=y[80:], train={"a": a[:80], "b": b[:80]},
                               y_train=y[:80])
    ranks = _ranks_by_loop(a[80:], b[80:])
    pair = r["pairs"][0]
    assert pair["retrieval"]["a_to_b_R@1"] == pytest.approx(np.mean(ranks == 1))
    assert pair["retrieval"]["a_to_b_R@10"] == pytest.approx(np.mean(ranks <= 10))
    assert pair["retrieval"]["a_to_b_median_rank"] == np.floor(np.median(ranks - 1)) + 1
    assert r["chance"] == {"R@1": 1 / 40, "R@10": 10 / 40, "median_rank": 20.0}
    assert r["probe"]["all"] > 0.85 and set(r["probe"]) == {"a", "b", "all"}
    seq = representation_metrics({"a": np.repeat(a[80:, None], 3, axis=1), "b": b[80:]})
    assert seq["pairs"][0]["retrieval"] == pair["retrieval"]  # sequences are mean-pooled
    assert seq["probe"] is None


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: representation_metrics({"a": np.ones((1, 3)), "b": np.ones((1, 3))}),
         "no negatives"),
        (lambda: representation_metrics({"a": np.full((5, 3), np.nan), "b": np.ones((5, 3))}),
         r"`test\['a'\]` contains NaN"),
        (lambda: representation_metrics({"a": np.ones((5, 3))}), "at least two modalities"),
        (lambda: representation_metrics({"a": np.ones((5, 3)), "b": np.ones((4, 3))}),
         "row-paired"),
        (lambda: representation_metrics({"a": np.eye(5), "b": np.eye(5)}, pairs=[("a", "hub")]),
         r"\['hub'\] not among the modalities"),
        (lambda: representation_metrics({"a": np.eye(5), "b": np.eye(5)},
                                        train={"a": np.eye(5), "b": np.eye(5)}),
         "needs `y_train` and `y_test`"),
    ],
)
def test_representation_metrics_bad_input(call, match):
    with pytest.raises(InvalidInputError, match=match):
        call()


# ----------------------------------------- contrastive training: bad input, nothing written
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"objective": {"name": "contrastive",
                        "options": {"modalities": ["fou", "kar"], "hub": "pix"}}},
         "`hub` 'pix' is not among the modalities"),
        ({"encoders": {"fou": {"output_dim": 8}, "kar": {"output_dim": 6}, "zer": {}},
          "objective": {"name": "contrastive", "options": {"modalities": ["fou", "kar"]}}},
         "give both encoders the same output_dim"),
        ({"trainer": {**TINY["trainer"], "batch_size": 1}},
         "needs batches of at least 2 samples (the other samples of a batch are its negatives); "
         "1 leaves a batch of 1 in the training part"),
        ({"trainer": {**TINY["trainer"], "batch_size": 59}},  # 60 test samples: 59 + 1
         "59 leaves a batch of 1 in the test part (60 samples)"),
    ],
)
def test_bad_contrastive_runs_exit_2_and_write_nothing(tmp_path, change, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**TINY, **change}))
    code, printed = run_cli("train", str(path), "--out", str(tmp_path / "run"))
    assert code == 2
    assert expected in printed
    assert not (tmp_path / "run").exists()
