import json
import os
import random

import numpy as np
import pytest
import torch

from interplay.exceptions import DataFormatError, InvalidInputError
from interplay.training import atomic_write, load_checkpoint, save_checkpoint
from interplay.training import checkpoint as ckpt_mod
from interplay.training.checkpoint import capture_rng_state, restore_rng_state

EXECUTED = []


def _record_execution():
    EXECUTED.append(True)
    return "pwned"


class Malicious:
    """Unpickling this object would call `_record_execution`."""

    def __reduce__(self):
        return (_record_execution, ())


def test_roundtrip_keeps_tensors_and_metadata(tmp_path):
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "step": 7, "names": ["a", "b"]}
    save_checkpoint(tmp_path / "ck", state, {"epoch": 2, "history": [{"loss": 0.5}]})
    loaded, meta = load_checkpoint(tmp_path / "ck.pt")
    assert torch.equal(loaded["model"]["w"], state["model"]["w"])
    assert loaded["step"] == 7 and loaded["names"] == ["a", "b"]
    assert meta == {"epoch": 2, "history": [{"loss": 0.5}]}
    record = json.loads((tmp_path / "ck.json").read_text())
    assert record["state_file"] == "ck.pt" and len(record["sha256"]) == 64


def test_safe_loading_rejects_a_pickled_object(tmp_path):
    save_checkpoint(tmp_path / "ck", {"w": torch.ones(2)}, {"epoch": 1})
    # Replace the state by one holding an arbitrary object and re-vouch for it in the record,
    # as an attacker who controls both files could.
    torch.save({"w": torch.ones(2), "evil": Malicious()}, tmp_path / "ck.pt")
    record = json.loads((tmp_path / "ck.json").read_text())
    record["sha256"] = ckpt_mod._sha256(tmp_path / "ck.pt")
    (tmp_path / "ck.json").write_text(json.dumps(record))
    with pytest.raises(DataFormatError, match="safe loader"):
        load_checkpoint(tmp_path / "ck")
    assert EXECUTED == []
    # and the unsafe loader would indeed have run it: the test object is really malicious
    torch.load(tmp_path / "ck.pt", weights_only=False)
    assert EXECUTED == [True]
    EXECUTED.clear()


def test_tampered_state_file_is_detected_by_hash(tmp_path):
    save_checkpoint(tmp_path / "ck", {"w": torch.ones(2)}, {"epoch": 1})
    torch.save({"w": torch.zeros(2)}, tmp_path / "ck.pt")
    with pytest.raises(DataFormatError, match="SHA-256"):
        load_checkpoint(tmp_path / "ck")


def test_missing_record_is_not_a_checkpoint(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "ck.pt")
    with pytest.raises(DataFormatError, match="No complete checkpoint"):
        load_checkpoint(tmp_path / "ck")


def test_metadata_must_be_json(tmp_path):
    with pytest.raises(InvalidInputError, match="JSON"):
        save_checkpoint(tmp_path / "ck", {"w": torch.ones(1)}, {"obj": object()})
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_old_content_and_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "file.bin"
    atomic_write(target, lambda fh: fh.write(b"old complete content"))

    def crash_midway(fh):
        fh.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, crash_midway)
    assert target.read_bytes() == b"old complete content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_failed_save_checkpoint_leaves_nothing(tmp_path, interrupted_torch_save):
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "ck", {"w": torch.ones(3)}, {"epoch": 1})
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def interrupted_torch_save(monkeypatch):
    """Make torch.save write part of a file and then be interrupted."""
    real_save = torch.save

    def partial_save(obj, fh):
        real_save(obj, fh)
        fh.truncate(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt_mod.torch, "save", partial_save)


def test_rng_state_roundtrip_through_a_checkpoint(tmp_path):
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    np.random.standard_normal()  # leaves a cached Gaussian in NumPy's state
    save_checkpoint(tmp_path / "rng", {"rng": capture_rng_state()}, {})
    first = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)],
             random.gauss(0, 1))
    state, _ = load_checkpoint(tmp_path / "rng")
    restore_rng_state(state["rng"])
    again = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)],
             random.gauss(0, 1))
    assert torch.equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert first[2:] == again[2:]


def test_atomic_write_creates_parent_folders(tmp_path):
    target = tmp_path / "a" / "b" / "f.txt"
    atomic_write(target, lambda fh: fh.write(b"x"))
    assert target.read_bytes() == b"x"
    assert os.listdir(target.parent) == ["f.txt"]
