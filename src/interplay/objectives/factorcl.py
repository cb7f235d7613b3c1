"""Factorized contrastive learning (FactorCL; Liang et al., NeurIPS 2023).

Standard contrastive learning keeps what two views share, ``I(X1; X2)``, and so loses task
information unique to one view. FactorCL learns, per modality, a *shared* head and a *unique*
head, each trained with InfoNCE lower bounds (to keep information) and NCE-CLUB upper bounds
(to remove it), conditioning on the label ``Y`` (FactorCL-SUP) or on augmented views
(FactorCL-SSL):

* shared, ``I(X1; X2; Y) = I(X1; X2) - I(X1; X2 | Y)``: maximise ``I_NCE(Z1s; Z2s)``, minimise
  ``I_NCE-CLUB(Z1s; Z2s | Y)``;
* unique to ``Xi``, ``I(Xi; Y | Xj) = I(Xi; Y) - I(Xi; Xj) + I(Xi; Xj | Y)``: maximise
  ``I_NCE(Ziu; Y)``, minimise ``I_NCE-CLUB(Z1u; Z2u)``, maximise ``I_NCE(Z1u; Z2u | Y)``.

The total loss is the signed sum (maximised terms enter with a minus sign). The NCE-CLUB critics
are not trained by that loss: they take ``critic_steps`` steps of their own InfoNCE learning loss
per batch (:meth:`FactorCL.critic_loss`), FactorCL's two optimiser groups. Critics are separable
by default, so no term runs an MLP on all ``B^2`` pairs.

Choices the paper leaves open, and ours:

* ``I(Xi; Y)`` with a discrete label uses a separable critic on the one-hot label; the
  conditional terms condition on the label by restricting negatives to same-label pairs (an
  exact sampling of ``p(z1|y) p(z2|y)``), where the reference code concatenates the label to
  the critic inputs.
* FactorCL-SSL replaces ``Y`` by the augmented views: ``I(Ziu; Y)`` becomes ``I(Ziu; Ziu')``
  (the unique head on the augmented ``Xi'``) and the conditional terms condition on the
  encoders' features of ``(X1', X2')`` concatenated, detached (a float condition).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError
from ._loop import EpochMeans, minibatches
from .augment import Augmentation
from .bounds import NCECLUB, InfoNCE
from .critics import mlp

__all__ = ["FactorCL", "fit_factorcl"]

MODES = ("sup", "ssl")


class FactorCL(nn.Module):
    """FactorCL-SUP (``mode="sup"``) or FactorCL-SSL (``mode="ssl"``) on two modalities.

    Parameters
    ----------
    dims : (int, int)
        Feature counts of ``x1`` and ``x2`` (vectors; flatten other shapes first), or with
        ``encoders=False`` the widths of the features the caller's encoders give.
    n_classes : int, optional
        Number of label values, needed for ``mode="sup"``.
    mode : {"sup", "ssl"}
    feat_dim : int, default 32
        Width of each encoder and of each factor head.
    hidden : sequence of int, default (128,)
        Hidden widths of encoders, heads and critics.
    critic : {"separable", "bilinear", "concat"}, default "separable"
    encoders : bool, default True
        Build an MLP encoder per modality. With False the heads read features encoded
        elsewhere (a fusion model's per-modality embeddings): use :meth:`heads`,
        :meth:`factor_terms` and :meth:`factor_critic_loss` on them.
    """

    def __init__(self, dims: Sequence[int], n_classes: int | None = None, *, mode: str = "sup",
                 feat_dim: int = 32, hidden: Sequence[int] = (128,),
                 critic: str = "separable", encoders: bool = True) -> None:
        super().__init__()
        self.mode = check_choice(mode, "mode", MODES)
        if len(dims) != 2:
            raise InvalidInputError(f"dims must give two feature counts; got {list(dims)}")
        d1, d2 = (check_int(d, "dims", minimum=1) for d in dims)
        f = check_int(feat_dim, "feat_dim", minimum=1)
        if self.mode == "sup":
            if n_classes is None:
                raise InvalidInputError("mode='sup' needs n_classes (the number of label values)")
            self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.dims = (d1, d2)
        self.feat_dim = f
        kw = {"critic": critic, "hidden": hidden}
        self.encoders = (nn.ModuleList([mlp(d1, f, hidden), mlp(d2, f, hidden)]) if encoders
                         else None)
        h1, h2 = (f, f) if encoders else (d1, d2)
        self.shared_heads = nn.ModuleList([mlp(h1, f, hidden), mlp(h2, f, hidden)])
        self.unique_heads = nn.ModuleList([mlp(h1, f, hidden), mlp(h2, f, hidden)])
        y_dim = self.n_classes if self.mode == "sup" else f
        cond = 0 if self.mode == "sup" else h1 + h2
        self.nce_shared = InfoNCE(f, f, **kw)
        self.club_shared_given_y = NCECLUB(f, f, cond_dim=cond, **kw)
        self.nce_unique_y = nn.ModuleList([InfoNCE(f, y_dim, **kw), InfoNCE(f, y_dim, **kw)])
        self.club_unique = NCECLUB(f, f, **kw)
        self.nce_unique_given_y = InfoNCE(f, f, cond_dim=cond, **kw)

    def _check(self, x: object, i: int) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[1] != self.dims[i]:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise InvalidInputError(f"x{i + 1} must be a tensor of shape (B, {self.dims[i]}); "
                                    f"got {got}")
        if not bool(torch.isfinite(x).all()):
            raise InvalidInputError(f"x{i + 1} contains NaN or infinite values")
        return x

    def factors(self, x1: Tensor, x2: Tensor) -> dict[str, Tensor]:
        """The four factor embeddings ``z1s, z2s, z1u, z2u`` (and encoder features ``h1, h2``)."""
        if self.encoders is None:
            raise InvalidInputError("this FactorCL has no encoders (encoders=False): pass "
                                    "encoded features to heads()")
        h = [enc(self._check(x, i)) for i, (enc, x) in enumerate(zip(self.encoders, (x1, x2),
                                                                        strict=True))]
        return self.heads(h[0], h[1])

    def heads(self, h1: Tensor, h2: Tensor) -> dict[str, Tensor]:
        """The factor embeddings of encoder features ``h1, h2`` (returned with them)."""
        return {
            "h1": h1, "h2": h2,
            "z1s": self.shared_heads[0](h1), "z2s": self.shared_heads[1](h2),
            "z1u": self.unique_heads[0](h1), "z2u": self.unique_heads[1](h2),
        }

    @torch.no_grad()
    def embed(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The representation for a probe: ``[z1s, z1u, z2s, z2u]`` concatenated."""
        z = self.factors(x1, x2)
        return torch.cat([z["z1s"], z["z1u"], z["z2s"], z["z2u"]], dim=1)

    def _conditions(self, z: dict[str, Tensor], y: Tensor | None,
                    z_views: dict[str, Tensor] | None) -> tuple[Tensor, list[Tensor]]:
        """(condition c, the two 'label' targets for I(Ziu; Y))."""
        n = z["h1"].shape[0]
        if self.mode == "sup":
            if not isinstance(y, Tensor) or y.shape != (n,) or y.is_floating_point():
                raise InvalidInputError(f"FactorCL-SUP needs integer labels y of shape ({n},)")
            if int(y.min()) < 0 or int(y.max()) >= self.n_classes:
                raise InvalidInputError(f"labels must lie in [0, {self.n_classes}); got "
                                        f"[{int(y.min())}, {int(y.max())}]")
            onehot = nn.functional.one_hot(y, self.n_classes).to(z["h1"].dtype)
            return y, [onehot, onehot]
        if z_views is None:
            raise InvalidInputError("FactorCL-SSL needs augmented views (x1_aug, x2_aug)")
        c = torch.cat([z_views["h1"], z_views["h2"]], dim=1).detach()
        return c, [z_views["z1u"], z_views["z2u"]]

    def terms(self, x1: Tensor, x2: Tensor, y: Tensor | None = None,
              views: tuple[Tensor, Tensor] | None = None) -> dict[str, Tensor]:
        """Every bound's value in nats, and ``loss``, the signed sum to minimise."""
        z = self.factors(x1, x2)
        return self.factor_terms(z, y, None if views is None else self.factors(*views))

    def factor_terms(self, z: dict[str, Tensor], y: Tensor | None = None,
                     z_views: dict[str, Tensor] | None = None) -> dict[str, Tensor]:
        """:meth:`terms` from factors (:meth:`heads`) of the batch and, for SSL, of its
        augmented views. In a batch where every label occurs once (a small last batch) the
        same-label negatives the conditional terms need do not exist: they are 0 there."""
        c, targets = self._conditions(z, y, z_views)
        cond = _has_same_label_pairs(c)
        zero = z["z1s"].new_zeros(())
        t = {
            "nce_shared": self.nce_shared(z["z1s"], z["z2s"]),
            "club_shared_given_y": (self.club_shared_given_y(z["z1s"], z["z2s"], c) if cond
                                    else zero),
            "nce_unique1_y": self.nce_unique_y[0](z["z1u"], targets[0]),
            "nce_unique2_y": self.nce_unique_y[1](z["z2u"], targets[1]),
            "club_unique": self.club_unique(z["z1u"], z["z2u"]),
            "nce_unique_given_y": (self.nce_unique_given_y(z["z1u"], z["z2u"], c) if cond
                                   else zero),
        }
        shared = t["nce_shared"] - t["club_shared_given_y"]
        unique = (t["nce_unique1_y"] + t["nce_unique2_y"] - 2 * t["club_unique"]
                  + 2 * t["nce_unique_given_y"])
        t["loss"] = -(shared + unique)
        return t

    def critic_loss(self, x1: Tensor, x2: Tensor, y: Tensor | None = None,
                    views: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """InfoNCE learning loss of the two NCE-CLUB critics, on detached factors."""
        with torch.no_grad():
            z = self.factors(x1, x2)
            za = None if views is None else self.factors(*views)
        return self.factor_critic_loss(z, y, za)

    def factor_critic_loss(self, z: dict[str, Tensor], y: Tensor | None = None,
                           z_views: dict[str, Tensor] | None = None) -> Tensor:
        """:meth:`critic_loss` from factors; they are detached here."""
        z = {k: v.detach() for k, v in z.items()}
        with torch.no_grad():
            c, _ = self._conditions(z, y, z_views)
        loss = self.club_unique.learning_loss(z["z1u"], z["z2u"])
        if _has_same_label_pairs(c):
            loss = loss + self.club_shared_given_y.learning_loss(z["z1s"], z["z2s"], c)
        return loss

    def critic_parameters(self) -> list[nn.Parameter]:
        """Parameters of the NCE-CLUB critics (their own optimiser group)."""
        return [*self.club_shared_given_y.parameters(), *self.club_unique.parameters()]

    def main_parameters(self) -> list[nn.Parameter]:
        """Everything but the NCE-CLUB critics."""
        skip = {id(p) for p in self.critic_parameters()}
        return [p for p in self.parameters() if id(p) not in skip]


def _has_same_label_pairs(c: Tensor) -> bool:
    """Whether a condition admits conditional negatives: a float condition always does;
    labels do when some label occurs twice."""
    return c.is_floating_point() or int(torch.unique(c).numel()) < int(c.numel())


def fit_factorcl(model: FactorCL, x1: np.ndarray, x2: np.ndarray, y: np.ndarray | None = None,
                 *, augment: Sequence[Augmentation] | None = None, epochs: int = 30,
                 batch_size: int = 128, lr: float = 1e-3, critic_steps: int = 1,
                 seed: int = 0) -> list[dict[str, float]]:
    """Train FactorCL with its two optimiser groups; return per-epoch mean terms (nats).

    ``augment`` gives one augmentation per modality (needed for ``mode="ssl"``).
    """
    epochs = check_int(epochs, "epochs", minimum=1)
    b = check_int(batch_size, "batch_size", minimum=2)
    steps = check_int(critic_steps, "critic_steps", minimum=0)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    if model.mode == "ssl" and (augment is None or len(augment) != 2):
        raise InvalidInputError("mode='ssl' needs augment=(aug1, aug2), one per modality")
    t1 = torch.as_tensor(np.asarray(x1, dtype=np.float32))
    t2 = torch.as_tensor(np.asarray(x2, dtype=np.float32))
    if len(t1) != len(t2) or (y is not None and len(y) != len(t1)):
        raise InvalidInputError("x1, x2 and y must hold the same number of rows")
    ty = None if y is None else torch.as_tensor(np.asarray(y), dtype=torch.long)
    gen = torch.Generator().manual_seed(int(seed))
    main = torch.optim.Adam(model.main_parameters(), lr=lr)
    critic = torch.optim.Adam(model.critic_parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        means = EpochMeans()
        for idx in minibatches(len(t1), b, gen):
            a, c = t1[idx], t2[idx]
            yb = None if ty is None else ty[idx]
            views = None if augment is None else (augment[0](a, gen), augment[1](c, gen))
            terms = model.terms(a, c, yb, views)
            main.zero_grad()
            terms["loss"].backward()
            main.step()
            for _ in range(steps):
                critic.zero_grad()
                model.critic_loss(a, c, yb, views).backward()
                critic.step()
            means.add(terms)
        history.append(means.means())
    return history
