"""`interplay train` and `interplay evaluate`: a tiny run end to end, and every bad input."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from interplay.analysis import pid_agreement, relative_robustness
from interplay.cli.main import main
from interplay.data import MultimodalDataset, save_dataset
from interplay.models import list_fusions
from interplay.training import load_checkpoint
from interplay.training.config import config_from_dict, load_config
from interplay.training.run import run_training

TINY = {
    "dataset": {"name": "mfeat", "max_samples": 240},
    "modalities": ["fou", "kar"],
    "split": {"validation": 0.2, "test": 0.25, "seed": 0},
    "encoders": {m: {"output_dim": 8, "options": {"hidden_dims": [16]}} for m in ("fou", "kar")},
    "fusion": {"name": "late", "output_dim": 8},
    "trainer": {"epochs": 4, "batch_size": 16, "lr": 0.01, "seeds": [0, 1]},
    "baselines": {"unimodal": True},
}
RESULT_KEYS = {"kind", "interplay_version", "format", "config", "data", "model", "seeds", "runs",
               "seconds", "torch_version"}
EVAL_KEYS = {"kind", "interplay_version", "format", "run_dir", "task", "fusion", "seeds",
             "n_test_samples", "settings", "model", "baseline", "comparison", "consistency", "pid",
             "representations", "provenance"}


def flat(text: str) -> str:
    """Undo rich's line wrapping."""
    return " ".join(text.split())


