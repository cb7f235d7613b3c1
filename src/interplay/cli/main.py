"""Entry point of the `interplay` command.

Each subcommand lives in its own module with a ``register(app)`` function; this module only
assembles them and turns library errors into a clear message and a non-zero exit code.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ..exceptions import InterplayError

EXIT_USAGE = 2

app = typer.Typer(
    name="interplay",
    help="Quantify, model and verify multimodal interactions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Quantify, model and verify multimodal interactions."""


def _register_all() -> None:
    from . import datasets, evaluate, quantify, recommend, train

    quantify.register(app)
    datasets.register(app)
    train.register(app)
    evaluate.register(app)
    recommend.register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    err = Console(stderr=True)
    try:
        app(args=argv if argv is not None else sys.argv[1:], standalone_mode=False)
    except InterplayError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        return EXIT_USAGE
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err.print("aborted")
        return 1
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "show"):
            exc.show()
            return int(code)
        raise
    return 0


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
