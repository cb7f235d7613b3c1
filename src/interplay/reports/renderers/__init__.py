"""One module per result kind; importing this package registers every renderer."""

from . import (  # noqa: F401
    alignment,
    analysis,
    dataset,
    dynamics,
    evaluation,
    model_pid,
    pairwise,
    pid,
    recommend,
    robustness,
    sensitivity,
    training,
)
