"""The top level is small and light, and the base install (no torch) runs quantify and recommend.

The environment without torch is made in a subprocess: a ``sitecustomize`` module on
``PYTHONPATH`` installs an import hook that answers ``import torch`` (and zuko) with
``ModuleNotFoundError``, exactly as where torch is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import interplay

HEAVY = ("pandas", "scipy", "rich", "torch", "sklearn", "matplotlib")
NO_TORCH = """import sys


class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "zuko"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoTorch())
"""


def _python(code: str, *, without_torch: bool = False, tmp_path: Path | None = None,
            args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if without_torch:
        assert tmp_path is not None
        shim = tmp_path / "no_torch"
        shim.mkdir(exist_ok=True)
        (shim / "sitecustomize.py").write_text(NO_TORCH)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shim), env.get("PYTHONPATH")]))
    cmd = [sys.executable, *args] if args else [sys.executable, "-c", code]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300,
                          cwd=tmp_path)


def test_the_top_level_is_small_and_holds_the_front_doors():
    names = set(interplay.__all__) - {"__version__"}
    assert 10 <= len(names) <= 16
    assert {"quantify", "pid", "PIDResult", "mutual_information", "entropy",
            "recommend_fusion", "load_dataset", "list_estimators"} <= names
    for name in names:
        assert getattr(interplay, name) is not None


def test_earlier_top_level_names_still_resolve_from_their_subpackages():
    from interplay.estimators import pid_sweep
    from interplay.info.estimate import cluster_pid

    assert interplay.cluster_pid is cluster_pid and interplay.pid_sweep is pid_sweep
    with pytest.raises(AttributeError):
        interplay.no_such_name  # noqa: B018


def test_mutual_information_and_entropy_take_samples():
    assert interplay.entropy([0, 1, 0, 1]) == 1.0
    assert interplay.mutual_information([0, 1, 0, 1], ["a", "b", "a", "b"]) == 1.0


def test_import_interplay_loads_nothing_heavy(tmp_path):
    """``import interplay`` stays light: pandas, scipy, rich (and torch) load on first use."""
    out = _python("import sys, interplay\n"
                  f"print([m for m in {HEAVY!r} if m in sys.modules])")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_info_imports_neither_rich_nor_pandas(tmp_path):
    code = ("import sys, interplay.info.estimate, interplay.info.pid, interplay.info.samples, "
            "interplay.estimators.registry, interplay.analysis.robustness\n"
            "from interplay.info.estimate import plugin_pid\n"
            "plugin_pid([0, 1, 0, 1] * 50, [0, 0, 1, 1] * 50, [0, 1, 1, 0] * 50, "
            "n_bootstrap=3, progress=True)\n"  # encodes samples; a bar only on a terminal
            "print(sorted(m for m in ('rich', 'pandas', 'torch') if m in sys.modules))")
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_without_torch_quantify_and_recommend_run(tmp_path):
    check = _python("import torch", without_torch=True, tmp_path=tmp_path)
    assert check.returncode != 0 and "ModuleNotFoundError" in check.stderr  # the shim works
    for command in ("quantify", "recommend"):
        out = tmp_path / f"{command}.json"
        run = _python("", without_torch=True, tmp_path=tmp_path,
                      args=("-m", "interplay", command, "--example", "gates", "--no-progress",
                            "--json", str(out)))
        assert run.returncode == 0, run.stderr
        assert json.loads(out.read_text())  # a complete result was written
    code = ("import numpy as np, interplay\n"
            "a = np.arange(400) % 2; b = (np.arange(400) // 2) % 2\n"
            "r = interplay.quantify(a, b, a ^ b, progress=False)\n"
            "print(round(r.synergy, 3), interplay.recommend_fusion(r).best)")
    run = _python(code, without_torch=True, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[0] == "1.0"


#: Torch-only paths: each must raise MissingDependencyError naming the extra.
TORCH_PATHS = [
    "interplay.create_fusion",
    "interplay.Trainer",
    "interplay.flow_pid(x1, x2, x1[:, 0])",
    "interplay.quantify(x1, x2, x1[:, 0] + x2[:, 0], estimator='flow')",
    "interplay.quantify(x1, x2, np.arange(60) % 2, estimator='batch')",
    "importlib.import_module('interplay.models')",
    "importlib.import_module('interplay.training')",
]


def test_without_torch_every_torch_path_names_the_extra(tmp_path):
    script = (
        "import importlib, numpy as np, interplay\n"
        "rng = np.random.default_rng(0); x1, x2 = rng.normal(size=(2, 60, 2))\n"
        f"for code in {TORCH_PATHS!r}:\n"
        "    try:\n"
        "        eval(code)\n"
        "        print('no error:', code)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, 'interplay[models]' in str(exc), code)\n"
    )
    run = _python(script, without_torch=True, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == len(TORCH_PATHS)
    for line, code in zip(lines, TORCH_PATHS, strict=True):
        assert line == f"MissingDependencyError True {code}", line


def test_without_torch_train_says_which_extra_to_install(tmp_path):
    config = Path(__file__).resolve().parents[1] / "examples" / "configs" / "mfeat_late.yaml"
    run = _python("", without_torch=True, tmp_path=tmp_path,
                  args=("-m", "interplay", "train", str(config)))
    assert run.returncode == 2
    assert "interplay[models]" in run.stderr and "Traceback" not in run.stderr


def test_subpackages_are_reachable_as_attributes_after_a_plain_import():
    import interplay

    assert interplay.data.load_dataset is interplay.load_dataset
    assert callable(interplay.info.pid.pid)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        interplay.nothing  # noqa: B018
