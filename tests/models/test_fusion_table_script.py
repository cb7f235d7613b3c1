"""benchmarks/fusion_table.py in --quick mode on a small subset of mfeat: what it writes."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from interplay.models import list_fusions

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fusion_table.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("fusion_table_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _load_script()


@pytest.fixture(scope="module")
def quick_run(script, tmp_path_factory):
    out = tmp_path_factory.mktemp("fusion_table")
    paths = {"json": out / "results" / "table.json", "doc": out / "docs" / "results.md",
             "figures": out / "docs" / "figures"}
    returned = script.main(["--quick", "--datasets", "mfeat", "--max-samples", "200",
                            "--no-progress", "--json", str(paths["json"]),
                            "--doc", str(paths["doc"]), "--figures", str(paths["figures"])])
    return returned, paths


def test_json_holds_every_model_with_consistent_summaries(quick_run):
    returned, paths = quick_run
    saved = json.loads(paths["json"].read_text())
    assert saved["datasets"].keys() == {"mfeat"} == returned["datasets"].keys()
    res = saved["datasets"]["mfeat"]
    order = res["modalities"]
    variants = {"gated, gate=modality", "late + mdrop", "gated + mdrop"}
    expected = (set(list_fusions()) | variants | {f"{m} only" for m in order}
                | {"unimodal ensemble"})
    assert set(res["models"]) == expected
    assert saved["protocol"]["modality_dropout"] == 0.3
    for name in list_fusions():
        assert res["models"][name]["modality_dropout"] == 0.0
        assert res["models"][name]["options"] == {}
    assert res["models"]["late + mdrop"]["modality_dropout"] == 0.3
    assert res["models"]["late + mdrop"]["fusion"] == "late"
    assert res["models"]["gated, gate=modality"]["options"] == {"gate": "modality"}
    seeds = saved["protocol"]["seeds"]
    for name, entry in res["models"].items():
        runs = entry["runs"]
        assert len(runs) + len(entry["failures"]) == len(seeds), name
        accs = [r["test_accuracy"] for r in runs]
        assert all(0.0 <= a <= 1.0 for a in accs)
        assert entry["summary"]["mean"]["test_accuracy"] == pytest.approx(np.mean(accs))
        for r in runs:
            assert r["robustness"]["noise_levels"] == saved["protocol"]["noise_levels"]
            # level 0 of every noise curve is the clean score
            assert all(r["robustness"]["noisy"][m][0] == r["test_accuracy"] for m in order)
    ens = res["models"]["unimodal ensemble"]
    assert ens["parameters"] == sum(res["models"][f"{m} only"]["parameters"] for m in order)
    for r in ens["runs"]:  # the ensemble is the baseline curve: compared with itself
        assert all(v == pytest.approx(1.0) for v in r["relative_robustness"].values())
        assert all(v == pytest.approx(0.0) for v in r["effective_robustness"].values())
    for name in ("gated", "gated, gate=modality", "gated + mdrop"):
        gate = res["models"][name]["runs"][0]
        assert sum(gate["gate_mean"].values()) == pytest.approx(1.0)
        assert 0.0 <= gate["gate_above_0.9"] <= 1.0 and 0.0 <= gate["gate_entries_above_0.9"] <= 1.0
    scalar = res["models"]["gated, gate=modality"]["runs"][0]  # one gate per sample: both agree
    assert scalar["gate_above_0.9"] == scalar["gate_entries_above_0.9"]


def test_unimodal_baselines_ignore_the_other_modalities(quick_run):
    _, paths = quick_run
    res = json.loads(paths["json"].read_text())["datasets"]["mfeat"]
    for m in res["modalities"]:
        for r in res["models"][f"{m} only"]["runs"]:
            rob = r["robustness"]
            for other in res["modalities"]:
                if other != m:
                    assert rob["dropped"][other] == r["test_accuracy"]
                    assert set(rob["noisy"][other]) == {r["test_accuracy"]}


def test_markdown_tables_and_figures(quick_run):
    _, paths = quick_run
    text = paths["doc"].read_text()
    assert "python benchmarks/fusion_table.py --quick --datasets mfeat" in text
    for name in list_fusions():
        assert re.search(rf"^\| `{name}` \| fusion \| \d\.\d{{3}} ± \d\.\d{{3}} \|", text, re.M)
    assert re.search(r"^\| unimodal ensemble \| ensemble \|", text, re.M)
    assert re.search(r"^\| `late \+ mdrop` \| variant \| \d\.\d{3} ± \d\.\d{3} \|", text, re.M)
    assert "### Training with modality dropout (p = 0.3)" in text
    for name in ("late", "gated"):  # without -> with dropout, and the change
        assert re.search(rf"^\| `{name}` \| \d\.\d{{3}} → \d\.\d{{3}} \([+-]\d\.\d{{3}}\) \|",
                         text, re.M)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 2
    for link in links:
        fig = (paths["doc"].parent / link).resolve()
        assert fig.parent == paths["figures"].resolve() and fig.name.startswith("fusion_mfeat")
        assert fig.read_text().lstrip().startswith("<?xml")
        assert fig.stat().st_size < 200_000


@pytest.mark.parametrize("args", [["--max-samples", "10"], ["--modality-dropout", "1"],
                                  ["--mdrop-fusions", "nosuch"]])
def test_bad_arguments_are_refused(script, args):
    with pytest.raises(SystemExit):
        script.main(["--quick", *args])


def test_render_only_rebuilds_the_page_from_the_json(script, quick_run):
    _, paths = quick_run
    again = paths["doc"].with_name("again.md")
    script.main(["--render-only", "--json", str(paths["json"]), "--doc", str(again),
                 "--figures", str(paths["figures"])])
    assert again.read_text() == paths["doc"].read_text()


def test_render_only_needs_the_json(script, tmp_path):
    with pytest.raises(SystemExit):
        script.main(["--render-only", "--json", str(tmp_path / "missing.json")])
