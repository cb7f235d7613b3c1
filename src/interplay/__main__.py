"""``python -m interplay``: the same as the ``interplay`` command."""

from .cli.main import run

if __name__ == "__main__":
    run()