def write_config(folder: Path, config: dict, name: str = "run.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config))
    return path


def quiet_main(*args: str) -> tuple[int, str]:
    """Run the CLI without progress bars; return the exit code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*args, "--no-progress"])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished tiny run: late fusion of two mfeat views, 2 seeds, unimodal baselines."""
    folder = tmp_path_factory.mktemp("train")
    config = write_config(folder, TINY)
    code, printed = quiet_main("train", str(config), "--out", str(folder / "run"),
                               "--json", str(folder / "copy.json"))
    assert code == 0
    return folder / "run", printed, folder


@pytest.fixture(scope="module")
def evaluation(run):
    run_dir, _, folder = run
    out = folder / "eval.json"
    code, printed = quiet_main("evaluate", str(run_dir), "--baseline", "ensemble",
                               "--noise-levels", "0,1,3", "--json", str(out))
    assert code == 0
    return json.loads(out.read_text()), printed


def test_train_writes_the_run_directory(run):
    run_dir, printed, folder = run
    for seed in (0, 1):
        for sub in ("model", "unimodal-fou", "unimodal-kar"):
            assert (run_dir / f"seed-{seed}" / sub / "final.pt").is_file()
            assert (run_dir / f"seed-{seed}" / sub / "final.json").is_file()
    result = json.loads((run_dir / "result.json").read_text())
    assert set(result) == RESULT_KEYS
    assert result["format"] == "interplay-run/1" and result["seeds"] == [0, 1]
    assert json.loads((folder / "copy.json").read_text()) == result
    assert not list(run_dir.rglob("*.tmp"))
    text = flat(printed)
    assert "late fusion" in text and "unimodal:fou" in text and "ensemble" in text
    assert f"wrote {run_dir}" in text


def test_result_schema_and_seed_summary(run):
    result = json.loads((run[0] / "result.json").read_text())
    assert result["data"]["n_samples"] == {"total": 240, "train": 132, "validation": 48,
                                           "test": 60}
    assert result["data"]["modalities"]["fou"] == {"shape": [76], "encoder": "vector",
                                                   "input_shape": [76], "missing_filled": 0}
    assert result["data"]["classes"] == list(range(10))
    assert len(result["data"]["fingerprint"]) == 64
    assert set(result["runs"]) == {"model", "unimodal:fou", "unimodal:kar", "ensemble"}
    for name, entry in result["runs"].items():
        assert [r["seed"] for r in entry["per_seed"]] == [0, 1]
        summary = entry["summary"]
        assert summary["n"] == 2
        for metric in ("test_accuracy", "test_loss", "val_accuracy", "val_loss"):
            values = [r["metrics"][metric] for r in entry["per_seed"]]
            assert summary["values"][metric] == values
            assert summary["mean"][metric] == pytest.approx(np.mean(values))
            assert summary["std"][metric] == pytest.approx(np.std(values, ddof=1))
        if name != "ensemble":
            first = entry["per_seed"][0]
            assert 1 <= first["best_epoch"] <= first["epochs_completed"] <= 4
            assert len(first["history"]) == first["epochs_completed"]
    model = result["runs"]["model"]["summary"]["mean"]
    assert model["test_accuracy"] > 0.5  # ten classes: chance is about 0.1


def test_resolved_config_is_written_and_reloads(run):
    run_dir = run[0]
    result = json.loads((run_dir / "result.json").read_text())
    reloaded = load_config(run_dir / "config.yaml")
    assert reloaded.model_dump(mode="json") == result["config"]
    assert reloaded.target == "digit" and reloaded.modalities == ["fou", "kar"]
    assert reloaded.encoders["kar"].kind == "vector"
    assert Path(reloaded.output_dir) == run_dir.resolve()


def test_checkpoints_load_safely_and_hold_the_best_epoch(run):
    run_dir = run[0]
    result = json.loads((run_dir / "result.json").read_text())
    record = result["runs"]["model"]["per_seed"][1]
    state, meta = load_checkpoint(run_dir / "seed-1" / "model" / "final")
    assert all(isinstance(v, torch.Tensor) for v in state["task"].values())
    assert meta["result"]["best_epoch"] == record["best_epoch"]
    assert meta["config"]["seed"] == 1


def test_evaluate_agrees_with_training(run, evaluation):
    result = json.loads((run[0] / "result.json").read_text())
    ev, printed = evaluation
    assert set(ev) == EVAL_KEYS
    assert ev["provenance"]["command"].startswith("interplay evaluate ")
    assert ev["format"] == "interplay-evaluation/1" and ev["n_test_samples"] == 60
    model_acc = [r["metrics"]["test_accuracy"] for r in result["runs"]["model"]["per_seed"]]
    ens_acc = [r["metrics"]["test_accuracy"] for r in result["runs"]["ensemble"]["per_seed"]]
    assert ev["model"]["clean"]["per_seed"] == pytest.approx(model_acc, abs=1e-12)
    assert ev["baseline"]["clean"]["per_seed"] == pytest.approx(ens_acc, abs=1e-12)
    for m in ("fou", "kar"):
        curve = ev["model"]["noisy"][m]["mean"]
        assert len(curve) == 3 and curve[0] == pytest.approx(ev["model"]["clean"]["mean"])
        assert 0 <= ev["model"]["dropped"][m]["mean"] <= 1
        expected = relative_robustness(curve, ev["baseline"]["noisy"][m]["mean"], [0, 1, 3])
        assert ev["comparison"]["relative_robustness"][m] == pytest.approx(expected)
    text = flat(printed)
    assert "fou dropped" in text and "relative" in text and "PID of fou and kar" in text


def test_evaluate_pid_and_consistency_are_coherent(evaluation):
    ev = evaluation[0]
    pid = ev["pid"]
    data = pid["data"]
    atoms = [data[a] for a in ("redundancy", "unique1", "unique2", "synergy")]
    assert sum(atoms) == pytest.approx(data["mi_joint"], abs=1e-6)
    assert min(atoms) >= 0 and data["n_samples"] == 60
    assert pid["discretization"]["n_clusters"] == 5 and pid["modalities"] == ["fou", "kar"]
    for model, alpha in zip(pid["model"]["per_seed"], pid["agreement"]["per_seed"],
                            strict=True):
        assert alpha == pytest.approx(pid_agreement(data, model))
    (pair,) = ev["consistency"]
    assert pair["modalities"] == ["fou", "kar"] and 0 <= pair["mean"] <= 1


def test_evaluate_writes_into_the_run_directory_by_default(run, tmp_path):
    run_dir = tmp_path / "copy"
    shutil.copytree(run[0], run_dir)
    code, _ = quiet_main("evaluate", str(run_dir), "--pid-modalities", "kar,fou",
                         "--clusters", "3", "--components", "0")
    assert code == 0
    ev = json.loads((run_dir / "evaluation.json").read_text())
    assert ev["baseline"] is None and ev["comparison"] is None
    assert ev["pid"]["modalities"] == ["kar", "fou"]
    assert ev["pid"]["discretization"]["n_components"] is None


def test_evaluate_against_another_run(run, tmp_path):
    other = {**TINY, "fusion": {"name": "early", "output_dim": 8},
             "trainer": {**TINY["trainer"], "seeds": [0]}, "baselines": {"unimodal": False}}
    config = write_config(tmp_path, other)
    assert quiet_main("train", str(config), "--out", str(tmp_path / "early"))[0] == 0
    out = tmp_path / "e.json"
    code, _ = quiet_main("evaluate", str(tmp_path / "early"), "--baseline", str(run[0]),
                         "--json", str(out))
    assert code == 0
    ev = json.loads(out.read_text())
    assert ev["fusion"] == "early" and ev["baseline"]["name"] == str(run[0])
    assert len(ev["baseline"]["clean"]["per_seed"]) == 2
    assert set(ev["comparison"]["effective_robustness"]) == {"fou", "kar"}


def test_a_pickled_checkpoint_is_refused_not_unpickled(run, tmp_path, capsys):
    run_dir = tmp_path / "tampered"
    shutil.copytree(run[0], run_dir)
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    pt = run_dir / "seed-0" / "model" / "final.pt"
    pt.write_bytes(pickle.dumps({"task": Payload()}, protocol=2))
    record = json.loads(pt.with_suffix(".json").read_text())
    record["sha256"] = hashlib.sha256(pt.read_bytes()).hexdigest()
    pt.with_suffix(".json").write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--no-progress"]) == 2
    assert "refused by the safe loader" in flat(capsys.readouterr().err)
    assert not marker.exists() and not (run_dir / "evaluation.json").exists()


def test_regression_from_a_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 3)), rng.standard_normal((300, 2))
    y = a[:, 0] + 2 * b[:, 0] + 0.1 * rng.standard_normal(300)
    data = save_dataset(MultimodalDataset({"a": a, "b": b}, targets={"y": y}),
                        tmp_path / "toy.npz")
    config = write_config(tmp_path, {
        "dataset": {"path": str(data)}, "task": "regression",
        "encoders": {"a": {"output_dim": 8}, "b": {"output_dim": 8}},
        "fusion": {"name": "early", "output_dim": 16},
        "trainer": {"epochs": 25, "lr": 0.01, "batch_size": 32, "patience": None},
    })
    assert quiet_main("train", str(config), "--out", str(tmp_path / "run"))[0] == 0
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    test_mse = result["runs"]["model"]["summary"]["mean"]["test_mse"]
    assert test_mse < 0.2 * np.var(y)  # the target's variance is 5: the model learned
    assert result["data"]["classes"] is None
    code, _ = quiet_main("evaluate", str(tmp_path / "run"), "--json", str(tmp_path / "e.json"))
    assert code == 0
    ev = json.loads((tmp_path / "e.json").read_text())
    assert ev["pid"] is None and ev["consistency"] is None
    assert ev["model"]["metric"] == "neg_mse"
    assert ev["model"]["clean"]["mean"] == pytest.approx(-test_mse, rel=1e-5)
    assert ev["model"]["noisy"]["b"]["mean"][-1] < ev["model"]["clean"]["mean"]

    save_dataset(MultimodalDataset({"a": a + 1, "b": b}, targets={"y": y}), data)
    assert main(["evaluate", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "changed since training" in flat(capsys.readouterr().err)


def test_same_config_and_seed_give_the_same_model(tmp_path):
    config = write_config(tmp_path, {**TINY, "trainer": {**TINY["trainer"], "seeds": [3]},
                                     "baselines": {"unimodal": False}})
    for name in ("one", "two"):
        assert quiet_main("train", str(config), "--out", str(tmp_path / name))[0] == 0
    first, second = (json.loads((tmp_path / n / "result.json").read_text())["runs"]["model"]
                     for n in ("one", "two"))
    assert first["per_seed"][0]["metrics"] == second["per_seed"][0]["metrics"]
    assert first["summary"]["std"]["test_accuracy"] is None  # one seed: no spread
    w1, w2 = (load_checkpoint(tmp_path / n / "seed-3" / "model" / "final")[0]["task"]
              for n in ("one", "two"))
    assert all(torch.equal(w1[k], w2[k]) for k in w1)


def test_resume_after_an_interruption_gives_the_uninterrupted_result(tmp_path, capsys):
    config = write_config(tmp_path, {**TINY, "baselines": {"unimodal": False},
                                     "trainer": {**TINY["trainer"], "patience": None}})
    run_dir = tmp_path / "run"
    assert quiet_main("train", str(config), "--out", str(run_dir))[0] == 0
    done = json.loads((run_dir / "result.json").read_text())["runs"]["model"]["per_seed"]
    # interrupted after seed 0's last epoch checkpoint, before its final model and seed 1
    (run_dir / "result.json").unlink()
    for suffix in (".pt", ".json"):
        (run_dir / "seed-0" / "model" / f"final{suffix}").unlink()
    shutil.rmtree(run_dir / "seed-1")
    assert quiet_main("train", str(config), "--out", str(run_dir), "--resume")[0] == 0
    again = json.loads((run_dir / "result.json").read_text())["runs"]["model"]["per_seed"]
    assert [r["resumed_from_epoch"] for r in again] == [4, None]
    for before, after in zip(done, again, strict=True):
        assert after["metrics"] == before["metrics"]
        assert after["best_epoch"] == before["best_epoch"]

    capsys.readouterr()
    assert main(["train", str(config), "--out", str(run_dir), "--resume", "--no-progress"]) == 2
    assert "has already finished" in flat(capsys.readouterr().err)
    (run_dir / "result.json").unlink()
    assert main(["train", str(config), "--out", str(run_dir), "--resume", "--seeds", "0",
                 "--no-progress"]) == 2
    assert "the config differs from the interrupted run's in trainer" in flat(
        capsys.readouterr().err)


def test_missing_modality_entries_are_filled_and_counted(tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((120, 3)), rng.standard_normal((120, 2))
    a[:7] = np.nan
    y = (a[:, 0] > 0).astype(int) + 2 * (b[:, 0] > 0)
    ds = MultimodalDataset({"a": a, "b": b}, targets={"y": y},
                           observed={"a": ~np.isnan(a[:, 0])})
    data = save_dataset(ds, tmp_path / "gaps.npz")
    config = write_config(tmp_path, {"dataset": {"path": str(data)},
                                     "trainer": {"epochs": 2, "seeds": [0]}})
    assert quiet_main("train", str(config), "--out", str(tmp_path / "run"))[0] == 0
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["data"]["modalities"]["a"]["missing_filled"] == 7
    assert result["data"]["modalities"]["b"]["missing_filled"] == 0
    assert np.isfinite(result["runs"]["model"]["summary"]["mean"]["test_loss"])


@pytest.mark.parametrize("fusion", sorted(list_fusions()))
def test_every_registered_fusion_trains_from_a_config(tmp_path, fusion):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((48, 3)), rng.standard_normal((48, 2))
    data = save_dataset(MultimodalDataset({"a": a, "b": b}, targets={"y": (a[:, 0] > 0) * 1}),
                        tmp_path / "toy.npz")
    cfg = config_from_dict({"dataset": {"path": str(data)},
                            "encoders": {m: {"output_dim": 4} for m in "ab"},
                            "fusion": {"name": fusion, "output_dim": 8},
                            "trainer": {"epochs": 1, "batch_size": 16}})
    result = run_training(cfg, output_dir=tmp_path / "run", progress=False)
    assert result["model"]["fusion"] == fusion and result["model"]["n_parameters"] > 0
    assert (tmp_path / "run" / "seed-0" / "model" / "final.pt").is_file()


BAD_CONFIGS = [
    ({"trainer": {"epoch": 3}}, "trainer.epoch: unknown key"),
    ({"trainer": {"epochs": "three"}}, "trainer.epochs: input should be a valid integer"),
    ({"trainer": {"epochs": -1}}, "trainer.epochs: input should be greater than or equal to 1"),
    ({"fusion": {"name": "concat"}}, "fusion.name: unknown fusion 'concat'; choose one of"),
    ({"dataset": {"path": "no/such/file.npz"}}, "dataset.path: no such file or folder"),
    ({"modalities": ["fou", "audio"]},
     "modalities: 'audio' not in the dataset, which has 'fou', 'fac', 'kar'"),
    ({"target": "parity"}, "target: 'parity' not in the dataset, which has 'digit'"),
    ({"encoders": {"pix": {"output_dim": 4}}},
     "encoders: 'pix' not in the run's modalities 'fou', 'kar'."),
    ({"encoders": {"fou": {"options": {"hidden": 3}}}},
     "encoders.fou: Bad option for a 'vector' encoder"),
    ({"encoders": {"fou": {"kind": "sequence"}}},
     "encoders.fou.kind: 'sequence' does not fit samples of shape (76,)"),
    ({"fusion": {"name": "tensor", "options": {"rank": 2}}},
     "fusion: Fusion 'tensor' got unknown option(s) ['rank']"),
    ({"dataset": {"name": "mfeat", "options": {"n_samples": 3}}},
     "dataset.options: load_dataset('mfeat') got an argument it does not take"),
]


@pytest.mark.parametrize(("change", "expected"), BAD_CONFIGS)
def test_bad_config_exits_2_and_writes_nothing(tmp_path, capsys, change, expected):
    config = {**TINY, "output_dir": str(tmp_path / "run")}
    for key, value in change.items():  # trainer and fusion keep their other settings
        merge = key in ("trainer", "fusion")
        config[key] = {**config[key], **value} if merge else value
    path = write_config(tmp_path, config)
    capsys.readouterr()
    assert main(["train", str(path), "--no-progress"]) == 2
    assert expected in flat(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--seeds", "0,x"], "--seeds must be a comma-separated list of int values"),
        (["--seeds", "1,1"], "trainer.seeds: seeds must be distinct"),
        (["--json", "nowhere/out.json"], "--json: the folder 'nowhere' does not exist"),
    ],
)
def test_bad_train_options_exit_2(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path, {**TINY, "output_dir": "run"})
    capsys.readouterr()
    assert main(["train", str(path), *args, "--no-progress"]) == 2
    assert expected in flat(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]


def test_bad_yaml_and_missing_config_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset:\n  name: mfeat\n trainer: 3\n")
    assert main(["train", str(bad)]) == 2
    assert "is not valid YAML at line 3" in flat(capsys.readouterr().err)
    assert main(["train", str(tmp_path / "none.yaml")]) == 2
    assert "does not exist" in flat(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_an_existing_output_folder_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    path = write_config(tmp_path, {**TINY, "output_dir": str(tmp_path / "run")})
    assert main(["train", str(path), "--no-progress"]) == 2
    assert "already exists and is not an empty folder" in flat(capsys.readouterr().err)
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["keep.txt"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message when CUDA is absent")
def test_unavailable_device_exits_2(tmp_path, capsys):
    path = write_config(tmp_path, {**TINY, "output_dir": str(tmp_path / "run")})
    assert main(["train", str(path), "--device", "cuda", "--no-progress"]) == 2
    assert "CUDA is not available" in flat(capsys.readouterr().err)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--noise-levels", "0"], "`noise_levels` must hold at least two levels"),
        (["--noise-levels", "1,0"], "`noise_levels` must be a non-empty, strictly increasing"),
        (["--noise-levels", "0,a"], "--noise-levels must be a comma-separated list of float"),
        (["--pid-modalities", "fou,pix"],
         "`pid_modalities`: 'pix' not in the run's modalities 'fou', 'kar'."),
        (["--pid-modalities", "fou,fou"], "name two different modalities"),
        (["--baseline", "unimodal:pix"],
         "`baseline`='unimodal:pix': 'pix' not in the run's modalities"),
        (["--clusters", "1"], "--clusters must be at least 2"),
        (["--repeats", "0"], "--repeats must be at least 1"),
    ],
)
def test_bad_evaluate_options_exit_2(run, tmp_path, capsys, args, expected):
    out = tmp_path / "e.json"
    capsys.readouterr()
    assert main(["evaluate", str(run[0]), *args, "--json", str(out), "--no-progress"]) == 2
    assert expected in flat(capsys.readouterr().err)
    assert not out.exists()


def test_evaluate_needs_a_finished_run(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "is not a finished run directory" in flat(capsys.readouterr().err)


def test_ensemble_baseline_needs_unimodal_models(run, tmp_path, capsys):
    run_dir = tmp_path / "nobase"
    shutil.copytree(run[0], run_dir)
    result = json.loads((run_dir / "result.json").read_text())
    result["config"]["baselines"]["unimodal"] = False
    (run_dir / "result.json").write_text(json.dumps(result))
    assert main(["evaluate", str(run_dir), "--baseline", "ensemble", "--no-progress"]) == 2
    assert "this run trained no unimodal baselines" in flat(capsys.readouterr().err)


def test_baseline_run_on_other_data_is_refused(run, tmp_path, capsys):
    run_dir = tmp_path / "other-split"
    shutil.copytree(run[0], run_dir)
    result = json.loads((run_dir / "result.json").read_text())
    result["config"]["dataset"]["standardize"] = False
    (run_dir / "result.json").write_text(json.dumps(result))
    assert main(["evaluate", str(run[0]), "--baseline", str(run_dir), "--json",
                 str(tmp_path / "e.json"), "--no-progress"]) == 2
    assert "the baseline must be trained on the same data, split" in flat(
        capsys.readouterr().err)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "floor"), [("mfeat_late", 0.95), ("av_digits_late", 0.9)])
def test_example_configs_train_and_evaluate(tmp_path, name, floor):
    if name.startswith("av") and shutil.which("espeak-ng") is None:
        pytest.skip("av-digits needs the espeak-ng program")
    config = Path(__file__).resolve().parents[2] / "examples" / "configs" / f"{name}.yaml"
    assert quiet_main("train", str(config), "--out", str(tmp_path / "run"))[0] == 0
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["runs"]["model"]["summary"]["mean"]["test_accuracy"] > floor
    code, _ = quiet_main("evaluate", str(tmp_path / "run"), "--baseline", "ensemble")
    assert code == 0
    ev = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert ev["model"]["clean"]["per_seed"] == pytest.approx(
        [r["metrics"]["test_accuracy"] for r in result["runs"]["model"]["per_seed"]])
