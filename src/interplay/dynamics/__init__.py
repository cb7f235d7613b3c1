"""Learning-dynamics lab: in-context learning of Markov chains and induction heads.

Sequences from random Markov chains of order k (a fresh transition table per sequence), the
Bayes-optimal in-context k-gram estimator they are judged against, a small causal transformer
and a training loop that records excess loss, KL and attention diagnostics over training.
See docs/dynamics.md for the experiment (1 vs 2 vs 3 layers on orders 1 to 3).
"""

from .lab import RESULT_KIND, MarkovConfig, train_markov
from .markov import context_ids, kgram_estimator, reference_losses, sample_markov
from .metrics import (
    attention_by_offset,
    induction_chance,
    induction_score,
    kl_bits,
    matching_mask,
)
from .model import MarkovTransformer, TransformerOutput

__all__ = [
    "RESULT_KIND",
    "MarkovConfig",
    "MarkovTransformer",
    "TransformerOutput",
    "attention_by_offset",
    "context_ids",
    "induction_chance",
    "induction_score",
    "kgram_estimator",
    "kl_bits",
    "matching_mask",
    "reference_losses",
    "sample_markov",
    "train_markov",
]
