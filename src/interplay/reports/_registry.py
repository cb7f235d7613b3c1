"""The renderer registry: one renderer per result kind.

A result is the JSON an interplay command writes. Its top-level ``"kind"`` names the renderer;
results written before commands carried a kind are recognised from their keys by each
renderer's ``detect`` function. A new result kind adds one module with one
:func:`register_renderer` call and one template; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import InvalidInputError

Context = dict[str, Any]


@dataclass(frozen=True)
class Renderer:
    """How one kind of result becomes a section of a report.

    Attributes
    ----------
    kind : str
        The value of the result's ``"kind"`` field.
    title : str
        Heading of the section (the result's own title, when it has one, is appended).
    template : str
        Jinja2 template of the section, under ``reports/templates/sections/``.
    build : callable
        ``build(result) -> dict``: the template's variables (tables, figures, captions).
    detect : callable or None
        ``detect(result) -> bool`` for results without a ``"kind"`` field (older files).
    aliases : tuple of str
        Other kind names that mean the same result.
    provenance : callable or None
        ``provenance(result) -> dict`` of what produced the result, when it is not in the
        standard ``"provenance"`` block.
    """

    kind: str
    title: str
    template: str
    build: Callable[[Mapping[str, Any]], Context]
    detect: Callable[[Mapping[str, Any]], bool] | None = None
    aliases: tuple[str, ...] = field(default=())
    provenance: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None


_RENDERERS: dict[str, Renderer] = {}


def register_renderer(renderer: Renderer) -> Renderer:
    """Add ``renderer`` under its kind and aliases (each name may be registered once)."""
    for name in (renderer.kind, *renderer.aliases):
        if name in _RENDERERS:
            raise InvalidInputError(f"a renderer for kind {name!r} is already registered.")
    for name in (renderer.kind, *renderer.aliases):
        _RENDERERS[name] = renderer
    return renderer


def list_renderers() -> list[str]:
    """The result kinds a report can show (aliases excluded), sorted."""
    return sorted({r.kind for r in _RENDERERS.values()})


def renderer_for(kind: str) -> Renderer:
    """The renderer registered for ``kind`` (or one of its aliases)."""
    if kind not in _RENDERERS:
        raise InvalidInputError(
            f"no renderer for result kind {kind!r}; this interplay knows "
            f"{', '.join(list_renderers())}."
        )
    return _RENDERERS[kind]


def detect_kind(result: Mapping[str, Any]) -> str | None:
    """The kind of a result without a ``"kind"`` field, from its keys; None if none fits."""
    for renderer in dict.fromkeys(_RENDERERS.values()):
        if renderer.detect is not None and renderer.detect(result):
            return renderer.kind
    return None
