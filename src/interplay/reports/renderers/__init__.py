"""One module per result kind; importing this package registers every renderer."""

from . import (  # noqa: F401
    analysis,
    dataset,
    evaluation,
    model_pid,
    pairwise,
    pid,
    recommend,
    robustness,
    sensitivity,
    training,
)
