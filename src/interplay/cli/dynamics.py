"""`interplay dynamics markov`: train a small transformer on in-context Markov chains."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ._options import ShowProgress, check_json_target, with_threads
from ._output import console, write_output

HELP = (
    "The learning-dynamics lab: how a small transformer learns in context (docs/dynamics.md)."
)
MARKOV_HELP = (
    "Train a causal transformer on sequences from random Markov chains of order K (a fresh "
    "transition table per sequence, rows drawn from Dirichlet(ALPHA)) and compare it with the "
    "Bayes-optimal in-context add-ALPHA k-gram estimator. Prints the final loss, the excess "
    "over the estimator, the KL to it and the induction score of every layer; --json writes "
    "the training curves and attention maps as well (kind \"dynamics_markov\"). Losses are in "
    "bits.\n\n"
    "\b\nExamples:\n"
    "  interplay dynamics markov --order 1 --layers 2 --steps 500\n"
    "  interplay dynamics markov --order 3 --layers 2 --seed 1 --json k3_L2.json"
)


def register(app: typer.Typer) -> None:
    """Add the ``dynamics`` command group (markov) to ``app``."""
    sub = typer.Typer(name="dynamics", help=HELP, no_args_is_help=True, add_completion=False)
    sub.command("markov", help=MARKOV_HELP, no_args_is_help=True)(with_threads(markov_command))
    app.add_typer(sub, name="dynamics")


def markov_command(
    order: Annotated[int, typer.Option("--order", help="Markov order K (>= 1).",
                                       show_default=False)],
    layers: Annotated[int, typer.Option("--layers", help="Transformer layers.",
                                        show_default=False)],
    heads: Annotated[int, typer.Option("--heads", help="Attention heads per layer.")] = 1,
    steps: Annotated[int, typer.Option("--steps", help="Training steps.")] = 1500,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the model, data and "
                                      "evaluation set.")] = 0,
    alphabet_size: Annotated[int, typer.Option("--alphabet-size",
                                               help="Number of symbols (>= 2).")] = 2,
    length: Annotated[int, typer.Option("--length", help="Symbols per sequence "
                                        "(> order).")] = 64,
    alpha: Annotated[float, typer.Option("--alpha", help="Dirichlet prior of the transition "
                                         "rows and the estimator's pseudo-count (> 0).")] = 1.0,
    width: Annotated[int, typer.Option("--width", help="Model width d_model.")] = 32,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Sequences per step.")] = 32,
    lr: Annotated[float, typer.Option("--lr", help="Peak AdamW learning rate.")] = 3e-3,
    mlp: Annotated[bool, typer.Option("--mlp/--no-mlp", help="MLP after each attention.")] = True,
    layer_norm: Annotated[bool, typer.Option("--layer-norm/--no-layer-norm",
                                             help="Pre-norm LayerNorm.")] = True,
    relative: Annotated[bool, typer.Option("--relative-position/--no-relative-position",
                                           help="Relative positional encoding.")] = True,
    eval_every: Annotated[int, typer.Option("--eval-every", help="Steps between "
                                            "evaluations.")] = 50,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the full record (curves, attention maps) here, "
                     "atomically.", show_default=False),
    ] = None,
    progress: ShowProgress = True,
) -> None:
    from ..dynamics import MarkovConfig
    from ..exceptions import InvalidInputError

    check_json_target(json_out)
    try:
        cfg = MarkovConfig(order=order, alphabet_size=alphabet_size, length=length, alpha=alpha,
                           n_layers=layers, n_heads=heads, d_model=width, mlp=mlp,
                           layer_norm=layer_norm, relative_position=relative, steps=steps,
                           batch_size=batch_size, lr=lr, eval_every=eval_every, seed=seed)
    except InvalidInputError as exc:
        raise InvalidInputError(_as_flags(str(exc))) from None
    result = _train(cfg, progress)
    if json_out is not None:
        from .._atomic import atomic_write_text
        from .._json import dumps

        text = dumps(result, indent=1) + "\n"
        write_output(json_out, lambda target: atomic_write_text(target, text))
    _print(result, json_out)


_FLAGS = {"`n_layers`": "--layers", "`n_heads`": "--heads", "`d_model`": "--width",
          "`alphabet_size`": "--alphabet-size", "`batch_size`": "--batch-size",
          "`eval_every`": "--eval-every", "`order`": "--order", "`length`": "--length",
          "`alpha`": "--alpha", "`steps`": "--steps", "`seed`": "--seed", "`lr`": "--lr"}


def _as_flags(message: str) -> str:
    """The library's message with argument names replaced by the command's flags."""
    for name, flag in _FLAGS.items():
        message = message.replace(name, flag)
    return message


def _train(cfg: Any, show: bool) -> dict[str, Any]:
    from ..dynamics import train_markov

    if not show:
        return train_markov(cfg)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[info]}"), console=console(stderr=True))
    task = bar.add_task("training", total=cfg.steps, info="")

    def update(step: int, row: dict[str, Any]) -> None:
        bar.update(task, completed=step,
                   info=f"loss={row['loss']:.4f} excess={row['excess']:.4f} bits")

    with bar:
        return train_markov(cfg, progress=update)


def _print(result: dict[str, Any], json_out: Path | None) -> None:
    out = console()
    cfg, final, refs = result["config"], result["final"], result["references"]
    table = Table(title=f"order {cfg['order']}, {cfg['n_layers']} layer(s) x {cfg['n_heads']} "
                        f"head(s), width {cfg['d_model']}, {cfg['steps']} steps, seed "
                        f"{cfg['seed']} (bits per symbol)", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [("model loss", final["loss"]), ("k-gram estimator loss", refs["kgram"]),
            ("excess over estimator", final["excess"]), ("KL(model || estimator)", final["kl"]),
            ("unigram estimator loss", refs["unigram"]), ("true-table loss", refs["true"])]
    for name, value in rows:
        table.add_row(name, f"{value:.4f}")
    for layer, heads in enumerate(final["induction"], start=1):
        scores = ", ".join("-" if v is None else f"{v:.2f}" for v in heads)
        table.add_row(f"induction score, layer {layer}", scores)
    table.add_row("induction score of uniform attention",
                  "-" if result["induction_chance"] is None else
                  f"{result['induction_chance']:.2f}")
    out.print(table)
    out.print(f"{result['n_parameters']} parameters; {result['seconds']:.1f} s"
                  + (f"; wrote {json_out}" if json_out else ""), highlight=False, soft_wrap=True)
