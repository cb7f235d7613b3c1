"""benchmarks/balance_study.py in --quick mode on the synthetic set: what it writes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "balance_study.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("balance_study_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_run_writes_results_tables_and_figure(tmp_path):
    script = _load_script()
    figure = tmp_path / "curves.png"
    script.main(["--quick", "--datasets", "one-easy", "--methods", "ogm_ge", "--out",
                 str(tmp_path), "--figure", str(figure)])
    result = json.loads((tmp_path / "balance_study.json").read_text())
    assert result["kind"] == "balance_study" and "interplay_version" in result
    methods = result["datasets"]["one-easy"]["methods"]
    assert list(methods) == [script.JOINT, "ogm_ge", script.ENSEMBLE]
    for entry in methods.values():
        s = entry["summary"]
        assert 0 <= s["accuracy"]["mean"] <= 1 and 0 <= s["imbalance"]["mean"] <= 1
        assert len(entry["runs"]) == 2  # the quick protocol's seeds
    run = methods[script.JOINT]["runs"][0]
    assert run["curves"]["val_accuracy_only_easy"] and run["curves"]["train_gradnorm_hard"]
    table = (tmp_path / "balance_study.md").read_text()
    assert "| ogm_ge |" in table and "imbalance" in table
    assert figure.stat().st_size > 10_000


def test_unknown_method_is_refused(capsys):
    script = _load_script()
    with pytest.raises(SystemExit):
        script.main(["--quick", "--methods", "ogm"])
    assert "unknown balancer(s) ['ogm']" in capsys.readouterr().err
