"""`interplay analyze DATA`: from a multimodal dataset to a checked fusion recommendation.

The steps, each writing its JSON into the run folder, then ``report.html`` over all of them:

1. ``summary.json``: the dataset (modalities, shapes, classes, hash);
2. ``pairwise_pid.json``: the PID of every modality pair about the target, with bootstrap
   intervals (and ``cluster_sensitivity.json``: the most informative pair's cluster PID for
   several cluster counts);
3. ``recommendation.json``: the fusions ranked for the most informative pair's profile;
4. ``train/``: the recommended fusion and the unimodal baselines (and their ensemble) trained
   on that pair, seeded;
5. ``evaluation.json``: robustness of the fusion and of the ensemble to a missing or noisy
   modality, and the model's PID next to the data's;
6. ``analysis.json``: the index of the run and its headline numbers.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._atomic import atomic_write_text
from ..exceptions import DataFormatError, InvalidInputError
from ._output import command_line, stamped

if TYPE_CHECKING:
    from ..data.dataset import MultimodalDataset

#: Estimators analyze can run on every pair (the target is a class label).
ESTIMATORS = ("auto", "discrete", "cluster")
#: A target with more distinct values than this is not treated as classes.
MAX_CLASSES = 50
#: Settings of the full run and of --quick.
PRESETS = {
    "full": {"bootstrap": 100, "seeds": [0, 1, 2], "epochs": 20, "patience": 5, "max_samples": None,
             "repeats": 2, "noise_levels": [0.0, 0.5, 1.0, 2.0]},
    "quick": {"bootstrap": 20, "seeds": [0], "epochs": 4, "patience": 3, "max_samples": 900,
              "repeats": 1, "noise_levels": [0.0, 1.0, 2.0]},
}
#: Most k-means clusters per modality, and the samples wanted per cell of the plug-in table.
MAX_CLUSTERS = 10
SAMPLES_PER_CELL = 5
N_COMPONENTS = 8
STEPS = 6

HELP = (
    "The main job in one command: a multimodal DATA set (a bundled dataset name, see "
    "`interplay datasets list`, or an .npz/.parquet/.csv file with --modalities and --target) "
    "goes through every step of interplay and ends in a run folder with each step's JSON and "
    "a self-contained report.html:\n\n"
    "\b\n"
    "  1. dataset summary (modalities, shapes, classes, a hash of the data);\n"
    "  2. the PID of every modality pair about the target, with bootstrap intervals;\n"
    "  3. the fusion recommended for the most informative pair's interaction profile;\n"
    "  4. a seeded training of that fusion and of the unimodal baselines and their ensemble;\n"
    "  5. their robustness to a missing or noisy modality, and the model's PID next to the "
    "data's.\n\n"
    "--estimator auto counts single discrete columns (discrete) and clusters anything else "
    f"(cluster: each modality standardised, {N_COMPONENTS} principal components, k-means "
    f"with the most clusters k <= {MAX_CLUSTERS} that leave {SAMPLES_PER_CELL} samples per "
    "cell of the k x k x classes table; the intervals hold that clustering fixed). --quick runs "
    "a smaller version (fewer bootstrap resamples, one seed, a few epochs) in about a minute.\n\n"
    "\b\nExamples:\n"
    "  interplay analyze --quick av-digits\n"
    "  interplay analyze mfeat --out runs/mfeat-analysis\n"
    "  interplay analyze mfeat --modalities fou,kar,mor --quick\n"
    "  interplay analyze data.npz --modalities image,text --target label\n\n"
    "Bad input (one modality, no target, a target that is not classes, an output folder that "
    "exists and is not empty) gives a one-line message and exit status 2 before any work."
)


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` command to ``app``."""
    app.command("analyze", help=HELP, no_args_is_help=True)(analyze_command)


@dataclass
class Source:
    """The data being analysed and how a training config names it."""

    dataset: MultimodalDataset
    label: str
    config: dict[str, Any]
    sha256: str
    hash_of: str
    modalities: list[str]
    target: str


