"""`interplay quantify`: happy paths on every file type, and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interplay import pid
from interplay.cli.main import main
from interplay.cli.quantify import write_json_atomically
from interplay.data.tables import columns_of, read_example, read_table
from interplay.exceptions import DataFormatError
from interplay.info.estimate import plugin_pid


@pytest.fixture
def samples() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 1500
    a, b, c = (rng.integers(0, 2, n) for _ in range(3))
    return pd.DataFrame({"a": a, "c": c, "b": b, "y": (a ^ b) + 2 * c})


def flat(text: str) -> str:
    """Undo rich's line wrapping."""
    return " ".join(text.split())


def cli(*args: str) -> int:
    return main(["quantify", *args, "--no-progress"])


def test_example_runs_and_matches_its_generating_distribution(capsys):
    assert cli("--example", "gates") == 0
    out = capsys.readouterr().out
    for word in ("redundancy", "unique to x1", "synergy", "I(X1,X2;Y)"):
        assert word in out
    frame, spec = read_example("gates")
    r = plugin_pid(frame[spec.x1], frame[spec.x2], frame[spec.y], progress=False)
    # exact PID of benchmarks/make_bundled_gates.py's distribution: R 1.264, U 0, S 0.898
    assert r.redundancy == pytest.approx(1.264, abs=0.05)
    assert r.synergy == pytest.approx(0.898, abs=0.06)
    assert r.unique1 < 0.06 and r.unique2 < 0.06
    assert f"{r.redundancy:.4f}" in out


