"""The representations part of an evaluation section: tables, notes and the retrieval figure."""

from __future__ import annotations

import json
from pathlib import Path

from interplay.reports import load_result, render_report

DATA = Path(__file__).parent / "data"


def _stats(*values):
    mean = sum(values) / len(values)
    return {"mean": mean, "std": 0.01 if len(values) > 1 else None, "per_seed": list(values)}


def _evaluation(tmp_path: Path, pairs: list, probe) -> Path:
    data = json.loads((DATA / "evaluation.json").read_text())
    data["representations"] = {
        "split": "test", "n_samples": 50, "widths": {"a": 8, "b": 8, "c": 6},
        "objective": "contrastive", "chance": {"R@1": 0.02, "R@10": 0.2, "median_rank": 25.0},
        "pairs": pairs, "probe": probe, "settings": {},
    }
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps(data))
    return path


def _pair(names, retrieval=True, note=None):
    metrics = {"gap": _stats(0.4, 0.42) if retrieval else _stats_none(),
               "mutual_knn": _stats(0.3, 0.31), "cka": _stats(0.5, 0.52)}
    if retrieval:
        metrics.update({"a_to_b_R@1": _stats(0.123, 0.125), "a_to_b_R@10": _stats(0.6, 0.62),
                        "a_to_b_median_rank": _stats(4.0, 5.0), "b_to_a_R@1": _stats(0.1, 0.1),
                        "b_to_a_R@10": _stats(0.5, 0.5)})
    return {"modalities": list(names), "note": note, "metrics": metrics}


def _stats_none():
    return {"mean": None, "std": None, "per_seed": [None]}


def test_pairs_probe_chance_and_a_figure_are_rendered(tmp_path):
    plain = render_report([load_result(DATA / "evaluation.json")])
    pairs = [_pair("ab"), {**_pair("ac", retrieval=False, note="widths 8 and 6 differ"),
                           "metrics": {"gap": _stats_none(), "mutual_knn": _stats(0.2),
                                       "cka": _stats(0.3)}}]
    page = render_report([load_result(_evaluation(tmp_path, pairs, {"a": _stats(0.8, 0.82),
                                                                    "all": _stats(0.9, 0.9)}))])
    assert "Representations (contrastive objective) on 50 test samples" in page
    assert "0.124 ± 0.010" in page  # a -> b R@1
    assert "a → c" in page and "a and c: widths 8 and 6 differ" in page
    assert "<td class=\"text\">chance</td>" in page and "0.020" in page
    assert "Linear probe" in page and "0.810 ± 0.010" in page
    assert page.count("<img ") == plain.count("<img ") + 1


def test_no_comparable_pair_gives_tables_without_a_figure(tmp_path):
    plain = render_report([load_result(DATA / "evaluation.json")])
    pairs = [{**_pair("ac", retrieval=False, note="widths differ"),
              "metrics": {"gap": _stats_none(), "mutual_knn": _stats(0.2), "cka": _stats_none()}}]
    page = render_report([load_result(_evaluation(tmp_path, pairs, None))])
    assert "Representations (contrastive objective)" in page and "Linear probe" not in page
    assert page.count("<img ") == plain.count("<img ")
