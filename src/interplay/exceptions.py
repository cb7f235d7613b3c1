"""The library's own exceptions and warnings.

Every error raised on bad user input is an :class:`InterplayError`; the ones about input are
also ``ValueError`` so that existing ``except ValueError`` code keeps working.
"""

from __future__ import annotations


class InterplayError(Exception):
    """Base class of every error interplay raises on purpose."""


class InvalidInputError(InterplayError, ValueError):
    """An argument or a file holds something the function cannot use."""


class DataFormatError(InvalidInputError):
    """A data file is of an unknown type, corrupt, truncated or lacks what was asked for."""


class ConvergenceError(InterplayError, RuntimeError):
    """A solver did not reach its tolerance and the caller asked for an error in that case."""


class MissingDependencyError(InterplayError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class InterplayWarning(UserWarning):
    """Base class of interplay's warnings."""


class SmallSampleWarning(InterplayWarning):
    """Too few samples per joint cell for a plug-in estimate to be trusted."""


class ConvergenceWarning(InterplayWarning):
    """A solver stopped before reaching its tolerance; the result says by how much."""
