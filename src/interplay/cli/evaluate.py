"""`interplay evaluate RUN_DIR`: accuracy, robustness, consistency and PID of a trained run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..exceptions import InvalidInputError
from ._options import ShowProgress, check_json_target, with_threads
from ._output import command_line, labelled, print_warnings, write_output
from .train import parse_list

HELP = (
    "Evaluate every seed's model of a run directory written by `interplay train` on its test "
    "split: the test score; robustness curves (each modality dropped, and Gaussian noise of "
    "rising level added to each modality, in units of its standard deviation); relative and "
    "effective robustness against a baseline you name (--baseline: `ensemble` or "
    "`unimodal:<modality>` trained in the run, or another run directory on the same data and "
    "split); cross-modal consistency (how often the predictions from each modality alone "
    "agree); and the PID of the model's predictions next to the PID of the data, both on the "
    "same k-means discretization of two modalities. For a run trained with a contrastive, "
    "binding or FactorCL objective (or any fusion run with --representations), also the "
    "per-modality embeddings (FactorCL: its shared and unique factors): retrieval between "
    "every pair of modalities (R@1, R@10, median rank), mutual kNN, CKA, the modality gap, and "
    "linear-probe accuracy.\n\n"
    "Everything goes to one JSON file (default RUN_DIR/evaluation.json), written atomically, "
    "and a summary is printed. Checkpoints are read with the safe loader (no unpickling).\n\n"
    "\b\nExamples:\n"
    "  interplay evaluate runs/mfeat_late\n"
    "  interplay evaluate runs/mfeat_late --baseline ensemble --noise-levels 0,0.5,1,2,4\n"
    "  interplay evaluate runs/mfeat_tensor --baseline runs/mfeat_late --json eval.json\n"
    "  interplay evaluate runs/mfeat_late --representations"
)


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to ``app``."""
    app.command("evaluate", help=HELP, no_args_is_help=True)(with_threads(evaluate_command))


def evaluate_command(
    ctx: typer.Context,
    run_dir: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    noise_levels: Annotated[
        str, typer.Option("--noise-levels", help="Comma-separated increasing noise levels.")
    ] = "0,0.5,1,2",
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", show_default=False,
                     help="ensemble, unimodal:<modality>, or another run directory."),
    ] = None,
    repeats: Annotated[int, typer.Option("--repeats", help="Noise draws per level.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the noise and k-means.")] = 0,
    pid_modalities: Annotated[
        str | None,
        typer.Option("--pid-modalities", show_default=False,
                     help="Two modalities for the PID, comma-separated (default: first two)."),
    ] = None,
    clusters: Annotated[
        int, typer.Option("--clusters", help="k-means clusters per modality for the PID.")
    ] = 5,
    components: Annotated[
        int, typer.Option("--components", help="Principal components per modality before "
                          "clustering (0: none).")
    ] = 2,
    device: Annotated[
        str | None, typer.Option("--device", help="Override the run's device.",
                                 show_default=False)
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Where to write the JSON (default RUN_DIR/evaluation.json).",
                     show_default=False),
    ] = None,
    representations: Annotated[
        bool | None,
        typer.Option("--representations/--no-representations", show_default=False,
                     help="Score the per-modality embeddings (retrieval, alignment, gap, "
                     "probe); default: when the run's objective trains representations."),
    ] = None,
    progress: ShowProgress = True,
) -> None:
    # torch and pydantic load only when this command runs (they slow every other command)
    from ..analysis.evaluation import evaluate_run
    from ..training.run import write_json
    check_json_target(json_out, inputs=(run_dir / "result.json", run_dir / "config.yaml"))
    if repeats < 1:
        raise InvalidInputError(f"--repeats must be at least 1, got {repeats}.")
    if seed < 0:
        raise InvalidInputError(f"--seed must be >= 0, got {seed}.")
    if clusters < 2:
        raise InvalidInputError(f"--clusters must be at least 2, got {clusters}.")
    if components < 0:
        raise InvalidInputError(f"--components must be 0 (no PCA) or more, got {components}.")
    levels = parse_list(noise_levels, "--noise-levels", float)
    pair = parse_list(pid_modalities, "--pid-modalities", str) if pid_modalities else None
    result = evaluate_run(
        run_dir, noise_levels=levels, baseline=baseline, n_repeats=repeats, random_state=seed,
        pid_modalities=pair, n_clusters=clusters, n_components=components or None,
        device=device, progress=progress, representations=representations,
    ).to_dict()
    result["provenance"] = {"command": command_line(ctx)}
    target = json_out if json_out is not None else run_dir / "evaluation.json"
    write_output(target, lambda path: write_json(path, result))
    _print(result, target)


def _pm(stats: dict[str, Any]) -> str:
    mean, std = stats["mean"], stats["std"]
    return f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"


