"""`interplay datasets list|info|export` through interplay.cli.main.main."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interplay.cli import datasets as datasets_cli
from interplay.cli import main as cli_main
from interplay.data import list_datasets, load_dataset, read_dataset


@pytest.fixture(scope="module", autouse=True)
def _registered():
    """Register the sub-app on the real CLI unless the lead's main.py already does."""
    if not any(g.name == "datasets" for g in cli_main.app.registered_groups):
        datasets_cli.register(cli_main.app)


def test_list(capsys):
    assert cli_main.main(["datasets", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list_datasets()
    assert cli_main.main(["datasets", "list"]) == 0
    assert "noisy-digits" in capsys.readouterr().out


def test_info(capsys):
    assert cli_main.main(["datasets", "info", "nutrimouse", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_samples"] == 40
    assert info["modalities"]["gene"]["shape"] == [120]
    assert info["baseline"]["scores"]["genotype"]["gene"] == 1.0
    assert "GPL" in info["licence"]
    assert cli_main.main(["datasets", "info", "mfeat"]) == 0
    text = capsys.readouterr().out
    for word in ("fac", "(216,)", "CC BY 4.0", "baseline", "0.988"):
        assert word in text


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_export_round_trips(tmp_path, capsys, suffix):
    out = tmp_path / f"nm{suffix}"
    assert cli_main.main(["datasets", "export", "nutrimouse", str(out)]) == 0
    back = read_dataset(out)
    ref = load_dataset("nutrimouse")
    np.testing.assert_array_equal(back.modalities["lipid"], ref.modalities["lipid"])
    np.testing.assert_array_equal(back.targets["diet"], ref.targets["diet"])
    assert back.metadata == ref.metadata
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
    # refuses to overwrite unless asked
    assert cli_main.main(["datasets", "export", "nutrimouse", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli_main.main(["datasets", "export", "linnerud", str(out), "--overwrite"]) == 0
    assert read_dataset(out).modality_names == ("exercise", "physiological")


def test_errors(tmp_path, capsys):
    assert cli_main.main(["datasets", "info", "mnist"]) == 2
    assert "must be one of" in capsys.readouterr().err
    assert cli_main.main(["datasets", "export", "linnerud", str(tmp_path / "x.csv")]) == 2
    assert ".npz or .parquet" in capsys.readouterr().err
    assert cli_main.main(["datasets", "export", "mnist", str(tmp_path / "x.npz")]) == 2
    assert not (tmp_path / "x.npz").exists()