def test_csv_with_json_output_round_trips(tmp_path, samples, capsys):
    data, out = tmp_path / "s.csv", tmp_path / "pid.json"
    samples.to_csv(data, index=False)
    code = cli(str(data), "--x1", "a,c", "--x2", "b", "--y", "y", "--bootstrap", "20",
               "--permutations", "20", "--seed", "1", "--json", str(out), "--method", "mmi")
    assert code == 0
    printed = capsys.readouterr().out
    assert "95% interval" in printed and "p-value" in printed
    written = json.loads(out.read_text())
    expected = plugin_pid(samples[["a", "c"]], samples["b"], samples["y"], method="mmi",
                        n_bootstrap=20, n_permutations=20, random_state=1, progress=False)
    assert written.pop("kind") == "pid" and written.pop("interplay_version")
    provenance = written.pop("provenance")
    assert provenance["seed"] == 1 and provenance["estimator"] == "plug-in"
    assert len(provenance["data_sha256"]) == 64 and "--method mmi" in provenance["command"]
    settings = written.pop("settings")
    exp = expected.to_dict()
    exp_settings = exp.pop("settings")
    assert written == exp
    assert settings.pop("bootstrap")["held_fixed"] == "nothing"  # what the resamples kept
    assert settings == {**exp_settings, "estimator": "plugin", "data": str(data),
                        "x1": ["a", "c"], "x2": ["b"], "y": ["y"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pid.json", "s.csv"]


def test_copy_on_parquet_gives_one_bit_unique_each(tmp_path, samples, capsys):
    data = tmp_path / "s.parquet"
    samples.assign(copy=2 * samples.a + samples.b).to_parquet(data)
    assert cli(str(data), "--x1", "a", "--x2", "b", "--y", "copy", "--json",
               str(tmp_path / "r.json")) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["unique1"] == pytest.approx(1, abs=0.02)
    assert r["unique2"] == pytest.approx(1, abs=0.02)
    assert r["method"] == "broja"


def test_npz_2d_array_is_one_modality_or_separate_columns(tmp_path, samples):
    data = tmp_path / "s.npz"
    np.savez(data, m1=samples[["a", "c"]].to_numpy(), m2=samples.b.to_numpy(),
             y=samples.y.to_numpy())
    frame = read_table(data)
    assert list(frame.columns) == ["m1:0", "m1:1", "m2", "y"]
    assert columns_of(frame, "m1") == ["m1:0", "m1:1"]
    whole, split = tmp_path / "whole.json", tmp_path / "split.json"
    assert cli(str(data), "--x1", "m1", "--x2", "m2", "--y", "y", "--json", str(whole)) == 0
    assert cli(str(data), "--x1", "m1:0,m1:1", "--x2", "m2", "--y", "y", "--json",
               str(split)) == 0
    w, s = json.loads(whole.read_text()), json.loads(split.read_text())
    assert w["synergy"] == pytest.approx(s["synergy"], abs=1e-12)
    assert w["synergy"] == pytest.approx(1, abs=0.02)  # a XOR b, c known to x1 only
    assert w["unique1"] == pytest.approx(1, abs=0.02)


def test_help_teaches_with_examples(capsys):
    assert main(["quantify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples" in out and "--example gates" in out and "--bootstrap" in out


def test_real_subprocess_python_m_interplay(tmp_path):
    out = tmp_path / "g.json"
    proc = subprocess.run(
        [sys.executable, "-m", "interplay", "quantify", "--example", "gates", "--method", "mmi",
         "--json", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "synergy" in proc.stdout
    assert json.loads(out.read_text())["n_samples"] == 2000


# ---------------------------------------------------------------- bad input


def write(tmp_path: Path, name: str, frame: pd.DataFrame) -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


CASES = {
    "missing column": (["--x1", "a", "--x2", "nope", "--y", "y"], "no column 'nope'"),
    "same column in x1 and x2": (
        ["--x1", "a", "--x2", "a", "--y", "y"], "'a' is used in --x1 and --x2"
    ),
    "listed twice": (["--x1", "a,a", "--x2", "b", "--y", "y"], "'a' is used twice in --x1"),
    "target as source": (["--x1", "a", "--x2", "y", "--y", "y"], "'y' is used in --x2 and --y"),
    "missing option": (["--x1", "a", "--x2", "b"], "--y is required"),
    "empty name": (["--x1", "a,", "--x2", "b", "--y", "y"], "empty column name"),
    "single-valued target": (["--x1", "a", "--x2", "b", "--y", "const"], "single value"),
    "missing values": (["--x1", "a", "--x2", "holes", "--y", "y"], "'holes' (--x2) has 2 missing"),
    "bad method": (["--x1", "a", "--x2", "b", "--y", "y", "--method", "nope"], "--method must be one of"),
    "bias without bootstrap": (["--x1", "a", "--x2", "b", "--y", "y", "--bias-correction"],
                               "set --bootstrap"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_column_choices_exit_nonzero_and_write_nothing(case, tmp_path, samples, capsys):
    frame = samples.assign(const=1, holes=samples.b.astype(float))
    frame.loc[[3, 10], "holes"] = np.nan
    data = write(tmp_path, "s.csv", frame)
    args, message = CASES[case]
    out = tmp_path / "r.json"
    assert cli(str(data), *args, "--json", str(out)) == 2
    assert message in flat(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def _corrupt_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "bad.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    path.write_bytes(path.read_bytes()[:20])
    return path


def _truncated_npz(tmp_path: Path) -> Path:
    path = tmp_path / "bad.npz"
    np.savez(path, a=np.arange(100), b=np.arange(100))
    path.write_bytes(path.read_bytes()[:150])
    return path


def _ragged_npz(tmp_path: Path) -> Path:
    path = tmp_path / "ragged.npz"
    np.savez(path, a=np.arange(10) % 2, b=np.arange(9) % 2, y=np.arange(10) % 2)
    return path


def _unknown(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_text("a,b,y\n0,1,1\n")
    return path


def _empty_csv(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_text("")
    return path


def _huge_alphabet(tmp_path: Path) -> Path:
    n = 600
    return write(tmp_path, "huge.csv", pd.DataFrame({"a": np.arange(n), "b": np.arange(n)[::-1],
                                                     "y": (np.arange(n) * 7) % n}))


FILE_CASES = {
    "unknown file type": (_unknown, "unknown file type '.txt'"),
    "missing file": (lambda d: d / "absent.csv", "no such file"),
    "corrupt parquet": (_corrupt_parquet, "corrupt or truncated"),
    "truncated npz": (_truncated_npz, "corrupt or truncated"),
    "ragged npz": (_ragged_npz, "different numbers of rows"),
    "empty csv": (_empty_csv, "corrupt or truncated"),
    "huge alphabet": (_huge_alphabet, "more than the limit"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_files_exit_nonzero_and_write_nothing(case, tmp_path, capsys):
    make, message = FILE_CASES[case]
    data = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = cli(str(data), "--x1", "a", "--x2", "b", "--y", "y", "--estimator", "plugin", "--json",
               str(tmp_path / "r.json"))
    assert code == 2
    assert message in flat(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "got neither"),
        (["x.csv", "--example", "gates"], "got both"),
        (["--example", "nope"], "unknown example 'nope'"),
        (["--example", "gates", "--json", "/no/such/dir/r.json"], "does not exist"),
    ],
)
def test_data_or_example_usage_errors(args, message, capsys):
    assert cli(*args) == 2
    assert message in flat(capsys.readouterr().err)


def test_non_integer_option_is_a_usage_error(capsys):
    assert cli("--example", "gates", "--bootstrap", "many") == 2


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")

    with pytest.raises(TypeError):
        write_json_atomically(target, 123)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
    write_json_atomically(target, '{"a": 1}')
    assert json.loads(target.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_read_table_errors_are_data_format_errors(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        read_table(tmp_path / "x.parquet")
    np.savez(tmp_path / "s.npz", s=np.float64(3.0))
    with pytest.raises(DataFormatError, match="scalar"):
        read_table(tmp_path / "s.npz")


def test_example_matches_pid_of_generator_distribution():
    # the exact PID quoted in the generator's docstring
    p = np.zeros((4, 4, 6))
    for s in (0, 1):
        for a in (0, 1):
            for b in (0, 1):
                p[2 * s + a, 2 * s + b, :] += 0.125 * 0.05 / 6
                p[2 * s + a, 2 * s + b, 3 * s + a + b] += 0.125 * 0.95
    r = pid(p)
    assert (round(r.redundancy, 3), round(r.synergy, 3)) == (1.264, 0.898)
    assert r.unique1 < 1e-6 and r.unique2 < 1e-6


def test_bundled_dataset_name_is_accepted_as_data(tmp_path, capsys):
    out = tmp_path / "pid.json"
    # 40 mice, a lipid with 29 values: auto counts them, and the plug-in's warning is printed once
    code = main(["quantify", "nutrimouse", "--x1", "genotype", "--x2", "lipid:0", "--y", "diet",
                 "--estimator", "auto", "--method", "mmi", "--no-progress", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr()
    assert (printed.out + printed.err).count("samples per joint cell") == 1
    result = json.loads(out.read_text())
    assert result["n_samples"] == 40
    # genotype is independent of diet by design of the study (balanced 2 x 5 layout)
    assert abs(result["mi_x1"]) < 1e-9


def test_npy_probability_table_is_decomposed_exactly(tmp_path):
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[0, 1, 1] = p[1, 0, 1] = p[1, 1, 0] = 0.25
    np.save(tmp_path / "xor.npy", p)
    out = tmp_path / "xor.json"
    assert main(["quantify", str(tmp_path / "xor.npy"), "--json", str(out)]) == 0
    assert abs(json.loads(out.read_text())["synergy"] - 1.0) < 1e-7


@pytest.mark.parametrize(
    "table,message",
    [(-np.full((2, 2, 2), 0.125), "non-negative"), (np.full((2, 2, 2), 0.25), "sum to 1")],
)
def test_npy_bad_probabilities_exit_nonzero_and_write_nothing(tmp_path, capsys, table, message):
    np.save(tmp_path / "p.npy", table)
    out = tmp_path / "p.json"
    assert main(["quantify", str(tmp_path / "p.npy"), "--json", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_loading_the_command_line_does_not_import_torch_or_pydantic():
    code = ("import sys, interplay.cli.main; "
            "print('torch' in sys.modules, 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
