"""Train a small transformer on in-context Markov chains and record how it learns.

:func:`train_markov` draws a fresh batch of sequences at every step (each with its own
transition table), trains :class:`~interplay.dynamics.model.MarkovTransformer` with AdamW and a
cosine schedule, and every ``eval_every`` steps measures, on a fixed evaluation set, the
cross-entropy, the excess over the add-α k-gram estimator (overall and by position), the KL from
the model's prediction to the estimator and the induction score of every layer and head. The
result is a JSON-ready dict of kind ``"dynamics_markov"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from .._json import jsonable
from .._threads import small_work
from .._validation import check_float, check_int
from ..exceptions import InvalidInputError
from .markov import (
    _add_alpha,
    _check_length,
    _check_order_alphabet,
    cross_entropy_bits,
    reference_losses,
    sample_markov,
    uniform_loss,
)
from .metrics import attention_by_offset, induction_chance, induction_score, kl_bits
from .model import MarkovTransformer

RESULT_KIND = "dynamics_markov"
LN2 = math.log(2.0)


@dataclass(frozen=True)
class MarkovConfig:
    """Settings of one training run (validated on construction).

    Parameters
    ----------
    order : int, default 1
        Markov order k >= 1.
    alphabet_size : int, default 2
    length : int, default 64
        Symbols per sequence (> order).
    alpha : float, default 1.0
        Dirichlet concentration of every transition row, and the estimator's pseudo-count (the
        two agree, so the estimator is Bayes-optimal). Must be > 0.
    n_layers, n_heads, d_model : int
        Depth, heads per layer, width (defaults 2, 1, 32).
    mlp, layer_norm, relative_position : bool
        Model switches (all on by default).
    steps : int, default 1500
    batch_size : int, default 32
    lr : float, default 3e-3
        Peak AdamW learning rate (linear warm-up over ``warmup`` of the steps, then cosine to 10%).
    weight_decay : float, default 1e-3
    warmup : float, default 0.02
    grad_clip : float, default 1.0
    eval_every : int, default 50
    eval_seqs : int, default 256
        Size of the fixed evaluation set.
    seed : int, default 0
        Seeds the model, the training stream and (separately) the evaluation set.
    """

    order: int = 1
    alphabet_size: int = 2
    length: int = 64
    alpha: float = 1.0
    n_layers: int = 2
    n_heads: int = 1
    d_model: int = 32
    mlp: bool = True
    layer_norm: bool = True
    relative_position: bool = True
    steps: int = 1500
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-3
    warmup: float = 0.02
    grad_clip: float = 1.0
    eval_every: int = 50
    eval_seqs: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        _check_order_alphabet(self.order, self.alphabet_size)
        check_int(self.length, "length", minimum=1)
        _check_length(self.length, self.order)
        check_float(self.alpha, "alpha", low=0.0, low_open=True)
        for name in ("n_layers", "n_heads", "d_model", "steps", "batch_size", "eval_every",
                     "eval_seqs"):
            check_int(getattr(self, name), name, minimum=1)
        check_int(self.seed, "seed", minimum=0)
        if self.d_model % self.n_heads:
            raise InvalidInputError(
                f"`d_model` ({self.d_model}) must be divisible by `n_heads` ({self.n_heads})."
            )
        check_float(self.lr, "lr", low=0.0, low_open=True)
        check_float(self.weight_decay, "weight_decay", low=0.0)
        check_float(self.warmup, "warmup", low=0.0, high=1.0)
        check_float(self.grad_clip, "grad_clip", low=0.0, low_open=True)


def _schedule(step: int, cfg: MarkovConfig) -> float:
    warm = max(1, int(cfg.warmup * cfg.steps))
    if step < warm:
        return (step + 1) / warm
    progress = (step - warm) / max(1, cfg.steps - warm)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


class _Evaluator:
    """The fixed evaluation set with its estimator predictions, and the measurements on it."""

    def __init__(self, cfg: MarkovConfig) -> None:
        self.cfg = cfg
        rng = np.random.default_rng([cfg.seed, 1])
        self.seqs, self.tables = sample_markov(cfg.eval_seqs, cfg.length, cfg.order,
                                               cfg.alphabet_size, concentration=cfg.alpha,
                                               random_state=rng)
        k = cfg.order
        self.est = _add_alpha(self.seqs, k, cfg.alpha, cfg.alphabet_size)[:, 1:]
        self.est_ce = cross_entropy_bits(self.est, self.seqs[:, 1:])
        self.first = k - 1  # model position i predicts symbol i + 1; symbols t >= k have context
        self.refs = reference_losses(self.seqs, k, self.tables, alpha=cfg.alpha,
                                     alphabet_size=cfg.alphabet_size)
        self.refs["uniform"] = uniform_loss(cfg.alphabet_size)
        self.chance = induction_chance(self.seqs, k, cfg.alphabet_size)
        self.x = torch.as_tensor(self.seqs)

    @torch.no_grad()
    def __call__(self, model: MarkovTransformer) -> tuple[dict[str, Any], list[np.ndarray]]:
        model.eval()
        out = model(self.x[:, :-1])
        model.train()
        probs = torch.softmax(out.logits.double(), dim=-1).numpy()
        ce = cross_entropy_bits(probs, self.seqs[:, 1:])
        sl = slice(self.first, None)
        maps = [a.numpy() for a in out.attention]
        row = {
            "loss": float(ce[:, sl].mean()),
            "excess": float((ce - self.est_ce)[:, sl].mean()),
            "kl": float(kl_bits(probs, self.est)[:, sl].mean()),
            "excess_by_position": (ce - self.est_ce).mean(axis=0).tolist(),
            "induction": [induction_score(a, self.seqs[:, :-1], self.cfg.order,
                                          self.cfg.alphabet_size).tolist() for a in maps],
            "attention_by_offset": [attention_by_offset(a, max_offset=2 * self.cfg.order + 2)
                                    .tolist() for a in maps],
        }
        return row, maps


@small_work
def train_markov(
    config: MarkovConfig,
    *,
    progress: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train one model on in-context Markov chains and return its record.

    Parameters
    ----------
    config : MarkovConfig
    progress : callable, optional
        Called as ``progress(step, row)`` after every evaluation (``row`` holds ``loss``,
        ``excess``, ``kl`` and ``induction``).

    The model is small, so it trains with one thread (the library's thread policy; choose
    another count with :func:`interplay.threads`).

    Returns
    -------
    dict
        JSON-ready: ``kind``, ``interplay_version``, ``config``, ``n_parameters``,
        ``references`` (bits per symbol of the k-gram estimator, unigram estimator, true
        table and uniform on the evaluation set, averaged over symbols that have a context),
        ``induction_chance``, ``curves`` (per evaluation: step, train loss, eval loss, excess,
        KL, induction score and mean attention by offset (0 .. 2k + 2) per layer and head,
        excess by position), ``final`` (the last evaluation, and the attention maps of the
        first evaluation sequence with that sequence) and ``seconds``. Losses are in bits.
    """
    from .. import __version__

    if not isinstance(config, MarkovConfig):
        raise InvalidInputError(f"`config` must be a MarkovConfig, got {type(config).__name__}.")
    cfg = config
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = MarkovTransformer(cfg.alphabet_size, cfg.length, cfg.d_model, cfg.n_layers,
                              cfg.n_heads, relative_position=cfg.relative_position,
                              layer_norm=cfg.layer_norm, mlp=cfg.mlp)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _schedule(s, cfg))
    evaluate = _Evaluator(cfg)
    rng = np.random.default_rng([cfg.seed, 0])
    curves: dict[str, list[Any]] = {k: [] for k in (
        "step", "train_loss", "loss", "excess", "kl", "induction", "attention_by_offset",
        "excess_by_position")}
    running, n_running = 0.0, 0
    lo = cfg.order - 1
    for step in range(1, cfg.steps + 1):
        seqs, _ = sample_markov(cfg.batch_size, cfg.length, cfg.order, cfg.alphabet_size,
                                concentration=cfg.alpha, random_state=rng)
        x = torch.as_tensor(seqs)
        logits = model(x[:, :-1]).logits[:, lo:]
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, cfg.alphabet_size), x[:, lo + 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        running += loss.item() / LN2
        n_running += 1
        if step % cfg.eval_every == 0 or step == cfg.steps:
            row, maps = evaluate(model)
            curves["step"].append(step)
            curves["train_loss"].append(running / n_running)
            running, n_running = 0.0, 0
            for key in ("loss", "excess", "kl", "induction", "attention_by_offset",
                        "excess_by_position"):
                curves[key].append(row[key])
            if progress is not None:
                progress(step, row)
    final = {key: row[key] for key in ("loss", "excess", "kl", "induction",
                                       "attention_by_offset", "excess_by_position")}
    final["attention_example"] = [np.round(a[0], 4).tolist() for a in maps]
    final["example_sequence"] = evaluate.seqs[0, :-1].tolist()
    return jsonable({
        "kind": RESULT_KIND,
        "interplay_version": __version__,
        "torch_version": torch.__version__,
        "config": asdict(cfg),
        "units": "bits",
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "references": {k: v for k, v in evaluate.refs.items() if k != "by_position"},
        "induction_chance": evaluate.chance,
        "curves": curves,
        "final": final,
        "seconds": time.perf_counter() - t0,
    })

