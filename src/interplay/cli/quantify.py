"""`interplay quantify`: the PID of two modalities and a target, from a sample table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .._atomic import atomic_write_text
from ..data.registry import list_datasets
from ..data.tables import (
    EXAMPLES,
    columns_of,
    dataset_frame,
    read_example,
    read_pmf,
    read_table,
)
from ..exceptions import InvalidInputError
from ..info.estimate import quantify as quantify_samples
from ..info.estimate.bootstrap import bootstrap_pid
from ..info.estimate.sweep import _parameters, estimator_function
from ..info.pid import ATOMS, PIDResult, list_pid_methods, pid
from ._options import ExampleName, ShowProgress, X1Columns, X2Columns, YColumns, check_json_target

ESTIMATORS = ("auto", "discrete", "cluster", "gaussian", "copula", "flow", "batch")
#: Estimators whose target is a class label (passed as read); the others need numbers.
LABEL_TARGETS = ("cluster", "batch")
#: With --estimator auto, a column with at most this many distinct values counts as discrete.
MAX_DISCRETE_VALUES = 50
#: Estimator options of the command line: flag -> (keyword, estimators it applies to).
ESTIMATOR_OPTIONS = {
    "--clusters": ("n_clusters", ("cluster",)),
    "--components": ("n_components", ("cluster",)),
    "--max-epochs": ("max_epochs", ("flow",)),
    "--patience": ("patience", ("flow",)),
    "--batch-size": ("batch_size", ("flow", "batch")),
    "--classifier-epochs": ("classifier_epochs", ("batch",)),
    "--align-epochs": ("align_epochs", ("batch",)),
    "--device": ("device", ("flow", "batch")),
}

HELP = (
    "Decompose what two modalities X1, X2 tell about a target Y into redundancy R, unique "
    "information U1 (only X1) and U2 (only X2), and synergy S, in bits.\n\n"
    "DATA is a .csv (with a header), .parquet or .npz file with one row per sample, the "
    "name of a bundled dataset (see `interplay datasets list`), or a .npy file holding a joint "
    "probability table p[x1, x2, y] (then --x1/--x2/--y are not needed). Each "
    "modality is one or more comma-separated columns; several columns are encoded jointly (each "
    "distinct combination is one symbol). With the default --estimator discrete, values must be "
    "discrete: integers, strings, booleans. "
    "In an .npz file a 1-D array is one column; a 2-D array `emb` gives the columns emb:0, "
    "emb:1, ... and the name `emb` alone selects all of them.\n\n"
    "--estimator picks how samples are turned into a PID: `discrete` (the default) counts the "
    "values (plug-in); `cluster` standardises each modality, keeps --components principal "
    "components and clusters it into --clusters k-means clusters, then counts (continuous X1, "
    "X2, discrete Y); `gaussian` fits a joint Gaussian; `copula` does the same on rank-normal "
    "scores (continuous data with any monotone marginals); `flow` (Flow-PID: normalizing flows, "
    "then the Gaussian PID; --max-epochs, --patience, --batch-size, --device) and `batch` "
    "(BATCH, neural, "
    "discrete Y; --batch-size, --classifier-epochs, --align-epochs, --device) need torch. "
    "`auto` picks discrete when "
    f"every column of X1 and X2 has at most {MAX_DISCRETE_VALUES} distinct values (or is not "
    "numeric), else cluster when Y has that few values, else copula; it never picks the "
    "neural estimators (slow, randomised). --bootstrap N gives intervals with every estimator "
    "(for the continuous ones each resample re-runs the estimator; --n-jobs runs them in "
    "parallel). See docs/choosing-an-estimator.md.\n\n"
    "\b\nExamples:\n"
    "  interplay quantify --example gates\n"
    "  interplay quantify data.csv --x1 image_cluster --x2 text_cluster --y label\n"
    "  interplay quantify data.csv --x1 a,b --x2 c --y label --bootstrap 200 --seed 0\n"
    "  interplay quantify data.parquet --x1 a --x2 b --y y --permutations 500 --json pid.json\n"
    "  interplay quantify arrays.npz --x1 emb1 --x2 emb2 --y y --method mmi\n"
    "  interplay quantify joint.npy --method broja\n"
    "  interplay quantify mfeat --x1 fou --x2 kar --y digit --estimator cluster\n"
    "  interplay quantify data.csv --x1 a,b --x2 c,d --y target --estimator copula\n"
    "  interplay quantify data.csv --x1 a,b --x2 c,d --y target --estimator gaussian "
    "--bootstrap 200 --n-jobs 2\n\n"
    "Bad input (missing or repeated column, missing values, single-valued target, unknown or "
    "corrupt file, ...) gives a message and exit status 2; nothing is written then."
)


def register(app: typer.Typer) -> None:
    """Add the ``quantify`` command to ``app``."""
    app.command("quantify", help=HELP, no_args_is_help=True)(quantify_command)


def quantify_command(
    data: Annotated[
        Path | None,
        typer.Argument(help="Sample table: .csv, .parquet or .npz.", show_default=False),
    ] = None,
    x1: X1Columns = None,
    x2: X2Columns = None,
    y: YColumns = None,
    method: Annotated[
        str,
        typer.Option("--method", "-m",
                     help="Redundancy measure: " + ", ".join(list_pid_methods()) + "."),
    ] = "broja",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples for intervals (0: none).")
    ] = 0,
    permutations: Annotated[
        int,
        typer.Option("--permutations",
                     help="Permutations for p-values against 'Y independent of X1,X2'."),
    ] = 0,
    confidence: Annotated[
        float, typer.Option("--confidence", help="Coverage of the intervals.")
    ] = 0.95,
    bias_correction: Annotated[
        bool,
        typer.Option("--bias-correction", help="Bootstrap bias correction (needs --bootstrap)."),
    ] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed for resampling and k-means.")
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the full result as JSON to this file.",
                     show_default=False),
    ] = None,
    example: ExampleName = None,
    progress: ShowProgress = True,
    estimator: Annotated[
        str,
        typer.Option("--estimator", "-e", help="How to estimate from samples: "
                     + ", ".join(ESTIMATORS) + "."),
    ] = "discrete",
    clusters: Annotated[
        int | None,
        typer.Option("--clusters", show_default=False,
                     help="k-means clusters per modality for --estimator cluster (default 20)."),
    ] = None,
    components: Annotated[
        int | None,
        typer.Option("--components", show_default=False,
                     help="Principal components per modality for --estimator cluster "
                     "(default 2; 0: no PCA)."),
    ] = None,
    max_epochs: Annotated[
        int | None,
        typer.Option("--max-epochs", show_default=False,
                     help="Training epochs at most, for --estimator flow."),
    ] = None,
    patience: Annotated[
        int | None,
        typer.Option("--patience", show_default=False,
                     help="Early-stopping patience in epochs, for --estimator flow."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", show_default=False,
                     help="Minibatch size, for --estimator flow or batch."),
    ] = None,
    classifier_epochs: Annotated[
        int | None,
        typer.Option("--classifier-epochs", show_default=False,
                     help="Epochs of the classifiers p(y|x), for --estimator batch."),
    ] = None,
    align_epochs: Annotated[
        int | None,
        typer.Option("--align-epochs", show_default=False,
                     help="Epochs of the alignment (the coupling), for --estimator batch."),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", show_default=False,
                     help="Torch device (cpu, cuda, ...) for --estimator flow or batch."),
    ] = None,
    n_jobs: Annotated[
        int, typer.Option("--n-jobs", help="Processes for the bootstrap of a continuous "
                          "estimator (-1: all cores).")
    ] = 1,
) -> None:
    if (data is None) == (example is None):
        raise InvalidInputError(
            "give either a DATA file or --example NAME "
            f"({', '.join(sorted(EXAMPLES))}), not {'both' if data else 'neither'}."
        )
    if estimator not in ESTIMATORS:
        raise InvalidInputError(
            f"--estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}."
        )
    if clusters is not None and clusters < 2:
        raise InvalidInputError(f"--clusters must be at least 2, got {clusters}.")
    if components is not None and components < 0:
        raise InvalidInputError(f"--components must be 0 (no PCA) or more, got {components}.")
    for flag, value in (("--max-epochs", max_epochs), ("--patience", patience),
                        ("--batch-size", batch_size), ("--classifier-epochs", classifier_epochs),
                        ("--align-epochs", align_epochs)):
        if value is not None and value < 1:
            raise InvalidInputError(f"{flag} must be at least 1, got {value}.")
    if n_jobs == 0 or n_jobs < -1:
        raise InvalidInputError(f"--n-jobs must be a positive number or -1, got {n_jobs}.")
    check_json_target(json_out)
    if data is not None and data.suffix.lower() == ".npy":
        if bootstrap or permutations or bias_correction:
            raise InvalidInputError(
                "--bootstrap, --permutations and --bias-correction need samples; a .npy file "
                "holds a probability table p[x1, x2, y], whose PID is exact."
            )
        given = [flag for flag, value in (
            ("--clusters", clusters), ("--components", components), ("--max-epochs", max_epochs),
            ("--patience", patience), ("--batch-size", batch_size),
            ("--classifier-epochs", classifier_epochs), ("--align-epochs", align_epochs),
            ("--device", device)) if value is not None]
        if estimator not in ("auto", "discrete") or given:
            raise InvalidInputError(
                f"--estimator{''.join(', ' + f for f in given)} need samples; a .npy file "
                "holds a probability table p[x1, x2, y], whose PID is exact."
            )
        result = pid(read_pmf(data), method=method).with_(settings={"data": str(data)})
        if json_out is not None:
            write_json_atomically(json_out, result.to_json())
        _print(result, str(data), {"--x1": ["x1"], "--x2": ["x2"], "--y": ["y"]}, json_out)
        return
    if example is not None:
        frame, spec = read_example(example)
        x1, x2, y = x1 or spec.x1, x2 or spec.x2, y or spec.y
        source = f"example {example!r}"
    elif data is None:  # unreachable: exactly one of DATA and --example passed the check above
        raise InvalidInputError("give either a DATA file or --example NAME.")
    elif not data.exists() and str(data) in list_datasets():
        frame = dataset_frame(str(data))
        source = f"dataset {str(data)!r}"
    else:
        frame = read_table(data)
        source = str(data)
    roles = _resolve_roles(frame, {"--x1": x1, "--x2": x2, "--y": y})
    _check_values(frame, roles)
    chosen, reason = _choose_estimator(estimator, frame, roles)
    options = _estimator_options(chosen, {
        "--clusters": clusters, "--components": components, "--max-epochs": max_epochs,
        "--patience": patience, "--batch-size": batch_size,
        "--classifier-epochs": classifier_epochs, "--align-epochs": align_epochs,
        "--device": device,
    })
    if chosen != "discrete":
        result = _continuous(chosen, frame, roles, method=method, bootstrap=bootstrap,
                             permutations=permutations, bias_correction=bias_correction,
                             confidence=confidence, seed=seed, n_jobs=n_jobs,
                             progress=progress, options=options)
    else:
        result = _discrete(frame, roles, method=method, bootstrap=bootstrap,
                           permutations=permutations, bias_correction=bias_correction,
                           confidence=confidence, seed=seed, progress=progress)
    result = result.with_(
        settings={
            **result.settings,
            "data": source,
            "x1": roles["--x1"],
            "x2": roles["--x2"],
            "y": roles["--y"],
        }
    )
    if json_out is not None:
        write_json_atomically(json_out, result.to_json())
    _print(result, source, roles, json_out, note=reason)


def _discrete(frame: pd.DataFrame, roles: dict[str, list[str]], *, method: str, bootstrap: int,
              permutations: int, bias_correction: bool, confidence: float, seed: int | None,
              progress: bool) -> PIDResult:
    return quantify_samples(
        frame[roles["--x1"]],
        frame[roles["--x2"]],
        frame[roles["--y"]],
        method=method,
        n_bootstrap=bootstrap,
        confidence=confidence,
        n_permutations=permutations,
        bias_correction="bootstrap" if bias_correction else None,
        random_state=seed,
        progress=progress,
    )


def _estimator_options(estimator: str, given: dict[str, object]) -> dict[str, object]:
    """Keyword arguments of ``estimator`` from its command-line options; others must be unset."""
    options: dict[str, object] = {}
    for flag, value in given.items():
        if value is None:
            continue
        keyword, owners = ESTIMATOR_OPTIONS[flag]
        if estimator not in owners:
            raise InvalidInputError(
                f"{flag} applies to --estimator {' or '.join(owners)}; the estimator is "
                f"{estimator!r}. Add --estimator {owners[0]} or drop {flag}."
            )
        options[keyword] = value
    if estimator == "cluster":
        options.setdefault("n_clusters", 20)
        options["n_components"] = options.get("n_components", 2) or None
    return options


def _continuous(estimator: str, frame: pd.DataFrame, roles: dict[str, list[str]], *,
                method: str, bootstrap: int, permutations: int, bias_correction: bool,
                confidence: float, seed: int | None, n_jobs: int, progress: bool,
                options: dict[str, object]) -> PIDResult:
    if permutations or bias_correction:
        raise InvalidInputError(
            f"--permutations and --bias-correction are for the discrete estimator; with "
            f"--estimator {estimator} use --bootstrap for intervals."
        )
    function = estimator_function(estimator)
    accepted = _parameters(function)
    kwargs: dict[str, Any] = dict(options)
    if "method" in accepted:
        kwargs["method"] = method
    elif method != "broja":
        raise InvalidInputError(
            f"--method {method} is not available with --estimator {estimator} (BROJA only)."
        )
    x1, x2 = (_numeric(frame[roles[f]].to_numpy(), f) for f in ("--x1", "--x2"))
    y_frame = frame[roles["--y"]]
    y = (y_frame.to_numpy().ravel() if y_frame.shape[1] == 1 else y_frame.to_numpy()) \
        if estimator in LABEL_TARGETS else _numeric(y_frame.to_numpy(), "--y")
    if bootstrap:
        return bootstrap_pid(function, x1, x2, y, n_bootstrap=bootstrap, confidence=confidence,
                             random_state=seed, n_jobs=n_jobs, progress=progress, **kwargs)
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    if "progress" in accepted:
        kwargs["progress"] = progress
    return function(x1, x2, y, **kwargs)


def _numeric(values: np.ndarray, flag: str) -> np.ndarray:
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{flag}: this estimator needs numeric columns, got values such as "
            f"{values.ravel()[0]!r}."
        ) from exc


def _is_discrete(column: pd.Series) -> bool:
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    return not numeric or column.nunique() <= MAX_DISCRETE_VALUES


def _choose_estimator(estimator: str, frame: pd.DataFrame, roles: dict[str, list[str]]
                      ) -> tuple[str, str | None]:
    """The estimator to use and, for ``auto``, a sentence saying why."""
    if estimator != "auto":
        return estimator, None
    continuous = [c for flag in ("--x1", "--x2") for c in roles[flag]
                  if not _is_discrete(frame[c])]
    if not continuous:
        return "discrete", None
    first = f"{continuous[0]!r}" + (f" and {len(continuous) - 1} more" if len(continuous) > 1
                                    else "")
    if all(_is_discrete(frame[c]) for c in roles["--y"]):
        return "cluster", (f"estimator auto: cluster, since column {first} has more than "
                           f"{MAX_DISCRETE_VALUES} distinct values and y is discrete.")
    return "copula", (f"estimator auto: copula, since column {first} and y have more than "
                      f"{MAX_DISCRETE_VALUES} distinct values.")


def _resolve_roles(frame: pd.DataFrame, given: dict[str, str | None]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for flag, spec in given.items():
        if spec is None or not spec.strip():
            raise InvalidInputError(f"{flag} is required: name the column(s) of that variable.")
        names = [s.strip() for s in spec.split(",")]
        if any(not s for s in names):
            raise InvalidInputError(f"{flag} {spec!r} has an empty column name.")
        cols: list[str] = []
        for name in names:
            for col in columns_of(frame, name):
                if col in seen:
                    where = (
                        f"twice in {flag}" if seen[col] == flag else f"in {seen[col]} and {flag}"
                    )
                    raise InvalidInputError(
                        f"column {col!r} is used {where}; each column may play one role once."
                    )
                seen[col] = flag
                cols.append(col)
        roles[flag] = cols
    return roles


def _check_values(frame: pd.DataFrame, roles: dict[str, list[str]]) -> None:
    for flag, cols in roles.items():
        for col in cols:
            missing = frame[col].isna()
            if missing.any():
                raise InvalidInputError(
                    f"column {col!r} ({flag}) has {int(missing.sum())} missing or empty value(s), "
                    f"the first in data row {int(missing.to_numpy().argmax()) + 1}. Drop or fill "
                    "those rows first."
                )
    if len(frame[roles["--y"]].drop_duplicates()) < 2:
        raise InvalidInputError(
            f"the target {', '.join(roles['--y'])} (--y) has a single value; there is no "
            "information to decompose."
        )


def write_json_atomically(path: Path, text: str) -> None:
    """Write ``text`` and a newline to ``path`` atomically: the old file or the whole new one."""
    atomic_write_text(path, text + "\n")


def _print(result: PIDResult, source: str, roles: dict[str, list[str]], json_out: Path | None,
           note: str | None = None) -> None:
    console = Console()
    if note is not None:
        console.print(note, highlight=False)
    table = Table(
        title=f"PID of {source} ({result.method}, {result.estimator}, {result.units})",
        title_justify="left",
    )
    labels = {
        "redundancy": "R  redundancy",
        "unique1": f"U1 unique to x1 ({_columns_label(roles['--x1'])})",
        "unique2": f"U2 unique to x2 ({_columns_label(roles['--x2'])})",
        "synergy": "S  synergy",
    }
    table.add_column("atom")
    table.add_column("value", justify="right")
    if result.ci is not None:
        level = result.settings.get("confidence", 0.95)
        table.add_column(f"{level:.0%} interval", justify="right")
    if result.p_values is not None:
        table.add_column("p-value", justify="right")
    for atom in ATOMS:
        row = [labels[atom], f"{getattr(result, atom):.4f}"]
        if result.ci is not None:
            lo, hi = result.ci[atom]
            row.append(f"[{lo:.4f}, {hi:.4f}]")
        if result.p_values is not None:
            row.append(f"{result.p_values[atom]:.3g}")
        table.add_row(*row)
    console.print(table)
    console.print(
        f"I(X1,X2;Y) = {result.mi_joint:.4f}   I(X1;Y) = {result.mi_x1:.4f}   "
        f"I(X2;Y) = {result.mi_x2:.4f}   n = {result.n_samples}   y = {', '.join(roles['--y'])}",
        highlight=False,
    )
    for note in result.warnings:
        console.print(f"[yellow]warning:[/] {note}", highlight=False)
    if json_out is not None:
        console.print(f"wrote {json_out}", highlight=False)



def _columns_label(columns: list[str]) -> str:
    """``emb (64 columns)`` for the columns ``emb:0 .. emb:63`` of one array, else the names."""
    prefixes = {c.split(":", 1)[0] for c in columns}
    if len(columns) > 3 and len(prefixes) == 1 and all(":" in c for c in columns):
        return f"{prefixes.pop()} ({len(columns)} columns)"
    return ", ".join(columns)