def _print(result: dict[str, Any], target: Path) -> None:
    console = Console(markup=False)
    model, base = result["model"], result["baseline"]
    metric = model["metric"]
    levels = result["settings"]["noise_levels"]
    rows = [("model", model)] + ([("baseline", base)] if base else [])
    table = Table(title=f"{result['fusion']} fusion, {len(result['seeds'])} seed(s), "
                        f"{result['n_test_samples']} test samples: {metric} (mean ± std)",
                  title_justify="left")
    table.add_column("")
    table.add_column("clean", justify="right")
    for m in model["dropped"]:
        table.add_column(f"{m} dropped", justify="right")
    for label, r in rows:
        table.add_row(label, _pm(r["clean"]), *(_pm(r["dropped"][m]) for m in r["dropped"]))
    console.print(table)

    curves = Table(title=f"{metric} with Gaussian noise on one modality (level in std units; "
                         "mean over seeds)", title_justify="left")
    curves.add_column("")
    curves.add_column("noisy")
    for level in levels:
        curves.add_column(f"{level:g}", justify="right")
    comparison = result["comparison"]
    if comparison:
        curves.add_column("relative", justify="right")
        curves.add_column("effective", justify="right")
    for label, r in rows:
        for m, stats in r["noisy"].items():
            extra = []
            if comparison:
                rel = comparison["relative_robustness"][m] if label == "model" else None
                eff = comparison["effective_robustness"][m] if label == "model" else None
                extra = ["-" if rel is None else f"{rel:.3f}",
                         "-" if eff is None else f"{eff:+.3f}"]
            curves.add_row(label, m, *(f"{v:.3f}" for v in stats["mean"]), *extra)
    console.print(curves)
    if base:
        console.print(f"baseline: {base['name']}. relative = AUC(model) / AUC(baseline); "
                      "effective = AUC(model - clean) - AUC(baseline - clean).", highlight=False)
    for c in result["consistency"] or []:
        console.print(f"cross-modal consistency {c['modalities'][0]} vs {c['modalities'][1]}: "
                      f"{c['mean']:.3f} of test samples get the same class from either alone",
                      highlight=False)
    if result["pid"]:
        _print_pid(console, result["pid"], result["seeds"])
    if result["representations"]:
        _print_representations(console, result["representations"])
    console.print(f"wrote {target}", highlight=False)


def _cell(stats: dict[str, Any] | None, digits: int = 3) -> str:
    if stats is None or stats["mean"] is None:
        return "-"
    return _pm(stats) if digits == 3 else f"{stats['mean']:.{digits}f}"


def _print_representations(console: Console, reps: dict[str, Any]) -> None:
    chance = reps["chance"]
    table = Table(title=f"Representations on {reps['n_samples']} test samples "
                        f"(mean ± std over seeds; chance R@1 {chance['R@1']:.3f}, R@10 "
                        f"{chance['R@10']:.3f}, median rank {chance['median_rank']:g}; kNN: "
                        "mutual 10-NN)", title_justify="left")
    table.add_column("a -> b")
    for col in ("R@1", "R@10", "med rank", "b->a R@1", "kNN", "CKA", "gap"):
        table.add_column(col, justify="right", no_wrap=True)
    for pair in reps["pairs"]:
        m = pair["metrics"]
        table.add_row(" -> ".join(pair["modalities"]), _cell(m.get("a_to_b_R@1")),
                      _cell(m.get("a_to_b_R@10")), _cell(m.get("a_to_b_median_rank"), 1),
                      _cell(m.get("b_to_a_R@1")), _cell(m["mutual_knn"]), _cell(m["cka"]),
                      _cell(m["gap"]))
    console.print(table)
    for pair in reps["pairs"]:
        if pair["note"]:
            console.print(f"{' and '.join(pair['modalities'])}: {pair['note']}",
                          highlight=False)
    if reps["probe"]:
        probes = ", ".join(f"{name} {_pm(s)}" for name, s in reps["probe"].items())
        console.print(f"linear-probe test accuracy: {probes}", highlight=False)


def _print_pid(console: Console, pid: dict[str, Any], seeds: list[int]) -> None:
    a, b = pid["modalities"]
    d = pid["discretization"]
    table = Table(title=f"PID of {a} and {b} ({d['clusters_used'][0]} x {d['clusters_used'][1]} "
                        f"k-means clusters, test split, {pid['data']['units']})",
                  title_justify="left")
    for col in ("atom", "data (labels)", "model (predictions)"):
        table.add_column(col, justify="left" if col == "atom" else "right")
    names = {"redundancy": "R", "unique1": f"U1 ({a})", "unique2": f"U2 ({b})", "synergy": "S"}
    for atom, label in names.items():
        table.add_row(label, f"{pid['data'][atom]:.4f}", f"{pid['model']['mean'][atom]:.4f}")
    console.print(table)
    if pid["agreement"]["mean"] is not None:
        console.print(f"PID agreement alpha (model vs data): {pid['agreement']['mean']:.4f} "
                      f"{pid['data']['units']}", highlight=False)
    print_warnings(console, pid["data"]["warnings"], "warning (data PID):")
    results = [("data PID", pid["data"])] + [
        (f"model PID, seed {seed}", r) for seed, r in zip(seeds, pid["model"]["per_seed"],
                                                          strict=True)]
    for label, r in results:
        diag = r["diagnostics"]
        if diag is not None and not diag["converged"]:
            console.print(labelled(f"warning ({label}):", "the solver did not converge "
                                   f"(duality gap {diag['duality_gap']:.3g} {r['units']}): "
                                   f"{diag['message']}", "yellow"), highlight=False)
