"""What each model-selection candidate costs: parameters of the built model, measured training time.

:func:`candidate_costs` builds every candidate the way ``interplay train`` does by default for
two vector modalities (a vector encoder per modality with output size 32, the fusion with
output size 64, a linear classification head; the unimodal ensemble: one encoder and head per
modality) and counts its parameters, so the counts follow the modality sizes and the number
of classes. Training time is not predicted from a formula: it is read from the real-data
model-selection benchmark (:data:`MEASURED_TRAIN_SECONDS`) and scaled linearly with the number
of training rows; a candidate the benchmark did not time has no training time.
:func:`interplay.analysis.recommend.recommend_fusion` uses both for its cost budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import InvalidInputError, MissingDependencyError

__all__ = [
    "MEASURED_TRAIN_ROWS",
    "MEASURED_TRAIN_SECONDS",
    "TIMING_SOURCE",
    "CandidateCost",
    "candidate_costs",
]

#: Median training seconds of each candidate over the 7 mfeat pairs x 3 seeds of
#: ``benchmarks/model_selection_real.py`` (fusion-table protocol: at most 100 epochs, early
#: stopping, batch 64, one CPU thread on a shared 2-core machine under load: an upper bound).
#: A balanced training (``"<fusion> + mdrop"``) costs its fusion's time per epoch
#: (docs/balancing.md), so its entry is the fusion's median scaled by the ratio of the median
#: epochs the two ran (its own runs were timed at another machine load).
#: Regenerate with ``python benchmarks/model_selection_real.py --print-default``.
MEASURED_TRAIN_SECONDS = {
    "cross_attention": 13.8, "early": 4.0, "ensemble": 10.5, "gated": 7.9, "gated + mdrop": 9.7,
    "gated + mmpareto": 16.6, "late": 4.2, "late + mdrop": 6.0, "late + mmpareto": 9.7,
    "low_rank_tensor": 3.7, "multiplicative": 5.6, "perceiver": 13.0, "poe": 5.3, "tensor": 2.9,
}
#: Training rows of the timed runs (65% of mfeat's 2,000).
MEASURED_TRAIN_ROWS = 1300
TIMING_SOURCE = (
    "median training time on the 7 mfeat pairs of benchmarks/model_selection_real.py "
    f"({MEASURED_TRAIN_ROWS} training rows, one CPU thread, early stopping), scaled linearly "
    "with the training rows")


@dataclass(frozen=True)
class CandidateCost:
    """The cost of one candidate.

    Attributes
    ----------
    name : str
        The candidate (a fusion's registry name or ``"ensemble"``).
    parameters : int
        Trainable parameters of the built model.
    train_seconds : float or None
        Estimated training time (None: the benchmark did not time this candidate).
    """

    name: str
    parameters: int
    train_seconds: float | None


def candidate_costs(names: Sequence[str], modality_dims: Sequence[int], n_classes: int,
                    n_train: int | None = None) -> dict[str, CandidateCost]:
    """Parameters and estimated training time of each candidate for data of these sizes.

    Parameters
    ----------
    names : sequence of str
        Fusion registry names, ``"ensemble"`` and/or balanced trainings
        (:data:`interplay.analysis.recommend.BALANCED`: their fusion's parameters, since a
        balancer adds none).
    modality_dims : pair of int
        Features per sample of X1 and X2 (flattened).
    n_classes : int
        Classes of the target.
    n_train : int, optional
        Training rows; without it the benchmark's times are given unscaled.

    Returns
    -------
    dict
        ``{name: CandidateCost}``.

    Raises
    ------
    InvalidInputError
        On sizes below 1 (2 for the classes), not two modality sizes, or an unknown fusion.
    MissingDependencyError
        Without torch (``interplay[models]``): the models cannot be built to be counted.

    Examples
    --------
    >>> costs = candidate_costs(["late", "tensor"], (76, 64), 10, n_train=1300)
    >>> costs["tensor"].parameters > costs["late"].parameters
    True
    >>> costs["late"].train_seconds
    4.2
    """
    if isinstance(modality_dims, (str, bytes)) or len(modality_dims) != 2 or \
            any(not isinstance(d, int) or isinstance(d, bool) or d < 1 for d in modality_dims):
        raise InvalidInputError(
            f"`modality_dims` must be two positive feature counts, got {modality_dims!r}.")
    if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 2:
        raise InvalidInputError(f"`n_classes` must be an integer >= 2, got {n_classes!r}.")
    if n_train is not None and (not isinstance(n_train, int) or n_train < 1):
        raise InvalidInputError(f"`n_train` must be a positive integer, got {n_train!r}.")
    try:
        from ..models import (
            UnimodalModel,
            create_encoder,
            create_fusion,
            create_head,
            list_fusions,
        )
    except ImportError as exc:  # pragma: no cover - torch is an optional extra
        raise MissingDependencyError(
            "counting the parameters of the candidates needs torch (`pip install "
            f"'interplay[models]'`): {exc}") from exc
    from ..training.config import EncoderConfig, FusionConfig
    from .recommend import BALANCED

    # the sizes `interplay train` builds when a config leaves them out
    enc_dim = EncoderConfig.model_fields["output_dim"].default
    fused_dim = FusionConfig.model_fields["output_dim"].default

    known = set(list_fusions()) | {"ensemble"} | set(BALANCED)
    scale = 1.0 if n_train is None else n_train / MEASURED_TRAIN_ROWS
    out = {}
    for name in names:
        if name not in known:
            raise InvalidInputError(
                f"`names` holds {name!r}, which is neither a registered fusion, 'ensemble' nor "
                f"a balanced training ({', '.join(BALANCED)}).")
        encoders = [create_encoder("vector", d, enc_dim) for d in modality_dims]
        if name == "ensemble":
            parts = [UnimodalModel(f"x{i}", e, create_head("classification", enc_dim, n_classes))
                     for i, e in enumerate(encoders)]
        else:
            fusion = create_fusion(BALANCED[name][0] if name in BALANCED else name,
                                   {"x1": enc_dim, "x2": enc_dim}, fused_dim)
            parts = [*encoders, fusion, create_head("classification", fusion.output_dim,
                                                    n_classes)]
        count = sum(p.numel() for part in parts for p in part.parameters())
        seconds = MEASURED_TRAIN_SECONDS.get(name)
        out[name] = CandidateCost(name, int(count),
                                  None if seconds is None else round(seconds * scale, 1))
    return out
