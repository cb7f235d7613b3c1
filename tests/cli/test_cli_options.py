"""Options every command shares: --version, --threads, and boolean flags without a value."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from interplay import _threads
from interplay.cli.main import main
from interplay.info.pid import broja


def flat(text: str) -> str:
    """Undo rich's line wrapping."""
    return " ".join(text.split())


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"interplay {version('interplay')}"


@pytest.mark.parametrize("command", ["quantify", "train", "evaluate", "recommend"])
def test_every_computing_command_takes_threads(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main([command, "--help"]) == 0
    assert "--threads" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "flags"), [
    (["quantify", "--help"], ["--bias-correction", "--progress"]),
    (["train", "--help"], ["--resume", "--progress"]),
    (["datasets", "export", "--help"], ["--overwrite"]),
    (["datasets", "list", "--help"], ["--json"]),
])
def test_boolean_flags_show_no_value_type(argv, flags, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    for flag in flags:
        line = next(ln for ln in lines if re.search(rf"│ {flag}\b", ln))
        assert "<bool>" not in line, line


def test_negative_flag_is_accepted(capsys):
    code = main(["quantify", "--example", "gates", "--no-bias-correction", "--no-progress"])
    assert code == 0
    assert "redundancy" in capsys.readouterr().out.lower()


@pytest.fixture
def counts_in_solver(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The thread count the policy gives the BROJA solver, once per solve."""
    seen: list[int | None] = []
    original = broja._solve_reduced

    def spy(*args, **kwargs):
        seen.append(_threads.policy_count())
        return original(*args, **kwargs)

    monkeypatch.setattr(broja, "_solve_reduced", spy)
    return seen


def test_threads_reaches_the_solver_and_ends_with_the_command(counts_in_solver, capsys):
    assert main(["quantify", "--example", "gates", "--threads", "2", "--no-progress"]) == 0
    assert set(counts_in_solver) == {2}
    counts_in_solver.clear()
    assert main(["quantify", "--example", "gates", "--no-progress"]) == 0
    assert set(counts_in_solver) == {1}


@pytest.mark.parametrize("bad", ["0", "-3"])
def test_bad_threads_name_the_flag(bad, capsys):
    assert main(["quantify", "--example", "gates", "--threads", bad, "--no-progress"]) == 2
    err = flat(capsys.readouterr().err)
    assert "--threads" in err and bad in err
