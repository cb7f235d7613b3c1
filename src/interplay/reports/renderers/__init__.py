"""One module per result kind; importing this package registers every renderer."""

from . import (  # noqa: F401
    alignment,
    analysis,
    balance,
    dataset,
    dynamics,
    evaluation,
    mi_estimate,
    model_pid,
    pairwise,
    pid,
    recommend,
    robustness,
    sensitivity,
    training,
)