@dataclass
class Run:
    """The run folder, its provenance block, and the steps done so far."""

    out: Path
    provenance: dict[str, Any]
    progress: bool
    steps: list[dict[str, Any]] = field(default_factory=list)
    console: Console = field(default_factory=Console)

    def step(self, name: str, file: str, work: Callable[[], Any]) -> Any:
        """Run one step, say so, and record its output file and duration."""
        index = len(self.steps) + 1
        self.console.print(f"[{index}/{STEPS}] {name} ...", highlight=False, markup=False)
        t0 = time.perf_counter()
        value = work()
        seconds = time.perf_counter() - t0
        self.steps.append({"step": name, "file": file, "seconds": round(seconds, 2)})
        self.console.print(f"      done in {seconds:.1f} s -> {self.out / file}", highlight=False,
                           markup=False)
        return value

    def write(self, name: str, kind: str, payload: dict[str, Any],
              notes: Sequence[str] = ()) -> None:
        """Write ``payload`` as ``name`` with the kind, version and provenance fields."""
        body = stamped(kind, payload, provenance={
            **self.provenance, "warnings": list(dict.fromkeys(notes))})
        atomic_write_text(self.out / name, json.dumps(body, indent=2, allow_nan=False) + "\n")


def analyze_command(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="A bundled dataset name or a data file.",
                                        show_default=False, metavar="DATA")],
    modalities: Annotated[
        str | None,
        typer.Option("--modalities", show_default=False,
                     help="Modalities to analyse, comma-separated (default: all; a file not "
                     "written by interplay needs them: one column or array each)."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", show_default=False,
                     help="The target (class labels); default: the dataset's default target."),
    ] = None,
    estimator: Annotated[
        str, typer.Option("--estimator", "-e", help="PID estimator: " + ", ".join(ESTIMATORS)
                          + ".")
    ] = "auto",
    out: Annotated[
        Path | None,
        typer.Option("--out", show_default=False,
                     help="Run folder (default runs/analyze-<name>), created with its parents; "
                     "must not exist or be empty."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A smaller, faster run (about a minute).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random step.")] = 0,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show progress bars.")
    ] = True,
) -> None:
    if estimator not in ESTIMATORS:
        raise InvalidInputError(
            f"--estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}.")
    if seed < 0:
        raise InvalidInputError(f"--seed must be 0 or more, got {seed}.")
    wanted = _names(modalities)
    folder = out if out is not None else Path("runs") / f"analyze-{Path(data).stem}"
    _check_folder(folder)
    source = _load(data, wanted, target)
    preset = PRESETS["quick" if quick else "full"]
    command = command_line(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    run = Run(out=folder, progress=progress, provenance={
        "command": command, "data": source.label, "data_sha256": source.sha256,
        "data_hash_of": source.hash_of, "seed": seed,
        "estimator": estimator,
        "settings": {"preset": "quick" if quick else "full", **preset},
    })
    t0 = time.perf_counter()
    summary = run.step("dataset summary", "summary.json", lambda: _summary(run, source))
    pairwise = run.step("pairwise PID", "pairwise_pid.json",
                        lambda: _pairwise(run, source, estimator, preset["bootstrap"], seed))
    rec = run.step("recommended fusion", "recommendation.json",
                   lambda: _recommend(run, source, pairwise))
    run.step("training", "train/result.json",
             lambda: _train(run, source, rec, preset, seed))
    evaluation = run.step("robustness and model PID", "evaluation.json",
                          lambda: _evaluate(run, rec, preset, seed))
    index = run.step("summary and report", "report.html",
                     lambda: _finish(run, summary, pairwise, rec, evaluation,
                                     time.perf_counter() - t0))
    _print(run, index)


# ----------------------------------------------------------------------------- input
def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",")]
    if any(not n for n in names):
        raise InvalidInputError(f"--modalities {text!r} has an empty name.")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"--modalities {text!r} names a modality twice.")
    return names


