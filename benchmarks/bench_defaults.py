"""Default settings against one thread, idle and under load: does the thread policy hold?

Every row runs in a fresh process twice, back to back: once with **default settings** (no
``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` in the environment, so the
libraries start with one thread per core and interplay's policy decides) and once with all of
them set to 1. Then both again while a background process keeps ``--load`` cores busy (a normal
state for a laptop or a shared server). The background load is created here and bounded in time.
Prints (and writes with ``--out``) a markdown table of wall seconds and the ratio default / one
thread; the goal is a ratio of at most 1.2 everywhere.

    python benchmarks/bench_defaults.py --out benchmarks/results/defaults.md
    python benchmarks/bench_defaults.py --rows quantify_b50 cluster --repeats 3

Python rows time the call itself (imports and data loading excluded); ``interplay train`` rows
time the whole command (start-up included). ``--quick`` trains one seed instead of three.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

_SAMPLES = """
import numpy as np
rng = np.random.default_rng(0)
x1, x2 = rng.integers(0, 3, 1000), rng.integers(0, 3, 1000)
y = (x1 + x2 + (rng.random(1000) < 0.2)) % 3
"""
_MFEAT = """
from interplay.data import load_dataset
ds = load_dataset("mfeat")
x1, x2, y = ds.modalities["fou"], ds.modalities["kar"], ds.target
"""

#: name -> (label, setup code, timed statement) for Python rows, or (label, argv) for commands.
ROWS: dict[str, tuple] = {
    "quantify_b50": ("`quantify(x1, x2, y, n_bootstrap=50)`, n = 1000, 3 values each",
                     "from interplay import quantify" + _SAMPLES,
                     "quantify(x1, x2, y, n_bootstrap=50, random_state=0, progress=False)"),
    "quantify_b200_p200": ("`quantify(..., n_bootstrap=200, n_permutations=200)`",
                           "from interplay import quantify" + _SAMPLES,
                           "quantify(x1, x2, y, n_bootstrap=200, n_permutations=200, "
                           "random_state=0, progress=False)"),
    "train_mfeat": ("`interplay train examples/configs/mfeat_late.yaml`",
                    ["train", "examples/configs/mfeat_late.yaml"]),
    "train_av_digits": ("`interplay train examples/configs/av_digits_late.yaml`",
                        ["train", "examples/configs/av_digits_late.yaml"]),
    "batch": ("`batch_pid` on 2000 rows (mfeat fou, kar -> digit)",
              "from interplay.neural import batch_pid" + _MFEAT,
              "batch_pid(x1, x2, y, random_state=0, progress=False)"),
    "cluster": ("`cluster_sensitivity(..., (5, 10, 20, 30))` on mfeat (fou, kar -> digit)",
                "from interplay import cluster_sensitivity" + _MFEAT,
                "cluster_sensitivity(x1, x2, y, (5, 10, 20, 30))"),
}

_TIMER = """
import json, time
{setup}
t = time.perf_counter()
{statement}
print("BENCH_JSON " + json.dumps({{"seconds": time.perf_counter() - t}}))
"""

_SPIN = "import time\nt = time.time() + {seconds}\nwhile time.time() < t:\n    pass\n"


def environment(one_thread: bool) -> dict[str, str]:
    """The parent's environment without thread variables, or with all of them set to 1."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    if one_thread:
        env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_row(name: str, one_thread: bool, quick: bool, timeout: float) -> tuple[float, float]:
    """Wall seconds of one row in a fresh process, and the CPU seconds of that whole process
    (start-up included; threads spinning against a busy core show up here)."""
    cpu = _children_cpu()
    wall = _run_row(name, one_thread, quick, timeout)
    return wall, _children_cpu() - cpu


