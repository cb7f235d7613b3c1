"""Run configs: defaults, overrides, and a clear error for every kind of bad config."""

from __future__ import annotations

from pathlib import Path

import pytest

from interplay.exceptions import InvalidInputError
from interplay.models import list_fusions
from interplay.training.config import RunConfig, config_from_dict, load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "configs"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(InvalidInputError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


def test_minimal_config_gets_documented_defaults(tmp_path):
    cfg = load_config(write(tmp_path, "dataset: {name: mfeat}\n"))
    assert cfg.dataset.name == "mfeat" and cfg.modalities is None and cfg.task == "classification"
    assert (cfg.split.validation, cfg.split.test, cfg.split.seed) == (0.1, 0.2, 0)
    assert (cfg.fusion.name, cfg.fusion.output_dim) == ("late", 64)
    assert (cfg.trainer.epochs, cfg.trainer.lr, cfg.trainer.seeds) == (20, 1e-3, [0])
    assert cfg.loss_weights() == {"cross_entropy": 1.0}
    assert cfg.metric_names() == ["accuracy"]
    assert cfg.balance is None and cfg.objective is None and not cfg.trainer.modality_curves
    assert not cfg.baselines.unimodal and cfg.dataset.standardize


@pytest.mark.parametrize("name", ["mfeat_late.yaml", "av_digits_late.yaml"])
def test_example_configs_are_valid(name):
    cfg = load_config(EXAMPLES / name)
    assert cfg.fusion.name in list_fusions()
    assert cfg.output_dir


def test_overrides_replace_values_by_dotted_path(tmp_path):
    path = write(tmp_path, "dataset: {name: mfeat}\ntrainer: {epochs: 3}\n")
    cfg = load_config(path, {"trainer.seeds": [4, 5], "output_dir": "x", "split.seed": 2})
    assert cfg.trainer.seeds == [4, 5] and cfg.trainer.epochs == 3
    assert cfg.output_dir == "x" and cfg.split.seed == 2


def test_unknown_keys_name_the_path_and_the_allowed_keys(tmp_path):
    msg = error_of(tmp_path, "dataset: {name: mfeat}\ntrainer: {epoch: 3}\n"
                             "encoders: {fou: {kind: vector, outdim: 3}}\nsplitt: {}\n")
    assert "3 problems" in msg
    assert "trainer.epoch: unknown key; allowed here: epochs, batch_size" in msg
    assert "encoders.fou.outdim: unknown key; allowed here: kind, output_dim, options." in msg
    assert "splitt: unknown key; allowed here: dataset, modalities" in msg


def test_wrong_type_names_field_expectation_and_value(tmp_path):
    msg = error_of(tmp_path, "dataset: {name: mfeat}\ntrainer: {batch_size: ten}\n")
    assert "trainer.batch_size: input should be a valid integer" in msg
    assert "got 'ten'" in msg


def test_negative_epochs(tmp_path):
    msg = error_of(tmp_path, "dataset: {name: mfeat}\ntrainer: {epochs: -3}\n")
    assert "trainer.epochs: input should be greater than or equal to 1; got -3." in msg


def test_unknown_fusion_lists_the_registered_ones(tmp_path):
    msg = error_of(tmp_path, "dataset: {name: mfeat}\nfusion: {name: tensr}\n")
    assert "fusion.name: unknown fusion 'tensr'; choose one of " in msg
    assert ", ".join(list_fusions()) in msg


def test_bad_yaml_reports_line_and_column(tmp_path):
    msg = error_of(tmp_path, "dataset:\n  name: mfeat\n trainer: 3\n")
    assert "is not valid YAML at line 3, column 2" in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "got an empty file"),
        ("- a\n- b\n", "must hold a mapping of sections"),
        ("trainer: {epochs: 2}\n", "dataset: required, but missing."),
        ("dataset: {}\n", "give exactly one of `name` (a bundled dataset) or `path`"),
        ("dataset: {name: mfeat, path: a.npz}\n", "give exactly one of `name`"),
        ("dataset: {name: nosuch}\n", "unknown bundled dataset 'nosuch'; choose one of"),
        ("dataset: {name: mfeat, columns: {a: x}}\n", "columns apply to a file"),
        ("dataset: {path: a.npz, options: {n_samples: 3}}\n", "they need `name`"),
        ("dataset: {name: mfeat}\nsplit: {validation: 0.5, test: 0.5}\n",
         "validation + test must be < 1"),
        ("dataset: {name: mfeat}\nsplit: {test: 0}\n", "split.test: input should be greater"),
        ("dataset: {name: mfeat}\nmodalities: [fou]\n", "modalities: list should have at least 2"),
        ("dataset: {name: mfeat}\nmodalities: [fou, fou]\n", "modalities must be distinct"),
        ("dataset: {name: mfeat}\ntrainer: {seeds: []}\n", "trainer.seeds: list should have"),
        ("dataset: {name: mfeat}\ntrainer: {seeds: [1, 1]}\n", "seeds must be distinct"),
        ("dataset: {name: mfeat}\ntrainer: {optimizer: adamax}\n",
         "trainer.optimizer: input should be 'adam', 'adamw' or 'sgd'"),
        ("dataset: {name: mfeat}\nlosses: {mse: 1}\n",
         "losses ['mse'] do not fit task 'classification'; use cross_entropy"),
        ("dataset: {name: mfeat}\ntrainer: {monitor: val_mse}\n",
         "trainer.monitor must be one of train_loss, train_accuracy, val_loss, val_accuracy"),
        ("dataset: {name: mfeat}\nsplit: {validation: 0}\ntrainer: {monitor: val_loss}\n",
         "must be one of train_loss, train_accuracy, got 'val_loss'"),
        ("dataset: {name: mfeat}\nencoders: {fou: {kind: graph}}\n",
         "encoders.fou.kind: input should be 'vector', 'image', 'sequence', 'audio' or "
         "'embedding'"),
        ("dataset: {name: mfeat}\nhead: {dropout: 1.5}\n", "head.dropout: input should be less"),
        ("dataset: {name: mfeat}\nbalance: {name: modality_dropout, options: {p: 1}}\n",
         "balance: `p` must be < 1.0, got 1.0."),
        ("dataset: {name: mfeat}\nbalance: {name: ogm, options: {}}\n",
         "balance: `balancer` must be one of"),
        ("dataset: {name: mfeat}\nbalance: {name: modality_dropout, options: {q: 1}}\n",
         "balance: balancer 'modality_dropout' got unknown option(s) ['q']; it accepts ['p']."),
        ("dataset: {name: mfeat}\nbalance: {options: {p: 0.1}}\n", "balance.name: required"),
        ("dataset: {name: mfeat}\nobjective: {name: nope}\n",
         "objective.name: unknown objective 'nope'; choose one of"),
        ("dataset: {name: mfeat}\nobjective: {name: supervised}\n", "set `losses` instead"),
    ],
)
def test_each_bad_config_is_named(tmp_path, text, expected):
    assert expected in error_of(tmp_path, text)


def test_missing_config_file(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_regression_losses_and_metrics():
    cfg = config_from_dict({"dataset": {"name": "mfeat"}, "task": "regression",
                            "losses": {"mse": 1.0, "mae": 0.5}})
    assert cfg.loss_weights() == {"mse": 1.0, "mae": 0.5}
    assert cfg.metric_names() == ["loss_mse", "loss_mae", "mse", "mae"]


def test_validated_config_is_read_only():
    cfg = config_from_dict({"dataset": {"name": "mfeat"}})
    assert isinstance(cfg, RunConfig)
    with pytest.raises(Exception, match="frozen"):
        cfg.trainer.epochs = 3  # type: ignore[misc]
