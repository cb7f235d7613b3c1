"""`interplay quantify`: the PID of two modalities and a target, from a sample table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
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
from ..estimators.registry import (
    ALIASES,
    AUTO,
    CLUSTER_COMPONENTS,
    DEFAULT_SEED,
    MAX_DEFAULT_CLUSTERS,
    MAX_DISCRETE_VALUES,
    REGISTRY,
    choose_estimator,
    get_estimator,
    list_estimators,
)
from ..exceptions import InvalidInputError
from ..info.pid import ATOMS, PIDResult, list_pid_methods, pid
from ._options import (
    ExampleName,
    ShowProgress,
    X1Columns,
    X2Columns,
    YColumns,
    check_json_target,
    with_threads,
)
from ._output import command_line, console, print_warnings, stamped, write_output

if TYPE_CHECKING:
    import pandas as pd

#: Values of --estimator: "auto", the registry's estimators and their aliases.
ESTIMATORS = (AUTO, *list_estimators(), *ALIASES)
#: Estimator options of the command line: flag -> keyword. Which estimators take a keyword is
#: read from the registry (:attr:`EstimatorSpec.options`).
ESTIMATOR_OPTIONS = {
    "--clusters": "n_clusters",
    "--components": "n_components",
    "--max-epochs": "max_epochs",
    "--patience": "patience",
    "--batch-size": "batch_size",
    "--classifier-epochs": "classifier_epochs",
    "--align-epochs": "align_epochs",
    "--device": "device",
}

HELP = (
    "Decompose what two modalities X1, X2 tell about a target Y into redundancy R, unique "
    "information U1 (only X1) and U2 (only X2), and synergy S, in bits.\n\n"
    "DATA is a .csv (with a header), .parquet or .npz file with one row per sample, the "
    "name of a bundled dataset (see `interplay datasets list`), or a .npy file holding a joint "
    "probability table p[x1, x2, y] (then --x1/--x2/--y are not needed). Each "
    "modality is one or more comma-separated columns; several columns are encoded jointly (each "
    "distinct combination is one symbol). With --estimator plugin, values must be "
    "discrete: integers, strings, booleans. "
    "In an .npz file a 1-D array is one column; a 2-D array `emb` gives the columns emb:0, "
    "emb:1, ... and the name `emb` alone selects all of them.\n\n"
    "--estimator picks how samples are turned into a PID: `plugin` (also "
    "`discrete`) counts the values; `cluster` standardises each modality, keeps --components "
    "principal components and clusters it into --clusters k-means clusters, then counts "
    "(continuous X1, X2, discrete Y); `gaussian` fits a joint Gaussian; `copula` does the "
    "same on rank-normal scores (continuous data with any monotone marginals); `flow` "
    "(Flow-PID: normalizing flows, then the Gaussian PID; --max-epochs, --patience, "
    "--batch-size, --device) and `batch` (BATCH, neural, discrete Y; --batch-size, "
    "--classifier-epochs, --align-epochs, --device) need torch. "
    "`auto` (the default) picks plugin when "
    f"every column of X1 and X2 has at most {MAX_DISCRETE_VALUES} distinct values (or is not "
    "numeric), else cluster when Y has that few values, else copula; it never picks the "
    "neural estimators (slow, randomised). --bootstrap N gives intervals with every estimator "
    "(each resample re-runs the whole estimator, clustering and training included; --n-jobs "
    "runs them in parallel). See docs/choosing-an-estimator.md.\n\n"
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
    app.command("quantify", help=HELP, no_args_is_help=True)(with_threads(quantify_command))


def quantify_command(
    ctx: typer.Context,
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
        typer.Option("--bias-correction/--no-bias-correction", metavar="",
                     help="Bootstrap bias correction (needs --bootstrap)."),
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed for resampling, k-means and training.")
    ] = DEFAULT_SEED,
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
    ] = AUTO,
    clusters: Annotated[
        int | None,
        typer.Option("--clusters", show_default=False,
                     help="k-means clusters per modality for --estimator cluster "
                     f"(default: the most, 2 to {MAX_DEFAULT_CLUSTERS}, that keep 5 samples "
                     "per joint cell)."),
    ] = None,
    components: Annotated[
        int | None,
        typer.Option("--components", show_default=False,
                     help="Principal components per modality for --estimator cluster "
                     f"(default {CLUSTER_COMPONENTS}; 0: no PCA)."),
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
            f"({', '.join(sorted(EXAMPLES))}); got {'both' if data else 'neither'}."
        )
    if estimator not in ESTIMATORS:
        raise InvalidInputError(
            f"--estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}."
        )
    estimator = ALIASES.get(estimator, estimator)
    if clusters is not None and clusters < 2:
        raise InvalidInputError(f"--clusters must be at least 2, got {clusters}.")
    if components is not None and components < 0:
        raise InvalidInputError(f"--components must be 0 (no PCA) or more, got {components}.")
    for flag, value in (("--max-epochs", max_epochs), ("--patience", patience),
                        ("--batch-size", batch_size), ("--classifier-epochs", classifier_epochs),
                        ("--align-epochs", align_epochs)):
        if value is not None and value < 1:
            raise InvalidInputError(f"{flag} must be at least 1, got {value}.")
    for flag, count in (("--bootstrap", bootstrap), ("--permutations", permutations)):
        if count < 0:
            raise InvalidInputError(f"{flag} must be 0 (none) or more, got {count}.")
    if not 0.0 < confidence < 1.0:
        raise InvalidInputError(
            f"--confidence must lie strictly between 0 and 1, got {confidence}."
        )
    if n_jobs == 0 or n_jobs < -1:
        raise InvalidInputError(f"--n-jobs must be a positive number or -1, got {n_jobs}.")
    check_json_target(json_out, inputs=(data,))
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
        if estimator not in (AUTO, "plugin") or given:
            raise InvalidInputError(
                f"--estimator{''.join(', ' + f for f in given)} need samples; a .npy file "
                "holds a probability table p[x1, x2, y], whose PID is exact."
            )
        result = pid(read_pmf(data), method=method).with_(settings={"data": str(data)})
        if json_out is not None:
            write_json_atomically(json_out, _document(result, data, ctx, seed=None))
        _print(result, str(data), {"--x1": ["x1"], "--x2": ["x2"], "--y": ["y"]}, json_out)
        return
    frame, roles, source = load_samples(data, example, {"--x1": x1, "--x2": x2, "--y": y})
    if estimator == AUTO:
        chosen, why = choose_estimator(frame[roles["--x1"]], frame[roles["--x2"]],
                                       frame[roles["--y"]])
        reason = None if chosen == "plugin" else f"estimator auto: {why}."
    else:
        chosen, reason = estimator, None
    options = _estimator_options(chosen, {
        "--clusters": clusters, "--components": components, "--max-epochs": max_epochs,
        "--patience": patience, "--batch-size": batch_size,
        "--classifier-epochs": classifier_epochs, "--align-epochs": align_epochs,
        "--device": device,
    })
    if estimator == "plugin":
        _refuse_continuous(frame, roles)
    if chosen == "plugin":
        options.update(n_permutations=permutations,
                       bias_correction="bootstrap" if bias_correction else None)
    elif permutations or bias_correction:
        raise InvalidInputError(
            f"--permutations and --bias-correction are for the plug-in estimator; with "
            f"--estimator {chosen} use --bootstrap for intervals."
        )
    from ..estimators import quantify

    result = quantify(*_inputs(chosen, frame, roles), estimator=chosen, method=method,
                      n_bootstrap=bootstrap, confidence=confidence, random_state=seed,
                      n_jobs=n_jobs, progress=progress, **options)
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
        write_json_atomically(json_out, _document(result, data, ctx, seed=seed))
    _print(result, source, roles, json_out, note=reason)


def load_samples(data: Path | None, example: str | None, given: dict[str, str | None]
                 ) -> tuple[pd.DataFrame, dict[str, list[str]], str]:
    """The sample table of DATA (a file or a bundled dataset) or of --example, the columns of
    each role (--x1, --x2, --y; an example fills the roles not given), checked for missing
    values and a constant target, and a description of the source."""
    if example is not None:
        frame, spec = read_example(example)
        given = {"--x1": given["--x1"] or spec.x1, "--x2": given["--x2"] or spec.x2,
                 "--y": given["--y"] or spec.y}
        source = f"example {example!r}"
    elif data is None:  # unreachable: the commands check that DATA or --example is given
        raise InvalidInputError("give either a DATA file or --example NAME.")
    elif not data.exists() and str(data) in list_datasets():
        frame = dataset_frame(str(data))
        source = f"dataset {str(data)!r}"
    else:
        frame = read_table(data)
        source = str(data)
    roles = _resolve_roles(frame, given)
    _check_values(frame, roles)
    return frame, roles, source


def _estimator_options(estimator: str, given: dict[str, object]) -> dict[str, object]:
    """Keyword arguments of ``estimator`` from its command-line options; others must be unset."""
    options: dict[str, object] = {}
    for flag, value in given.items():
        if value is None:
            continue
        keyword = ESTIMATOR_OPTIONS[flag]
        owners = [name for name, spec in REGISTRY.items() if keyword in spec.options]
        if estimator not in owners:
            raise InvalidInputError(
                f"{flag} applies to --estimator {' or '.join(owners)}; the estimator is "
                f"{estimator!r}. Add --estimator {owners[0]} or drop {flag}."
            )
        options[keyword] = value
    if options.get("n_components") == 0:
        options["n_components"] = None
    return options


def _inputs(estimator: str, frame: pd.DataFrame, roles: dict[str, list[str]]
            ) -> tuple[Any, Any, Any]:
    """X1, X2 and Y as the estimator takes them: tables of values for the plug-in, numbers
    for the others, the target as read where it is a class label."""
    if estimator == "plugin":
        return tuple(frame[roles[f]] for f in ("--x1", "--x2", "--y"))  # type: ignore[return-value]
    x1, x2 = (_numeric(frame[roles[f]].to_numpy(), f) for f in ("--x1", "--x2"))
    y_frame = frame[roles["--y"]]
    y = (y_frame.to_numpy().ravel() if y_frame.shape[1] == 1 else y_frame.to_numpy()) \
        if get_estimator(estimator).target == "label" else _numeric(y_frame.to_numpy(), "--y")
    return x1, x2, y


def _numeric(values: np.ndarray, flag: str) -> np.ndarray:
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{flag}: this estimator needs numeric columns, got values such as "
            f"{values.ravel()[0]!r}."
        ) from exc


def _refuse_continuous(frame: pd.DataFrame, roles: dict[str, list[str]]) -> None:
    """Refuse a float column with non-integer values: the discrete estimator would make each
    distinct number a category (thousands of them), a table too large and far too sparse."""
    for flag, cols in roles.items():
        for col in cols:
            column = frame[col]
            if column.dtype.kind != "f":
                continue
            values = column.to_numpy(dtype=np.float64)
            fractional = values != np.round(values)
            if fractional.any():
                raise InvalidInputError(
                    f"column {col!r} ({flag}) holds continuous numbers such as "
                    f"{values[fractional.argmax()]:.6g} ({column.nunique()} distinct values); "
                    "the discrete estimator counts each distinct value as a category. Use "
                    "--estimator auto, cluster or copula for continuous columns, or bin them "
                    "into a few integer values first."
                )


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


def _document(result: PIDResult, data: Path | None, ctx: Any, *, seed: int | None) -> str:
    """The result as JSON, with ``kind``, ``interplay_version`` and what produced it on top
    (what ``interplay report`` shows as provenance)."""
    import hashlib

    from .._json import dumps

    digest = None
    if data is not None and data.is_file():
        digest = hashlib.sha256(data.read_bytes()).hexdigest()
    provenance = {
        "command": command_line(ctx),
        "data": result.settings.get("data"),
        "data_sha256": digest,
        "seed": seed,
        "estimator": result.estimator,
        "settings": result.settings,
        "warnings": list(result.warnings),
    }
    return dumps(stamped("pid", result.to_dict(), provenance=provenance))


def write_json_atomically(path: Path, text: str) -> None:
    """Write ``text`` and a newline to ``path`` atomically: the old file or the whole new one.

    If that fails (the folder went away, the disk is full), the text is saved to a temporary
    file and the error says where."""
    write_output(path, lambda target: atomic_write_text(target, text + "\n"))


def _print(result: PIDResult, source: str, roles: dict[str, list[str]], json_out: Path | None,
           note: str | None = None) -> None:
    out = console()
    if note is not None:
        out.print(note, highlight=False)
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
    out.print(table)
    out.print(
        f"I(X1,X2;Y) = {result.mi_joint:.4f}   I(X1;Y) = {result.mi_x1:.4f}   "
        f"I(X2;Y) = {result.mi_x2:.4f}   n = {result.n_samples}   y = {', '.join(roles['--y'])}",
        highlight=False,
    )
    print_warnings(out, result.warnings)
    if json_out is not None:
        out.print(f"wrote {json_out}", highlight=False)



def _columns_label(columns: list[str]) -> str:
    """``emb (64 columns)`` for the columns ``emb:0 .. emb:63`` of one array, else the names."""
    prefixes = {c.split(":", 1)[0] for c in columns}
    if len(columns) > 3 and len(prefixes) == 1 and all(":" in c for c in columns):
        return f"{prefixes.pop()} ({len(columns)} columns)"
    return ", ".join(columns)