def _check_folder(folder: Path) -> None:
    """Refuse a run folder that exists and is not empty (it is created with its parents)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidInputError(
            f"--out: {str(folder)!r} already exists and is not an empty folder; choose another "
            "or remove it.")


def _load(data: str, wanted: list[str] | None, target: str | None) -> Source:
    from ..data import list_datasets, load_dataset, read_dataset

    path = Path(data)
    if not path.exists() and data in list_datasets():
        ds = load_dataset(data)
        config: dict[str, Any] = {"name": data}
        digest, hash_of = _array_hash(ds), "the dataset's arrays"
    elif path.exists():
        try:
            ds = read_dataset(path)
            config = {"path": str(path.resolve())}
        except DataFormatError as exc:
            if wanted is None or target is None:
                raise DataFormatError(
                    f"{exc} For a file not written by interplay, name its modalities with "
                    "--modalities (one column or array each) and the target with --target."
                ) from None
            ds = read_dataset(path, modalities=wanted, target=target)
            config = {"path": str(path.resolve()), "columns": {m: m for m in wanted},
                      "targets": [target]}
        digest, hash_of = hashlib.sha256(path.read_bytes()).hexdigest(), "the data file"
    else:
        raise InvalidInputError(
            f"DATA {data!r} is neither a file nor a bundled dataset (bundled: "
            f"{', '.join(list_datasets())}).")
    names = list(ds.modality_names) if wanted is None else wanted
    unknown = [m for m in names if m not in ds.modality_names]
    if unknown:
        raise InvalidInputError(
            f"--modalities: {', '.join(unknown)} not in {data} (it has "
            f"{', '.join(ds.modality_names)}).")
    if len(names) < 2:
        raise InvalidInputError(
            f"analyze needs at least two modalities to study how they combine; {data} has "
            f"{'only ' + names[0] if names else 'none'} selected. Name two or more with "
            "--modalities.")
    chosen = target or ds.default_target
    if chosen is None or chosen not in ds.target_names:
        raise InvalidInputError(
            f"analyze needs a target of class labels; {data} has "
            + (f"the targets {', '.join(ds.target_names)}, not {chosen!r}. Pick one with --target."
               if ds.target_names else "no target. Name a column with --target."))
    y = np.asarray(ds.targets[chosen])
    if y.ndim != 1 or np.unique(y).size > MAX_CLASSES or np.unique(y).size < 2:
        raise InvalidInputError(
            f"--target {chosen}: analyze trains classifiers and needs 2 to {MAX_CLASSES} classes "
            f"in one column; it has shape {y.shape} and {np.unique(y).size} distinct values.")
    return Source(dataset=ds.select(modalities=names, targets=[chosen]), label=data,
                  config=config, sha256=digest, hash_of=hash_of, modalities=names,
                  target=chosen)


def _array_hash(ds: MultimodalDataset) -> str:
    digest = hashlib.sha256()
    for name in ds.modality_names:
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(ds.modalities[name]).tobytes())
    for name in ds.target_names:
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(ds.targets[name]).tobytes())
    return digest.hexdigest()


# ----------------------------------------------------------------------------- steps
def _summary(run: Run, source: Source) -> dict[str, Any]:
    ds = source.dataset
    info = ds.info()
    y = np.asarray(ds.targets[source.target])
    values, counts = np.unique(y, return_counts=True)
    names = (info.get("classes") or {}).get(source.target)
    classes = [{"label": str(names[int(v)]) if names and 0 <= int(v) < len(names) else str(v),
                "count": int(c)} for v, c in zip(values, counts, strict=True)]
    payload = {
        "name": info.get("name") or source.label, "description": info.get("description"),
        "source": info.get("source"), "licence": info.get("licence"),
        "n_samples": ds.n_samples, "target": source.target, "classes": classes,
        "modalities": {m: {"shape": list(ds.modalities[m].shape[1:]),
                           "n_features": int(np.prod(ds.modalities[m].shape[1:], dtype=int)),
                           "kind": (info.get("modalities") or {}).get(m, {}).get("kind", "other")}
                       for m in source.modalities},
    }
    run.write("summary.json", "dataset_summary", payload)
    return payload


def _is_discrete(x: np.ndarray) -> bool:
    """One column that the estimators' ``auto`` rule would count exactly."""
    from ..estimators.registry import is_discrete

    flat = x.reshape(len(x), -1)
    return flat.shape[1] == 1 and is_discrete(flat)


def n_clusters(n_samples: int, n_classes: int) -> int:
    """The most clusters ``k <= MAX_CLUSTERS`` with ``SAMPLES_PER_CELL`` samples per cell of the
    ``k x k x n_classes`` plug-in table (at least 2): below that the plug-in PID's bias, most of
    it in the synergy, outgrows the atoms.

    >>> n_clusters(2000, 10), n_clusters(1797, 10), n_clusters(100000, 2)
    (6, 5, 10)
    """
    k = int(np.sqrt(n_samples / (SAMPLES_PER_CELL * n_classes)))
    return max(2, min(MAX_CLUSTERS, k))