def _run_row(name: str, one_thread: bool, quick: bool, timeout: float) -> float:
    spec = ROWS[name]
    env = environment(one_thread)
    if len(spec) == 3:
        code = _TIMER.format(setup=spec[1], statement=spec[2])
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, timeout=timeout,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{out.stderr[-2000:]}")
        line = next(ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON "))
        return float(json.loads(line.split(" ", 1)[1])["seconds"])
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "interplay", *spec[1], "--out", str(Path(tmp) / "run"),
                "--no-progress", *(["--seeds", "0"] if quick else [])]
        start = time.perf_counter()
        out = subprocess.run(argv, env=env, cwd=ROOT, timeout=timeout, capture_output=True,
                             text=True)
        seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{out.stderr[-2000:]}")
    return seconds


class Load:
    """``n`` busy processes for at most ``seconds`` (stopped on exit)."""

    def __init__(self, n: int, seconds: float) -> None:
        self.n, self.seconds = n, seconds
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Load:
        code = _SPIN.format(seconds=self.seconds)
        self.procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(self.n)]
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()


def measure(names: list[str], repeats: int, load: int, quick: bool, timeout: float,
            states: tuple[str, ...] = ("idle", "load"),
            ) -> dict[str, dict[str, list[tuple[float, float]]]]:
    times: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for name in names:
        cell = times.setdefault(name, {})
        for _ in range(repeats):
            for loaded in [s == "load" for s in states]:
                for one in (False, True):
                    key = ("load" if loaded else "idle") + ("_one" if one else "_default")
                    if loaded:
                        with Load(load, timeout):
                            wall, cpu = run_row(name, one, quick, timeout)
                    else:
                        wall, cpu = run_row(name, one, quick, timeout)
                    cell.setdefault(key, []).append((wall, cpu))
                    print(f"{name:<20} {key:<13} {wall:8.2f} s wall {cpu:8.2f} s CPU   "
                          f"(load average {os.getloadavg()[0]:.1f})", flush=True)
    return times


def table(times: dict[str, dict[str, list[tuple[float, float]]]], load: int) -> str:
    """Wall seconds (fastest run) and ratios; the CPU-seconds ratio of the whole process too."""
    busy = f"{load} busy core{'s' if load > 1 else ''}"
    head = (f"| work | idle: default | idle: one thread | ratio (CPU ratio) | {busy}: default "
            f"| {busy}: one thread | ratio (CPU ratio) |")
    lines = [head, "|---|---|---|---|---|---|---|"]
    for name, cell in times.items():
        parts = [ROWS[name][0]]
        for state in ("idle", "load"):
            if f"{state}_default" not in cell:
                parts += ["-", "-", "-"]
                continue
            d, o = min(cell[f"{state}_default"]), min(cell[f"{state}_one"])
            parts += [f"{d[0]:.2f} s", f"{o[0]:.2f} s", f"{d[0] / o[0]:.2f} ({d[1] / o[1]:.2f})"]
        lines.append("| " + " | ".join(parts) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    parser.add_argument("--repeats", type=int, default=1,
                        help="Runs per cell; the table shows the fastest.")
    parser.add_argument("--load", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                        help="Busy background processes in the loaded runs.")
    parser.add_argument("--quick", action="store_true", help="Train one seed instead of three.")
    parser.add_argument("--states", nargs="+", choices=("idle", "load"), default=["idle", "load"],
                        help="Run without the background load, with it, or both.")
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds per run.")
    parser.add_argument("--out", type=Path, help="Also write the markdown here.")
    args = parser.parse_args()
    times = measure(args.rows, args.repeats, args.load, args.quick, args.timeout,
                    tuple(args.states))
    command = "python benchmarks/bench_defaults.py " + " ".join(sys.argv[1:])
    text = (f"Command: `{command.strip()}` ({os.cpu_count()} cores; fastest of {args.repeats} "
            f"run{'s' if args.repeats > 1 else ''} per cell; ratio = default / one thread)\n\n"
            + table(times, args.load) + "\n")
    print("\n" + text)
    if args.out is not None:
        tmp = args.out.with_suffix(args.out.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
