"""`interplay recommend`: a dataset's interaction profile and the fusions that suit it."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from .._validation import DEFAULT_SEED
from ..data.tables import EXAMPLES, read_pmf
from ..estimators.registry import CLUSTER_COMPONENTS, MAX_DEFAULT_CLUSTERS
from ..exceptions import InvalidInputError, SmallSampleWarning
from ._options import (
    ExampleName,
    ShowProgress,
    X1Columns,
    X2Columns,
    YColumns,
    check_json_target,
    with_threads,
)
from ._output import command_line, print_warnings, stamped
from .quantify import load_samples, write_json_atomically

if TYPE_CHECKING:
    from ..analysis.recommend import InteractionProfile, Recommendation

HELP = (
    "Estimate how two modalities X1, X2 inform a target Y (the shares of redundancy R, unique "
    "information U1 and U2, and synergy S in a partial information decomposition) and rank "
    "the fusion architectures of `interplay train` by the accuracy they are predicted to "
    "reach on data with that profile, relative to the best one.\n\n"
    "DATA is what `interplay quantify` reads: a .csv (with a header), .parquet or .npz sample "
    "table, the name of a bundled dataset, or a .npy joint probability table p(x1, x2, y). "
    "--estimator auto counts discrete columns exactly, clusters continuous modalities when Y "
    "is discrete (--clusters k-means clusters on --components principal components), and uses "
    "a Gaussian copula when Y is continuous.\n\n"
    "The ranking is a linear model in the shares whose coefficients were calibrated on real "
    "modality pairs (redundant and unique information) and a synthetic suite (synergy); see "
    "docs/model-selection.md. Each prediction carries an interval (the profile's bootstrap "
    "intervals and the calibration's spread); when the intervals do not separate the top "
    "candidates, the simplest of them is recommended (the unimodal ensemble counts as the "
    "simplest) and the output says so.\n\n"
    "\b\nExamples:\n"
    "  interplay recommend --example gates\n"
    "  interplay recommend data.csv --x1 a --x2 b --y label --json rec.json\n"
    "  interplay recommend mfeat --x1 fou --x2 kar --y digit\n"
    "  interplay recommend arrays.npz --x1 emb1 --x2 emb2 --y y --candidates early,tensor\n"
    "  interplay recommend joint.npy\n"
    "  interplay recommend mfeat --x1 fou --x2 kar --y digit --max-params 20000\n\n"
    "Bad input gives a message and exit status 2; nothing is written then."
)


def register(app: typer.Typer) -> None:
    """Add the ``recommend`` command to ``app``."""
    app.command("recommend", help=HELP, no_args_is_help=True)(with_threads(recommend_command))


def recommend_command(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Argument(help="Sample table, bundled dataset name or .npy table.",
                       show_default=False),
    ] = None,
    x1: X1Columns = None,
    x2: X2Columns = None,
    y: YColumns = None,
    estimator: Annotated[
        str, typer.Option("--estimator", "-e",
                          help="auto, plugin (also: discrete), cluster, gaussian or copula.")
    ] = "auto",
    method: Annotated[str, typer.Option("--method", "-m", help="Redundancy measure.")] = "broja",
    clusters: Annotated[
        int | None,
        typer.Option("--clusters", show_default=False,
                     help="k-means clusters per modality (cluster estimator; default, as in "
                          f"`quantify`: the most, 2 to {MAX_DEFAULT_CLUSTERS}, that keep 5 "
                          "samples per joint cell).")
    ] = None,
    components: Annotated[
        int, typer.Option("--components",
                          help="Principal components per modality (cluster estimator; 0: no PCA).")
    ] = CLUSTER_COMPONENTS,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap",
                          help="Bootstrap resamples for intervals of the shares (they widen "
                               "the predicted accuracies' intervals; 0: none).")
    ] = 30,
    candidates: Annotated[
        str | None,
        typer.Option("--candidates", show_default=False,
                     help="Fusions to rank, comma-separated (default: all calibrated ones)."),
    ] = None,
    max_params: Annotated[
        int | None,
        typer.Option("--max-params", show_default=False,
                     help="Cost budget: leave out candidates with more parameters (counted on "
                          "the model `interplay train` builds by default for these sizes).")
    ] = None,
    max_train_seconds: Annotated[
        float | None,
        typer.Option("--max-train-seconds", show_default=False,
                     help="Cost budget: leave out candidates whose training time, measured by "
                          "the model-selection benchmark and scaled to the data's rows, is "
                          "longer.")
    ] = None,
    unimodal: Annotated[
        str | None,
        typer.Option("--unimodal-accuracy", show_default=False,
                     help="Test accuracy of a classifier on X1 alone and on X2 alone, 'A1,A2'. "
                          "Default: measured by a logistic-regression probe (1/3 of the rows "
                          "held out; exact Bayes accuracies for a .npy table). When the better "
                          "one is less than halfway from chance to perfect, the unimodal "
                          "ensemble is left out. 'none': no such check.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of k-means and the bootstrap.")
                    ] = DEFAULT_SEED,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the profile and ranking as JSON to this file.",
                     show_default=False),
    ] = None,
    example: ExampleName = None,
    progress: ShowProgress = True,
) -> None:
    from ..analysis.recommend import recommend_fusion

    if (data is None) == (example is None):
        raise InvalidInputError(
            "give either DATA or --example NAME "
            f"({', '.join(sorted(EXAMPLES))}); got {'both' if data else 'neither'}."
        )
    check_json_target(json_out, inputs=(data,))
    if components < 0:
        raise InvalidInputError(f"--components must be 0 (no PCA) or more, got {components}.")
    if clusters is not None and clusters < 2:
        raise InvalidInputError(f"--clusters must be at least 2, got {clusters}.")
    names = None
    if candidates is not None:
        names = [c.strip() for c in candidates.split(",")]
        if any(not c for c in names):
            raise InvalidInputError(f"--candidates {candidates!r} has an empty fusion name.")
    given_acc = _parse_unimodal(unimodal)
    if data is not None and data.suffix.lower() == ".npy":
        profile, source, roles = _exact_profile(data, method), str(data), None
        measured = _bayes_accuracies(read_pmf(data))
    else:
        profile, source, roles, measured = _sample_profile(
            data, example, {"--x1": x1, "--x2": x2, "--y": y}, estimator=estimator,
            method=method, clusters=clusters, components=components, bootstrap=bootstrap,
            seed=seed, progress=progress, probe=unimodal is None)
    accuracy = given_acc if unimodal is not None else measured
    if accuracy is not None and profile.n_classes is None:
        if unimodal is not None and given_acc is not None:
            raise InvalidInputError(
                "--unimodal-accuracy needs a class-label target; Y here is numeric.")
        accuracy = None
    rec = recommend_fusion(profile, names, max_params=max_params,
                           max_train_seconds=max_train_seconds, unimodal_accuracy=accuracy)
    how = "given" if unimodal is not None else (
        "exact Bayes accuracy of the table" if roles is None else
        "logistic-regression probe, 1/3 of the rows held out")
    if json_out is not None:
        payload = stamped(
            "recommendation",
            {**rec.to_dict(), "data": source,
             "unimodal_accuracy": None if accuracy is None else
             {"x1": accuracy[0], "x2": accuracy[1], "source": how},
             "columns": None if roles is None else
             {"x1": roles["--x1"], "x2": roles["--x2"], "y": roles["--y"]}},
            provenance={"command": command_line(ctx), "data": source, "seed": seed,
                        "estimator": estimator,
                        "settings": {"method": method, "max_params": max_params,
                                     "max_train_seconds": max_train_seconds,
                                     "clusters": (profile.pid.settings or {}).get(
                                         "n_clusters", clusters),
                                     "components": components, "bootstrap": bootstrap}})
        write_json_atomically(json_out, json.dumps(payload, indent=2))
    _print(rec, profile, source, json_out, None if accuracy is None else (accuracy, how))


def _parse_unimodal(text: str | None) -> tuple[float, float] | None:
    """``'A1,A2'`` as two accuracies in [0, 1]; ``'none'`` (or no option) as None."""
    if text is None or text.strip().lower() == "none":
        return None
    parts = [t.strip() for t in text.split(",")]
    try:
        values = tuple(float(t) for t in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or not all(0.0 <= v <= 1.0 for v in values):
        raise InvalidInputError(
            f"--unimodal-accuracy must be two accuracies in [0, 1] as 'A1,A2' (or 'none'), "
            f"got {text!r}.")
    return values[0], values[1]


def _bayes_accuracies(pmf: Any) -> tuple[float, float]:
    """Accuracy of the best classifier on X1 alone and on X2 alone, from p[x1, x2, y]."""
    import numpy as np

    p = np.asarray(pmf, dtype=float)
    p = p / p.sum()
    return float(p.sum(axis=1).max(axis=1).sum()), float(p.sum(axis=0).max(axis=1).sum())


def _sample_profile(data: Path | None, example: str | None, given: dict[str, str | None], *,
                    estimator: str, method: str, clusters: int | None, components: int,
                    bootstrap: int, seed: int, progress: bool, probe: bool
                    ) -> tuple[InteractionProfile, str, dict[str, list[str]],
                               tuple[float, float] | None]:
    from ..analysis.recommend import profile_interactions
    from ..analysis.unimodal_probe import probe_accuracy

    frame, roles, source = load_samples(data, example, given)
    y = frame[roles["--y"]]
    with warnings.catch_warnings():  # they are kept in profile.warnings and printed there
        warnings.simplefilter("ignore", SmallSampleWarning)
        profile = profile_interactions(
            frame[roles["--x1"]], frame[roles["--x2"]], y.iloc[:, 0] if y.shape[1] == 1 else y,
            estimator=estimator, method=method, n_clusters=clusters,
            n_components=components or None, n_bootstrap=bootstrap, random_state=seed,
            progress=progress,
        )
    measured = None
    if probe and profile.n_classes is not None:
        target = y.iloc[:, 0] if y.shape[1] == 1 else y
        try:
            measured = probe_accuracy(frame[roles["--x1"]], frame[roles["--x2"]], target,
                                      random_state=seed)
        except InvalidInputError as exc:  # e.g. a class too rare to split: no gate then
            profile = replace(profile, warnings=(*profile.warnings,
                                                 f"no unimodal probe: {exc}"))
    return profile, source, roles, measured


def _exact_profile(path: Path, method: str) -> InteractionProfile:
    from ..analysis.recommend import InteractionProfile, shares_of
    from ..info.pid import pid

    table = read_pmf(path)
    result = pid(table, method=method)
    return InteractionProfile(
        shares=shares_of(result), pid=result, estimator="exact",
        reason="exact: DATA is a probability table p[x1, x2, y]",
        n_classes=int(table.shape[2]) if table.shape[2] > 1 else None,
    )


def _print(rec: Recommendation, profile: InteractionProfile, source: str,
           json_out: Path | None, unimodal: tuple[tuple[float, float], str] | None) -> None:
    console = Console(markup=False)
    console.print(f"estimator {profile.reason}", highlight=False)
    if unimodal is not None:
        (a1, a2), how = unimodal
        console.print(f"accuracy of X1 alone {a1:.3f}, X2 alone {a2:.3f} ({how})",
                      highlight=False)
    table = Table(title=f"Interaction profile of {source} ({profile.pid.units})",
                  title_justify="left")
    for col in ("atom", "value", "share"):
        table.add_column(col, justify="left" if col == "atom" else "right")
    if profile.share_ci is not None:
        table.add_column("share interval", justify="right")
    labels = {"redundancy": "R  redundancy", "unique1": "U1 unique to x1",
              "unique2": "U2 unique to x2", "synergy": "S  synergy"}
    for atom, label in labels.items():
        row: list[Any] = [label, f"{getattr(profile.pid, atom):.4f}",
                          f"{profile.shares[atom]:.1%}"]
        if profile.share_ci is not None:
            lo, hi = profile.share_ci[atom]
            row.append(f"[{lo:.1%}, {hi:.1%}]")
        table.add_row(*row)
    console.print(table)
    # the numbers fit 80 columns; what each model represents only where there is room for it
    wide = console.width >= 120
    ranking = Table(title="Fusions ranked by predicted accuracy relative to the best",
                    title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                    collapse_padding=True)
    numeric = ("#", "predicted", "interval", "params", "train s")
    for col in ("#", "model", "predicted", "interval", "in noise", "params", "train s",
                *(("what it represents",) if wide else ())):
        ranking.add_column(col, justify="right" if col in numeric else "left",
                           no_wrap=col != "what it represents")
    for i, r in enumerate(rec.ranking, start=1):
        ranking.add_row(str(i), r.name, f"{r.score:.1%}",
                        f"[{r.interval[0]:.1%}, {r.interval[1]:.1%}]",
                        "yes" if r.within_noise else "",
                        "" if r.parameters is None else f"{r.parameters:,}",
                        "" if r.train_seconds is None else f"{r.train_seconds:g}",
                        *((r.reason,) if wide else ()))
    console.print(ranking)
    verdict = "separated by the profile" if rec.separated else \
        "NOT separated by the profile: simplest within the noise"
    console.print(f"recommended: {rec.best}   ({verdict})", highlight=False)
    console.print(f"why: {rec.why}", highlight=False)
    console.print(f"affinities: {rec.affinity_source}", highlight=False)
    for note in rec.notes:
        console.print(f"note: {note}", highlight=False)
    print_warnings(console, profile.warnings)
    if json_out is not None:
        console.print(f"wrote {json_out}", highlight=False)
