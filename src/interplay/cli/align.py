"""`interplay align`: how well two representations of the same samples line up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from .._atomic import atomic_write_text
from .._json import dumps
from ..exceptions import DataFormatError, InvalidInputError

DEFAULT_METRICS = ("mutual_knn", "debiased_cka", "cka")
KIND = "alignment"

HELP = (
    "Measure the alignment of two representations of the same samples (row i of A and row i "
    "of B describe one sample): mutual nearest neighbours, CKA and the other metrics of "
    "interplay.alignment, each next to its chance level.\n\n"
    "SOURCES is either two array files A B (.npy; .npz with one array, or --key-a/--key-b; "
    ".csv with a header or .parquet: all columns, which must be numeric), or a bundled dataset "
    "and two of its modalities (`interplay align mfeat fou kar`).\n\n"
    "Chance: mutual-kNN's is k/(n-1); debiased CKA's is 0; biased CKA's grows with the "
    "dimension. --permutations N adds a permutation null (rows of B shuffled) with a p-value "
    "to every metric.\n\n"
    "\b\nExamples:\n"
    "  interplay align image.npy text.npy\n"
    "  interplay align mfeat fou kar --metric mutual_knn --metric debiased_cka --k 20\n"
    "  interplay align a.npz b.npz --permutations 200 --seed 0 --json align.json\n\n"
    "Bad input (different numbers of rows, NaN or inf, one row, k >= n, constant features for "
    "CKA, a 1-D array, an unknown metric) gives a one-line message and exit status 2; nothing "
    "is written then."
)


def register(app: typer.Typer) -> None:
    """Add the ``align`` command to ``app``."""
    app.command("align", help=HELP, no_args_is_help=True)(align_command)


def _read(path: Path, key: str | None, flag: str) -> np.ndarray:
    if not path.is_file():
        raise InvalidInputError(f"{str(path)!r} is not a file (nor a bundled dataset name).")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                names = list(z.files)
                if key is None and len(names) == 1:
                    return z[names[0]]
                if key is None or key not in names:
                    raise InvalidInputError(
                        f"{flag}: {str(path)!r} holds the arrays {', '.join(names) or 'none'}; "
                        f"name one with {flag}" + (f" (got {key!r})." if key else ".")
                    )
                return z[key]
        if suffix in (".csv", ".parquet"):
            import pandas as pd

            frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
            bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
            if bad:
                raise InvalidInputError(
                    f"{str(path)!r}: every column must be numeric; {bad[0]!r} is not."
                )
            return frame.to_numpy(dtype=np.float64)
    except (OSError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise DataFormatError(f"{str(path)!r} could not be read as {suffix}: {exc}") from exc
    raise DataFormatError(
        f"{str(path)!r}: unknown file type {suffix or '(none)'}; use .npy, .npz, .csv or "
        ".parquet."
    )


def _sources(sources: list[str], key_a: str | None, key_b: str | None
             ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    if len(sources) == 3:
        from ..data.registry import list_datasets, load_dataset

        name, mod_a, mod_b = sources
        if name not in list_datasets():
            raise InvalidInputError(
                f"With three SOURCES the first must be a bundled dataset "
                f"({', '.join(list_datasets())}); got {name!r}."
            )
        ds = load_dataset(name)
        for mod in (mod_a, mod_b):
            if mod not in ds.modality_names:
                raise InvalidInputError(
                    f"{name!r} has the modalities {', '.join(ds.modality_names)}; got {mod!r}."
                )
        a, b = (ds.modalities[m].reshape(ds.n_samples, -1) for m in (mod_a, mod_b))
        return a, b, {"dataset": name, "a": mod_a, "b": mod_b}
    if len(sources) != 2:
        raise InvalidInputError(
            f"SOURCES must be two array files (A B) or a dataset and two modalities; got "
            f"{len(sources)} argument(s)."
        )
    a = _read(Path(sources[0]), key_a, "--key-a")
    b = _read(Path(sources[1]), key_b, "--key-b")
    return a, b, {"a": sources[0], "b": sources[1], "key_a": key_a, "key_b": key_b}


def compute_alignment(
    a: Any, b: Any, metrics: list[str], *, k: int, permutations: int, seed: int | None,
    clamp: float | None,
) -> dict[str, Any]:
    """Every metric with its chance level (and permutation null); checks everything first."""
    from ..alignment import analytic_chance, clamp_quantile, metric_function, permutation_null
    from ..alignment._arrays import as_pair
    from ..alignment.registry import takes_k

    if permutations < 0:
        raise InvalidInputError(f"`n_permutations` must be >= 0, got {permutations}.")
    xa, xb = as_pair(a, b)
    names = list(dict.fromkeys(metrics))
    for name in names:
        metric_function(name)
    if any(takes_k(m) for m in names) and not 1 <= k < xa.shape[0]:
        raise InvalidInputError(
            f"--k must satisfy 1 <= k < n_samples = {xa.shape[0]} (a sample is never its own "
            f"neighbour), got {k}."
        )
    if clamp is not None:
        xa, xb = clamp_quantile(xa, clamp), clamp_quantile(xb, clamp)
    n = xa.shape[0]
    rows: dict[str, dict[str, Any]] = {}
    for name in names:
        opts: dict[str, Any] = {"k": k} if takes_k(name) else {}
        if name == "svcca":
            opts = {"dim": min(10, xa.shape[1], xb.shape[1], n - 1)}
        fn = metric_function(name)
        row: dict[str, Any] = {"options": opts,
                               "chance": analytic_chance(name, n, opts.get("k"))}
        if permutations:
            res = permutation_null(fn, xa, xb, permutations, random_state=seed, **opts)
            row.update(res.to_dict())
        else:
            row["score"] = float(fn(xa, xb, **opts))
        rows[name] = row
    return {"n_samples": n, "d_a": xa.shape[1], "d_b": xb.shape[1], "k": k,
            "clamp_quantile": clamp, "metrics": rows}


def align_command(
    sources: Annotated[
        list[str],
        typer.Argument(help="A B (array files) or DATASET MODALITY_A MODALITY_B.",
                       show_default=False),
    ],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", show_default=False,
                     help="Metric (repeatable): mutual_knn, cycle_knn, lcs_knn, "
                     "edit_distance_knn, cknna, cka, debiased_cka, rbf_cka, svcca. Default: "
                     + ", ".join(DEFAULT_METRICS) + "."),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Neighbours for the kNN metrics.")] = 10,
    permutations: Annotated[
        int, typer.Option("--permutations", help="Permutations for a null and p-values (0: "
                          "analytic chance only).")
    ] = 0,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the permutations.")] = None,
    clamp: Annotated[
        float | None,
        typer.Option("--clamp", show_default=False,
                     help="Clip each array at this quantile of its absolute values first "
                     "(the papers use 0.95)."),
    ] = None,
    key_a: Annotated[str | None, typer.Option("--key-a", show_default=False,
                                              help="Array of A in an .npz file.")] = None,
    key_b: Annotated[str | None, typer.Option("--key-b", show_default=False,
                                              help="Array of B in an .npz file.")] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", show_default=False, help="Write the result as JSON here."),
    ] = None,
) -> None:
    """Print the metrics table and write the JSON result."""
    from ._output import check_output, console, stamped, write_output

    check_output(json_out, "--json", [Path(s) for s in sources])
    a, b, origin = _sources(sources, key_a, key_b)
    result = compute_alignment(a, b, list(metric or DEFAULT_METRICS), k=k,
                               permutations=permutations, seed=seed, clamp=clamp)
    body = stamped(KIND, result, inputs=origin)
    text = dumps(body) + "\n"
    out = console()
    table = Table(title=f"alignment of {result['n_samples']} paired samples "
                  f"(d_a={result['d_a']}, d_b={result['d_b']})")
    for col in ("metric", "score", "chance", "null mean ± sd", "p-value"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for name, row in result["metrics"].items():
        label = name + (f" (k={row['options']['k']})" if "k" in row["options"] else "")
        chance = "-" if row["chance"] is None else f"{row['chance']:.4f}"
        null = (f"{row['null_mean']:.4f} ± {row['null_std']:.4f}" if "null_mean" in row
                else "-")
        p = f"{row['p_value']:.4g}" if "p_value" in row else "-"
        table.add_row(label, f"{row['score']:.4f}", chance, null, p)
    out.print(table)
    if json_out is not None:
        write_output(json_out, lambda target: atomic_write_text(target, text))
        out.print(f"wrote {json_out}", highlight=False)
