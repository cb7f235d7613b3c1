"""Entry point of the `interplay` command.

Each subcommand lives in its own module with a ``register(app)`` function; this module only
assembles them and turns library errors into a clear message and a non-zero exit code.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..exceptions import InterplayError
from ._output import RunInterrupted, collect_warnings, console, in_flags, labelled

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C

app = typer.Typer(
    name="interplay",
    help="Quantify, model and verify multimodal interactions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"interplay {version('interplay')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_show_version, metavar="",
                           help="Print the version and exit.")
    ] = False,
) -> None:
    """Quantify, model and verify multimodal interactions."""


def _register_all() -> None:
    from . import align, analyze, datasets, dynamics, evaluate, quantify, recommend, report, train

    quantify.register(app)
    align.register(app)
    datasets.register(app)
    train.register(app)
    evaluate.register(app)
    recommend.register(app)
    dynamics.register(app)
    report.register(app)
    analyze.register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    Library errors print one line and give 2; Ctrl-C prints one line and gives 130.
    """
    err = console(stderr=True)
    try:
        with collect_warnings():
            code = app(args=argv if argv is not None else sys.argv[1:], standalone_mode=False)
    except RunInterrupted as exc:
        err.print(labelled("interrupted:", str(exc), "bold red"), highlight=False)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except InterplayError as exc:
        err.print(labelled("error:", in_flags(str(exc)), "bold red"), highlight=False)
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
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into this return value
        err.print(labelled("interrupted:", "stopped by Ctrl-C; nothing was written.",
                           "bold red"), highlight=False)
        return EXIT_INTERRUPTED
    return 0


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
