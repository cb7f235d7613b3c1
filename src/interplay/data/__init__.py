"""Multimodal data: the :class:`MultimodalDataset` model, readers and writers, bundled real
datasets and synthetic generators with known interactions.

Importing this package does not import PyTorch; :meth:`MultimodalDataset.to_torch` does.
"""

from .dataset import MODALITY_KINDS, DatasetMetadata, DatasetSplits, MultimodalDataset
from .io import READ_FORMATS, WRITE_FORMATS, read_dataset, save_dataset
from .latent import latent_truth, make_latent_blocks
from .registry import (
    DatasetEntry,
    dataset_entry,
    list_datasets,
    load_dataset,
    logistic_baseline,
    register_dataset,
)
from .rus_alignment import RUSAlignment, make_rus_alignment
from .synthetic import make_gate, make_mixture

__all__ = [
    "latent_truth",
    "make_latent_blocks",
    "MODALITY_KINDS",
    "READ_FORMATS",
    "WRITE_FORMATS",
    "DatasetEntry",
    "DatasetMetadata",
    "DatasetSplits",
    "MultimodalDataset",
    "dataset_entry",
    "list_datasets",
    "load_dataset",
    "logistic_baseline",
    "make_gate",
    "make_mixture",
    "make_rus_alignment",
    "RUSAlignment",
    "read_dataset",
    "register_dataset",
    "save_dataset",
]
