"""Hostile input to the CLI and the API: interrupts, output paths, markup, messages (issue 13).

Every test here failed before the fix it guards.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interplay.cli.quantify as quantify_cli
from interplay import pid
from interplay._atomic import atomic_write_text
from interplay.cli.main import main
from interplay.exceptions import InvalidInputError

XOR = np.zeros((2, 2, 2))
XOR[0, 0, 0] = XOR[0, 1, 1] = XOR[1, 0, 1] = XOR[1, 1, 0] = 0.25


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    path = tmp_path / "in.csv"
    pd.DataFrame({"a": a, "b": b, "y": a ^ b}).to_csv(path, index=False)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--no-progress"] if args[0] != "datasets" else list(args))
    out, err = capsys.readouterr()
    return code, out, err


def quantify(capsys: pytest.CaptureFixture[str], data: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "quantify", str(data), "--x1", "a", "--x2", "b", "--y", "y", *extra)


# -- 1. Ctrl-C ------------------------------------------------------------------------------


def test_interrupt_exits_130_with_one_line(capsys, table, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(quantify_cli, "_resolve_roles", interrupted)
    code, out, err = quantify(capsys, table, "--json", str(table.with_name("r.json")))
    assert code == 130
    assert err.strip().splitlines()[-1].startswith("interrupted:")
    assert not table.with_name("r.json").exists()


def test_interrupted_train_says_how_to_resume(capsys, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import interplay.training.run as run_module

    def interrupted(cfg, output_dir, **kwargs):
        Path(output_dir).mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_training", interrupted)
    config = Path(__file__).parents[2] / "examples" / "configs" / "mfeat_late.yaml"
    out_dir = tmp_path / "run"
    code, _, err = run(capsys, "train", str(config), "--out", str(out_dir))
    assert code == 130
    line = err.strip().splitlines()[-1]
    assert line.startswith("interrupted:") and "--resume" in line and str(out_dir) in line


@pytest.mark.slow
def test_real_sigint_during_a_bootstrap_exits_130(table, tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from interplay.cli.main import run; run()", "quantify", str(table), "--x1", "a", "--x2",
         "b", "--y", "y", "--bootstrap", "1000000", "--no-progress", "--json", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists()


# -- 2. what --json may replace -----------------------------------------------------------------


def test_json_onto_the_input_is_refused_and_the_input_kept(capsys, table):
    before = table.read_bytes()
    code, _, err = quantify(capsys, table, "--json", str(table))
    assert code == 2 and "is also an input" in err
    assert table.read_bytes() == before


def test_json_onto_a_link_to_the_input_is_refused(capsys, table):
    link = table.with_name("link.json")
    link.symlink_to(table)
    code, _, err = quantify(capsys, table, "--json", str(link))
    assert code == 2 and "is also an input" in err
    assert link.is_symlink()


def test_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_an_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "secret.json"
    target.write_text("old")
    target.chmod(0o600)
    atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text() == "new"


def test_a_device_is_never_replaced(capsys, table):
    code, _, err = quantify(capsys, table, "--json", os.devnull)
    assert code == 2 and "not a regular file" in err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    with pytest.raises(InvalidInputError, match="not a regular file"):
        atomic_write_text(os.devnull, "x")


def test_export_refuses_a_device_and_a_folder(capsys, tmp_path):
    device = tmp_path / "device.npz"
    device.symlink_to(os.devnull)
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    for target in (device, folder):
        code, _, err = run(capsys, "datasets", "export", "mfeat", str(target), "--overwrite")
        assert code == 2 and err.startswith("error: OUT")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


# -- 3. unwritable outputs: before the work, and recovered after it -----------------------------


@pytest.mark.parametrize("target", ["", "{tmp}", "/proc/interplay-x.json", "{tmp}/no/such.json"])
def test_unwritable_json_is_refused_before_any_work(capsys, table, tmp_path, monkeypatch, target):
    def never(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    monkeypatch.setattr(quantify_cli, "_resolve_roles", never)
    code, _, err = quantify(capsys, table, "--json", target.format(tmp=tmp_path))
    assert code == 2
    assert err.startswith("error: --json") and len(err.strip().splitlines()) == 1


def test_a_late_write_failure_says_where_the_result_went(capsys, table, tmp_path, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    real = quantify_cli._resolve_roles

    def then_remove_folder(*args, **kwargs):
        folder.rmdir()  # the folder is replaced by a file while the command runs
        folder.write_text("")
        return real(*args, **kwargs)

    monkeypatch.setattr(quantify_cli, "_resolve_roles", then_remove_folder)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    code, _, err = quantify(capsys, table, "--json", str(folder / "r.json"))
    assert code == 2 and "saved to" in err
    saved = [p for p in tmp_path.iterdir() if p.name.startswith("interplay-")]
    assert len(saved) == 1 and '"synergy"' in saved[0].read_text()


# -- 4. continuous columns and the discrete estimator -------------------------------------------


def test_float_columns_are_refused_by_the_discrete_estimator(capsys, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "cont.csv"
    pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                  "y": rng.integers(0, 3, 300)}).to_csv(path, index=False)
    code, _, err = quantify(capsys, path, "--estimator", "discrete")
    assert code == 2
    assert "--estimator auto, cluster or copula" in err and len(err.strip().splitlines()) == 1


def test_integer_valued_floats_are_still_discrete(capsys, tmp_path):
    path = tmp_path / "f.csv"
    a = np.tile([0.0, 1.0], 100)
    b = np.repeat([0.0, 1.0], 100)
    pd.DataFrame({"a": a, "b": b, "y": (a != b).astype(int)}).to_csv(path, index=False)
    code, out, _ = quantify(capsys, path, "--estimator", "discrete")
    assert code == 0 and "synergy" in out


# -- 7. square brackets are text, not markup ----------------------------------------------------


def test_brackets_in_a_column_name_survive_the_error(capsys, table):
    code, _, err = run(capsys, "quantify", str(table), "--x1", "a", "--x2", "[bold]zz",
                       "--y", "y")
    assert code == 2 and "no column '[bold]zz'" in err


def test_brackets_in_a_pmf_message_survive(capsys, tmp_path):
    path = tmp_path / "p.npy"
    np.save(path, np.full((2, 2), 0.25))
    code, _, err = run(capsys, "quantify", str(path))
    assert code == 2 and "p[x1, x2, y]" in err


def test_brackets_in_column_labels_are_printed(capsys, tmp_path):
    path = tmp_path / "b.csv"
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    pd.DataFrame({"[red]a": a, "b": b, "y": a ^ b}).to_csv(path, index=False)
    code, out, _ = run(capsys, "quantify", str(path), "--x1", "[red]a", "--x2", "b", "--y", "y")
    assert code == 0 and "[red]a" in out


# -- 8. messages --------------------------------------------------------------------------------


def test_a_folder_as_data_is_called_a_folder(capsys, tmp_path):
    code, _, err = run(capsys, "quantify", str(tmp_path), "--x1", "a", "--x2", "b", "--y", "y")
    assert code == 2 and "is a folder" in err


def test_an_unknown_dataset_name_points_to_the_list(capsys):
    code, _, err = run(capsys, "quantify", "mfeatt", "--x1", "a", "--x2", "b", "--y", "y")
    assert code == 2 and "interplay datasets list" in err and "extension" not in err


@pytest.mark.parametrize(("flag", "value"), [("--bootstrap", "-1"), ("--permutations", "-3"),
                                             ("--confidence", "1.5")])
def test_errors_name_flags_not_python_parameters(capsys, table, flag, value):
    code, _, err = quantify(capsys, table, flag, value)
    assert code == 2 and flag in err
    assert not any(name in err for name in ("n_bootstrap", "n_permutations", "`confidence`"))


def test_recommend_errors_name_flags(capsys, table):
    for flag, value in (("--clusters", "1"), ("--bootstrap", "1")):
        code, _, err = run(capsys, "recommend", str(table), "--x1", "a", "--x2", "b", "--y", "y",
                           flag, value)
        assert code == 2 and f"{flag} must be" in err
        assert "n_clusters" not in err and "n_bootstrap" not in err


def test_neither_data_nor_example_reads_well(capsys):
    code, _, err = run(capsys, "quantify", "--x1", "a", "--x2", "b", "--y", "y")
    assert code == 2 and "not neither" not in err and "got neither" in err


def test_each_warning_is_printed_once(capsys, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "small.csv"
    pd.DataFrame({"a": rng.integers(0, 5, 30), "b": rng.integers(0, 5, 30),
                  "y": rng.integers(0, 3, 30)}).to_csv(path, index=False)
    code, out, err = quantify(capsys, path)
    assert code == 0
    assert (out + err).count("samples per joint cell") == 1


# -- 9. the API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [XOR + 0j, np.array(XOR.tolist(), dtype=object).astype(str)])
def test_complex_and_string_tables_are_refused(p):
    with pytest.raises(InvalidInputError, match="real numbers"):
        pid(p)


def test_object_tables_of_numbers_still_work():
    assert abs(pid(XOR.astype(object)).synergy - 1.0) < 1e-7


def test_unknown_keyword_names_the_valid_options():
    with pytest.raises(InvalidInputError, match="`tol`, `max_iter`, `on_failure`"):
        pid(XOR, "broja", tolerance=1e-6)
    with pytest.raises(InvalidInputError, match="its options are: none"):
        pid(XOR, "imin", tol=1e-6)
