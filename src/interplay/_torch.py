"""Imported first by the torch-only packages (models, training): imports torch, or raises
:class:`~interplay.exceptions.MissingDependencyError` naming the extra that installs it."""

from ._deps import require

require("torch", "this part of interplay (models, training)")
