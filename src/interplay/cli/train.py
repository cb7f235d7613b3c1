"""`interplay train CONFIG.yaml`: train a fusion model (and baselines) once per seed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..exceptions import InvalidInputError
from ._options import ShowProgress, check_json_target, with_threads
from ._output import RunInterrupted, write_output

HELP = (
    "Train the model a YAML config describes, once per seed, and write a run directory: the "
    "resolved config (config.yaml), checkpoints per seed (seed-<s>/model/final.pt + .json), "
    "and result.json with the metrics per seed and their mean ± std. With `baselines: "
    "{unimodal: true}` a model per modality and their ensemble are trained alongside.\n\n"
    "The config names the dataset (bundled or a file), modalities, target, split, encoders, "
    "fusion, head, losses and trainer options; see docs/training.md. It is validated before "
    "anything runs: an unknown key, a wrong type, an unknown fusion or modality, a missing "
    "file or bad YAML gives a message naming the field and exit status 2, and nothing is "
    "written.\n\n"
    "\b\nExamples:\n"
    "  interplay train examples/configs/mfeat_late.yaml\n"
    "  interplay train run.yaml --out runs/try1 --seeds 0,1,2 --json summary.json\n"
    "  interplay train run.yaml --out runs/try1 --seeds 0,1,2 --resume\n"
    "  interplay evaluate runs/try1 --baseline ensemble"
)


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""
    app.command("train", help=HELP, no_args_is_help=True)(with_threads(train_command))


def parse_list(text: str, flag: str, kind: type) -> list[Any]:
    """``"0,1,2"`` as a list of ``kind`` values, or a clear error naming ``flag``."""
    parts = [p.strip() for p in text.split(",")]
    try:
        if not all(parts):
            raise ValueError
        return [kind(p) for p in parts]
    except ValueError:
        raise InvalidInputError(
            f"{flag} must be a comma-separated list of {kind.__name__} values, got {text!r}."
        ) from None


def train_command(
    config: Annotated[Path, typer.Argument(help="The run config (YAML).", show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Run directory (default: output_dir of the config, else "
                     "runs/<config name>). Must not exist or be empty.", show_default=False),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option("--seeds", help="Comma-separated seeds, replacing trainer.seeds.",
                     show_default=False),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="Torch device, e.g. cpu or cuda:0 (trainer.device).",
                     show_default=False),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Also write result.json's content to this file.",
                     show_default=False),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", metavar="",
                           help="Continue an interrupted run in its run directory "
                           "(same config) from its last checkpoints.")
    ] = False,
    progress: ShowProgress = True,
) -> None:
    # torch and pydantic load only when this command runs (they slow every other command)
    from ..training.config import load_config
    from ..training.run import run_training, write_json
    check_json_target(json_out, inputs=(config,))
    overrides: dict[str, Any] = {}
    if seeds is not None:
        overrides["trainer.seeds"] = parse_list(seeds, "--seeds", int)
    if device is not None:
        overrides["trainer.device"] = device
    if out is not None:
        overrides["output_dir"] = str(out)
    cfg = load_config(config, overrides)
    target = Path(cfg.output_dir) if cfg.output_dir else Path("runs") / config.stem
    try:
        result = run_training(cfg, output_dir=target, progress=progress, resume=resume)
    except KeyboardInterrupt:
        raise RunInterrupted(_resume_hint(config, target)) from None
    if json_out is not None:
        write_output(json_out, lambda path: write_json(path, result))
    _print(result, target, json_out)


def _resume_hint(config: Path, target: Path) -> str:
    """What to run to continue a run interrupted by Ctrl-C."""
    if not target.is_dir():
        return "stopped by Ctrl-C before the run directory was written; nothing was saved."
    return (f"stopped by Ctrl-C; the checkpoints so far are in {str(target)!r}. Continue with "
            f"`interplay train {config} --out {target} --resume`.")


def _cell(summary: dict[str, Any], name: str) -> str:
    if name not in summary["mean"]:
        return "-"
    mean, std = summary["mean"][name], summary["std"][name]
    return f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"


def _print(result: dict[str, Any], target: Path, json_out: Path | None) -> None:
    console = Console(markup=False)
    main_metric = "accuracy" if result["config"]["task"] == "classification" else "mse"
    seeds = result["seeds"]
    table = Table(
        title=f"{result['data']['source']} -> {result['data']['target']}: "
              f"{result['model']['fusion']} fusion of {', '.join(result['config']['modalities'])}"
              f" ({len(seeds)} seed{'s' if len(seeds) > 1 else ''}, mean ± std)",
        title_justify="left",
    )
    for col in ("model", f"val {main_metric}", f"test {main_metric}", "test loss", "epochs"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, run in result["runs"].items():
        summary = run["summary"]
        epochs = [r.get("epochs_completed") for r in run["per_seed"]]
        table.add_row(
            f"{result['model']['fusion']} fusion" if name == "model" else name,
            _cell(summary, f"val_{main_metric}"), _cell(summary, f"test_{main_metric}"),
            _cell(summary, "test_loss"),
            "-" if None in epochs else ", ".join(map(str, epochs)),
        )
    console.print(table)
    n = result["data"]["n_samples"]
    console.print(f"samples: {n['train']} train, {n['validation']} validation, {n['test']} test; "
                  f"{result['model']['n_parameters']} parameters; "
                  f"{result['seconds']:.1f} s", highlight=False)
    console.print(f"wrote {target} (result.json, config.yaml, seed-*/ checkpoints; full path "
                  f"{target.resolve()})" + (f" and {json_out}" if json_out else ""),
                  highlight=False)
