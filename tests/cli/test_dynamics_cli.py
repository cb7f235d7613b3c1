"""`interplay dynamics markov` through interplay.cli.main.main."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interplay.cli import dynamics as dynamics_cli
from interplay.cli import main as cli_main

TINY = ["--steps", "4", "--eval-every", "2", "--length", "12", "--width", "8",
        "--batch-size", "4", "--no-progress"]


@pytest.fixture(scope="module", autouse=True)
def _registered():
    """Register the sub-app on the real CLI unless main.py already does."""
    if not any(g.name == "dynamics" for g in cli_main.app.registered_groups):
        dynamics_cli.register(cli_main.app)


def test_markov_writes_json(tmp_path, capsys):
    out = tmp_path / "run.json"
    code = cli_main.main(["dynamics", "markov", "--order", "2", "--layers", "2", "--heads", "2",
                          "--seed", "3", "--json", str(out), *TINY])
    assert code == 0
    text = capsys.readouterr().out
    for word in ("excess over estimator", "induction score, layer 2", "k-gram estimator loss"):
        assert word in text
    result = json.loads(out.read_text())
    assert result["kind"] == "dynamics_markov" and "interplay_version" in result
    assert result["config"]["order"] == 2 and result["config"]["seed"] == 3
    assert result["config"]["n_heads"] == 2 and result["config"]["d_model"] == 8
    assert result["curves"]["step"] == [2, 4]
    assert np.asarray(result["final"]["attention_example"]).shape == (2, 2, 11, 11)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]  # no temporary left


def test_progress_bar(capsys):
    assert cli_main.main(["dynamics", "markov", "--order", "1", "--layers", "1",
                          *TINY[:-1], "--progress"]) == 0
    assert "training" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--order", "0", "--layers", "1"], "--order must be >= 1, got 0"),
    (["--order", "1", "--layers", "1", "--alphabet-size", "1"], "--alphabet-size must be >= 2"),
    (["--order", "3", "--layers", "1", "--length", "3"], "--length must be longer than --order"),
    (["--order", "1", "--layers", "1", "--alpha", "-0.5"], "--alpha must be > 0"),
    (["--order", "1", "--layers", "0"], "--layers must be >= 1"),
    (["--order", "1", "--layers", "1", "--width", "9", "--heads", "2"], "divisible"),
])
def test_bad_input_one_line_exit_2(args, message, tmp_path, capsys):
    out = tmp_path / "x.json"
    assert cli_main.main(["dynamics", "markov", *args, "--json", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert err.strip().startswith("error:")
    assert len(err.strip().splitlines()) <= 2  # one message (rich may wrap a long line)
    assert not out.exists()


def test_json_folder_missing(tmp_path, capsys):
    target = tmp_path / "nope" / "x.json"
    assert cli_main.main(["dynamics", "markov", "--order", "1", "--layers", "1",
                          "--json", str(target), *TINY]) == 2
    assert "--json" in capsys.readouterr().err
    assert not target.parent.exists()
