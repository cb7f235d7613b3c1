"""`interplay report`: writes one page from several results; bad input is one line, exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from interplay.cli.main import main

DATA = Path(__file__).parents[1] / "reports" / "data"


def test_report_of_several_results(tmp_path, capsys):
    out = tmp_path / "page.html"
    code = main(["report", str(DATA / "quantify_gates.json"), str(DATA / "evaluation.json"),
                 "-o", str(out), "--title", "Gates and a run"])
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert "<title>Gates and a run</title>" in page
    assert page.count("<section ") == 2
    assert "interplay report" in page  # the command is on the page
    assert f"wrote {out}" in " ".join(capsys.readouterr().out.split())


def test_default_output_is_report_html_in_the_current_folder(tmp_path, monkeypatch):
    shutil.copy(DATA / "recommend_gates.json", tmp_path / "rec.json")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "rec.json"]) == 0
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def _one_line_error(capsys, *fragments: str) -> None:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("content, fragment", [
    (json.dumps({"rows": [1, 2], "name": "not ours"}), "is not an interplay result"),
    (json.dumps({"kind": "pid", "interplay_version": "7.0.0"}), "newer than this interplay"),
    ('{"kind": "pid", "redundancy": 0.1, ', "truncated"),
])
def test_bad_result_files_exit_2_and_write_nothing(tmp_path, capsys, content, fragment):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "out.html"
    assert main(["report", str(DATA / "quantify_gates.json"), str(bad), "-o", str(out)]) == 2
    _one_line_error(capsys, fragment, "bad.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_output_in_a_missing_folder_exits_2(tmp_path, capsys):
    out = tmp_path / "missing" / "r.html"
    assert main(["report", str(DATA / "quantify_gates.json"), "-o", str(out)]) == 2
    _one_line_error(capsys, "does not exist")
    assert not out.parent.exists()


def test_output_over_an_input_is_refused(tmp_path, capsys):
    result = tmp_path / "pid.json"
    shutil.copy(DATA / "quantify_gates.json", result)
    before = result.read_bytes()
    assert main(["report", str(result), "-o", str(result)]) == 2
    _one_line_error(capsys, "--out", "also an input")
    assert result.read_bytes() == before


def test_missing_result_file_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.json"), "-o", str(tmp_path / "r.html")]) == 2
    _one_line_error(capsys, "no such file")
