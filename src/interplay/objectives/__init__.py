"""Objectives from information: neural MI bounds and the variational multivariate IB compiler.

* Bounds on ``I(X; Y)`` with their direction stated (:mod:`~interplay.objectives.bounds`):
  InfoNCE, NWJ, DV/MINE (lower), CLUB and NCE-CLUB (upper), on separable, bilinear or concat
  critics (:mod:`~interplay.objectives.critics`), and :func:`estimate_mi` to estimate ``I(X; Y)``
  from samples in bits.
* The recipe compiler (:mod:`~interplay.objectives.compiler`): an encoder graph, a decoder graph
  and beta become an ``nn.Module`` objective; the methods of the table (beta-VAE, DVIB,
  beta-DVCCA, DVSIB, ...) are presets made only of graphs (:func:`list_objectives`,
  :func:`create_objective`).
* Evaluation: :func:`linear_probe`; a small in-memory loop :func:`fit_objective`.
"""

from ..analysis.probe import ProbeResult, embedding_plot, linear_probe
from ..training.objective import create_objective, list_objectives
from .bind import BindModel, fit_bind
from .bounds import BOUNDS, CLUB, DV, NCECLUB, NWJ, InfoNCE, MIBound, make_bound
from .compiler import IBObjective, gaussian_kl
from .contrastive import (
    ClipLoss,
    SigLipLoss,
    barlow_twins_loss,
    clip_loss,
    multi_positive_clip_loss,
    nt_xent_loss,
    siglip_loss,
    supcon_loss,
)
from .contrastive_objective import ContrastiveObjective
from .critics import BilinearCritic, ConcatCritic, SeparableCritic, make_critic
from .estimate import BoundCeilingWarning, MIEstimate, estimate_mi
from .factorcl import FactorCL, fit_factorcl
from .factorcl_objective import FactorCLSSLObjective, FactorCLSupObjective
from .fit import encode_arrays, fit_objective
from .graph import IBGraph, Latent, Observed
from .presets import PRESETS, compile_objective

__all__ = [
    "BindModel", "ClipLoss", "ContrastiveObjective", "FactorCL", "FactorCLSSLObjective",
    "FactorCLSupObjective", "SigLipLoss",
    "barlow_twins_loss", "clip_loss", "fit_bind", "fit_factorcl", "multi_positive_clip_loss",
    "nt_xent_loss", "siglip_loss", "supcon_loss",
    "BOUNDS", "BilinearCritic", "BoundCeilingWarning", "CLUB", "ConcatCritic", "DV", "IBGraph",
    "IBObjective", "InfoNCE", "Latent", "MIBound", "MIEstimate", "NCECLUB", "NWJ", "Observed",
    "PRESETS", "ProbeResult", "SeparableCritic", "compile_objective", "create_objective",
    "embedding_plot", "encode_arrays", "estimate_mi", "fit_objective", "gaussian_kl",
    "linear_probe", "list_objectives", "make_bound", "make_critic",
]