def _pairwise(run: Run, source: Source, estimator: str, n_bootstrap: int,
              seed: int) -> dict[str, Any]:
    from .. import quantify
    from ..info.estimate.cluster import cluster_labels, reduce_dimension

    ds = source.dataset
    y = np.asarray(ds.targets[source.target])
    k = n_clusters(ds.n_samples, np.unique(y).size)
    symbols: dict[str, np.ndarray] = {}
    used: dict[str, str] = {}
    for m in source.modalities:
        x = np.asarray(ds.modalities[m])
        chosen = estimator if estimator != "auto" else ("discrete" if _is_discrete(x)
                                                        else "cluster")
        if chosen == "discrete":
            if not _is_discrete(x):
                raise InvalidInputError(
                    f"--estimator discrete: modality {m!r} is not one discrete column (shape "
                    f"{x.shape[1:]}); use --estimator cluster.")
            symbols[m] = x.reshape(len(x))
        else:
            flat = x.reshape(len(x), -1).astype(np.float64)
            symbols[m] = cluster_labels(reduce_dimension(flat, N_COMPONENTS), k, seed)
        used[m] = chosen
    pairs = list(combinations(source.modalities, 2))
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    with Progress(TextColumn("      {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=run.console, disable=not run.progress,
                  transient=True) as bar:
        task = bar.add_task("pairs", total=len(pairs))
        for a, b in pairs:
            bar.update(task, description=f"pair {a}, {b}")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = quantify(symbols[a], symbols[b], y, n_bootstrap=n_bootstrap,
                                  random_state=seed, progress=False)
            notes += [f"{a}, {b}: {w.message}" for w in caught]
            results.append({"x1": a, "x2": b, "pid": result.to_dict()})
            bar.advance(task)
    payload = {"target": source.target, "modalities": source.modalities,
               "estimators": used, "n_bootstrap": n_bootstrap,
               "discretization": {"n_clusters": k, "n_components": N_COMPONENTS,
                                  "standardised": True, "random_state": seed,
                                  "held_fixed_in_bootstrap": True},
               "pairs": results}
    run.write("pairwise_pid.json", "pairwise_pid", payload, notes)
    best = max(results, key=lambda p: p["pid"]["mi_joint"])
    if used[best["x1"]] == used[best["x2"]] == "cluster":
        _sensitivity(run, source, (best["x1"], best["x2"]), k, seed)
    return payload


def _sensitivity(run: Run, source: Source, pair: tuple[str, str], k: int, seed: int) -> None:
    """``cluster_sensitivity.json``: the cluster PID of the most informative pair for cluster
    counts around the one used, next to the predicted plug-in bias."""
    from .. import cluster_sensitivity

    ds = source.dataset
    counts = sorted({2, max(2, k // 2), k, MAX_CLUSTERS, 2 * MAX_CLUSTERS})
    x1, x2 = (np.asarray(ds.modalities[m]).reshape(ds.n_samples, -1).astype(np.float64)
              for m in pair)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cluster_sensitivity(x1, x2, ds.targets[source.target], n_clusters=counts,
                                     n_components=N_COMPONENTS, random_state=seed)
    run.write("cluster_sensitivity.json", "cluster_sensitivity",
              {"x1": pair[0], "x2": pair[1], "target": source.target, "chosen": k,
               **result.to_dict()}, [str(w.message) for w in caught])


def _recommend(run: Run, source: Source, pairwise: dict[str, Any]) -> dict[str, Any]:
    from ..analysis.recommend import InteractionProfile, recommend_fusion, shares_of
    from ..info.pid import PIDResult

    best = max(pairwise["pairs"], key=lambda p: p["pid"]["mi_joint"])
    fields = {k: v for k, v in best["pid"].items() if k in PIDResult.__dataclass_fields__}
    fields["ci"] = None if fields.get("ci") is None else \
        {k: tuple(v) for k, v in fields["ci"].items()}
    fields["warnings"] = tuple(fields.get("warnings") or ())
    fields["diagnostics"] = None
    pid = PIDResult(**fields)
    pair = (best["x1"], best["x2"])
    profile = InteractionProfile(
        shares=shares_of(pid), pid=pid, estimator=pairwise["estimators"][pair[0]],
        reason=(f"the pair with the largest I(X1,X2;Y) of the {len(pairwise['pairs'])} pairs "
                "analysed"), modalities=pair, target=source.target, warnings=pid.warnings)
    rec = recommend_fusion(profile)
    payload = {**rec.to_dict(), "data": source.label,
               "columns": {"x1": [pair[0]], "x2": [pair[1]], "y": [source.target]}}
    run.write("recommendation.json", "recommendation", payload)
    return payload


def _train(run: Run, source: Source, rec: dict[str, Any], preset: dict[str, Any],
           seed: int) -> dict[str, Any]:
    from .. import run_training
    from ..training.config import config_from_dict

    pair = rec["profile"]["modalities"]
    cfg = config_from_dict({
        "dataset": {**source.config, "max_samples": preset.get("max_samples")},
        "modalities": list(pair), "target": source.target,
        "split": {"validation": 0.1, "test": 0.2, "seed": seed},
        "fusion": {"name": rec.get("best_fusion") or rec["best"]},
        "trainer": {"epochs": preset["epochs"], "patience": preset["patience"],
                    "lr": 0.003, "batch_size": 64, "seeds": [seed + s for s in preset["seeds"]]},
        "baselines": {"unimodal": True},
    }, source="analyze")
    return run_training(cfg, output_dir=run.out / "train", progress=run.progress)


def _evaluate(run: Run, rec: dict[str, Any], preset: dict[str, Any],
              seed: int) -> dict[str, Any]:
    from ..analysis.evaluation import evaluate_run

    result = evaluate_run(run.out / "train", noise_levels=preset["noise_levels"],
                          baseline="ensemble", n_repeats=preset["repeats"], random_state=seed,
                          pid_modalities=rec["profile"]["modalities"],
                          progress=run.progress).to_dict()
    run.write("evaluation.json", "evaluation", result)
    return result


def _finish(run: Run, summary: dict[str, Any], pairwise: dict[str, Any], rec: dict[str, Any],
            evaluation: dict[str, Any], seconds: float) -> dict[str, Any]:
    from ..reports import load_result, render_report

    model = evaluation["model"]
    baseline = evaluation.get("baseline") or {}
    comparison = evaluation.get("comparison") or {}
    pid = evaluation.get("pid") or {}
    headline = {
        "dataset": summary["name"], "n_samples": summary["n_samples"],
        "modalities": pairwise["modalities"], "target": pairwise["target"],
        "pair": rec["profile"]["modalities"], "profile": rec["shares"],
        "recommended": rec["best"], "fusion": evaluation.get("fusion") or rec["best"],
        "accuracy": {"fusion": model["clean"], "ensemble": baseline.get("clean")},
        "dropped": {"fusion": model["dropped"], "ensemble": baseline.get("dropped")},
        "relative_robustness": comparison.get("relative_robustness"),
        "effective_robustness": comparison.get("effective_robustness"),
        "agreement": (pid.get("agreement") or {}).get("mean"),
        "chance": model.get("chance"),
    }
    run.steps.append({"step": "summary and report", "file": "report.html", "seconds": None})
    run.write("analysis.json", "analysis", {"headline": headline, "steps": run.steps,
                                            "seconds": round(seconds, 1)})
    run.steps.pop()
    files = ["analysis.json", "summary.json", "pairwise_pid.json", "cluster_sensitivity.json",
             "recommendation.json", "train/result.json", "evaluation.json"]
    files = [f for f in files if (run.out / f).is_file()]
    page = render_report([load_result(run.out / f) for f in files],
                         title=f"interplay analyze: {summary['name']}",
                         command=run.provenance["command"])
    atomic_write_text(run.out / "report.html", page)
    return headline


def _print(run: Run, headline: dict[str, Any]) -> None:
    table = Table(title=f"{headline['dataset']}: {', '.join(headline['pair'])} -> "
                        f"{headline['target']}", title_justify="left")
    for col in ("", "test accuracy", *(f"{m} dropped" for m in headline["pair"])):
        table.add_column(col, justify="left" if not col else "right")
    for name, key in _labels(headline):
        clean = headline["accuracy"][key]
        if clean is None:
            continue
        dropped = headline["dropped"][key] or {}
        table.add_row(name, _pm(clean), *(_pm(dropped.get(m)) for m in headline["pair"]))
    run.console.print(table)
    shares = headline["profile"]
    run.console.print(
        "profile of the pair: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in shares.items())
        + (f"; model-vs-data PID agreement {headline['agreement']:.3f} bits"
           if headline.get("agreement") is not None else ""), highlight=False, markup=False)
    run.console.print(f"wrote {run.out}/ (report: {run.out / 'report.html'})", highlight=False,
                      markup=False)


def _labels(headline: dict[str, Any]) -> list[tuple[str, str]]:
    """Row labels of the fusion and the ensemble, the recommended one marked."""
    pick = headline["recommended"]
    return [(f"{headline['fusion']} fusion" + (" (recommended)" if pick != "ensemble" else ""),
             "fusion"),
            ("unimodal ensemble" + (" (recommended)" if pick == "ensemble" else ""),
             "ensemble")]


def _pm(stats: dict[str, Any] | None) -> str:
    if not stats or stats.get("mean") is None:
        return "-"
    std = stats.get("std")
    return f"{stats['mean']:.3f}" + ("" if std is None else f" ± {std:.3f}")
