"""DDP with two CPU processes on the gloo backend.

The default test forks two ranks from the test process (cheap: no new interpreter); the slow
test launches the worker script through ``torchrun`` exactly as a user would.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

WORKER = Path(__file__).with_name("ddp_worker.py")


def _load_worker():
    spec = importlib.util.spec_from_file_location("interplay_ddp_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _single_process_reference():
    """One process stepping on the global batch (2 x the per-rank batch)."""
    worker = _load_worker()
    return worker.train(batch_size=2 * worker.SETTINGS["batch_size"])


def _check_against_single_process(out: Path, reference) -> None:
    ranks = [torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    records = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    histories = [rec["history"] for rec in records]
    # DDP keeps the replicas identical, bit for bit, and all ranks agree on the metrics
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    assert [h["val_loss"] for h in histories[0]] == [h["val_loss"] for h in histories[1]]

    # Averaging gradients over 2 x 8 samples equals one process stepping on the same 16 samples
    task, single = reference
    for key, value in task.state_dict().items():
        torch.testing.assert_close(ranks[0][key], value, rtol=1e-5, atol=1e-6)
    for ddp_row, row in zip(histories[0], single.history, strict=True):
        assert ddp_row["train_loss"] == pytest.approx(row["train_loss"], rel=1e-5)
        # the validation shards partition the 30 samples exactly: same sample means
        assert ddp_row["val_accuracy"] == pytest.approx(row["val_accuracy"], abs=1e-12)
    assert histories[0][-1]["train_loss"] < histories[0][0]["train_loss"]
    # evaluating one sample on two processes (one empty shard) gives the one-process answer
    worker = _load_worker()
    tiny = worker.Trainer(**worker.SETTINGS).evaluate(task, worker.data(1, 3))
    for record in records:
        assert record["tiny"]["loss"] == pytest.approx(tiny["loss"], rel=1e-5)


def _forked_rank(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    _load_worker().run_rank(Path(out))


def test_two_forked_gloo_ranks_match_one_process_with_the_global_batch(tmp_path, monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    # computed first: the forked ranks then inherit a warmed-up torch (fast start)
    reference = _single_process_reference()
    mp.start_processes(_forked_rank, args=(2, _free_port(), str(tmp_path)), nprocs=2,
                       join=True, start_method="fork")
    assert not torch.distributed.is_initialized()  # the parent never joined a group
    _check_against_single_process(tmp_path, reference)


@pytest.mark.slow
def test_torchrun_two_gloo_processes(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(WORKER), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_against_single_process(tmp_path, _single_process_reference())
