"""Reports without a browser: every kind renders, bad files are refused, writes are atomic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from interplay.exceptions import DataFormatError, InvalidInputError
from interplay.reports import (
    Renderer,
    list_renderers,
    load_result,
    register_renderer,
    render_report,
    write_report,
)

DATA = Path(__file__).parent / "data"
#: Fixture file -> the kind it must be read as (files without "kind" are recognised by keys).
FIXTURES = {
    "quantify_gates.json": "pid",
    "recommend_gates.json": "recommendation",
    "train_result.json": "training_run",
    "evaluation.json": "evaluation",
    "robustness.json": "robustness",
    "model_pid.json": "model_pid",
    "pairwise_sweep.json": "pairwise_pid",
    "cluster_sensitivity.json": "cluster_sensitivity",
    "alignment.json": "alignment",
    "dynamics_markov.json": "dynamics_markov",
    "modality_shapley.json": "modality_shapley",
    "mi_estimate.json": "mi_estimate",
}


@pytest.mark.parametrize("name, kind", FIXTURES.items())
def test_each_fixture_is_read_as_its_kind(name, kind):
    loaded = load_result(DATA / name)
    assert loaded.kind == kind
    assert len(loaded.sha256) == 64


def test_every_kind_that_commands_write_has_a_renderer():
    assert {"pid", "pairwise_pid", "cluster_sensitivity", "recommendation", "training_run",
            "evaluation", "robustness", "model_pid", "dataset_summary",
            "analysis", "alignment", "dynamics_markov", "modality_shapley",
            "mi_estimate"} <= set(list_renderers())


@pytest.mark.parametrize("name", FIXTURES)
def test_page_is_self_contained(name):
    page = render_report([load_result(DATA / name)])
    assert "<script" not in page.lower()
    links = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    assert links, "a page without figures or links"
    assert all(u.startswith(("data:", "#")) for u in links), links
    assert not re.search(r"url\((?!data:)", page)  # no CSS fetch either
    assert page.count('<section id="s0"') == 1
    assert page.count("<img ") >= 1
    assert "Provenance" in page and "interplay version" in page


@pytest.mark.parametrize("names", [
    ["quantify_gates.json", "robustness.json", "alignment.json"],
    pytest.param(list(FIXTURES), marks=pytest.mark.slow),
])
def test_one_section_per_result_in_order_with_contents(names):
    loaded = [load_result(DATA / n) for n in names]
    page = render_report(loaded, title="All kinds", command="interplay report ...")
    kinds = re.findall(r'<section id="s\d+" data-kind="([^"]+)"', page)
    assert kinds == [r.kind for r in loaded]
    assert "<title>All kinds</title>" in page and "<nav" in page


def test_pid_section_shows_values_intervals_and_p_values():
    data = json.loads((DATA / "quantify_gates.json").read_text())
    page = render_report([load_result(DATA / "quantify_gates.json")])
    assert f"{data['synergy']:.4f}" in page
    lo, hi = data["ci"]["synergy"]
    assert f"[{lo:.4f}, {hi:.4f}]" in page
    assert f"{data['p_values']['synergy']:.3g}" in page
    assert "example &#39;gates&#39;" in page  # provenance: the data it came from, escaped


def test_rendering_is_deterministic():
    loaded = [load_result(DATA / n) for n in ("quantify_gates.json", "model_pid.json")]
    assert render_report(loaded) == render_report(loaded)


def test_text_from_results_is_escaped(tmp_path):
    data = json.loads((DATA / "quantify_gates.json").read_text())
    data["settings"]["data"] = "<img src=http://example.com/x.png>"
    data["warnings"] = ["<script>alert(1)</script>"]
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(data))
    page = render_report([load_result(path)])
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=http" not in page


@pytest.mark.parametrize("content, message", [
    ('{"hello": 1}', "is not an interplay result"),
    ('[1, 2, 3]', "is not an interplay result: its JSON is a list"),
    ('{"kind": "pid", "interplay_version": "99.0"', "ends early (truncated?)"),
    ('{"kind": "pid", "interplay_version": "99.0.0"}', "written by interplay 99.0.0, newer"),
    ('{"kind": "no-such-kind", "interplay_version": "0.1.0"}', "no renderer for result kind"),
    ('not json at all', "is not valid JSON"),
])
def test_bad_files_are_refused_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=re.escape(message)) as info:
        load_result(path)
    assert "\n" not in str(info.value) and "bad.json" in str(info.value)


def test_truncated_real_result_is_refused(tmp_path):
    text = (DATA / "evaluation.json").read_text()
    path = tmp_path / "evaluation.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DataFormatError, match="truncated"):
        load_result(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        load_result(tmp_path / "absent.json")


def test_write_report_is_all_or_nothing(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("old page")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(DataFormatError):
        write_report([DATA / "quantify_gates.json", bad], out)
    assert out.read_text() == "old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "report.html"]
    write_report([DATA / "quantify_gates.json"], out)
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_write_report_refuses_a_missing_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        write_report([DATA / "quantify_gates.json"], tmp_path / "nope" / "r.html")
    assert not (tmp_path / "nope").exists()


def test_a_kind_is_registered_once():
    with pytest.raises(InvalidInputError, match="already registered"):
        register_renderer(Renderer(kind="pid", title="again", template="pid.html.j2",
                                   build=lambda data: {}))


def test_recommendation_names_the_modalities_and_shows_costs_and_unimodal_skill(tmp_path):
    data = json.loads((DATA / "recommend_gates.json").read_text())
    data["columns"] = {"x1": [f"fou:{i}" for i in range(76)], "x2": ["kar"], "y": ["digit"]}
    data["unimodal_accuracy"] = {"x1": 0.799, "x2": 0.948, "source": "probe"}
    for i, r in enumerate(data["ranking"]):
        r["parameters"], r["train_seconds"] = 1000 * (i + 1), 2.5
    path = tmp_path / "rec.json"
    path.write_text(json.dumps(data))
    page = render_report([load_result(path)])
    assert "fou and kar about digit" in page
    assert "Accuracy of fou alone 0.799, kar alone 0.948 (probe)" in page
    assert '<th scope="col">parameters</th>' in page and ">2,000<" in page
