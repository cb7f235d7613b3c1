"""Reports: any result interplay writes, as one self-contained HTML page.

Each result kind (the ``"kind"`` field of a result's JSON) has a renderer that turns it into a
section of the page: figures (matplotlib, inlined as SVG), tables and captions, from a Jinja2
template. A new kind registers one :class:`Renderer`; :func:`list_renderers` lists them.

>>> "pid" in list_renderers()
True
"""

from . import renderers as _renderers  # noqa: F401  (registers every renderer)
from ._load import LoadedResult, load_result
from ._page import render_report, write_report
from ._registry import Renderer, list_renderers, register_renderer, renderer_for

__all__ = [
    "LoadedResult",
    "Renderer",
    "list_renderers",
    "load_result",
    "register_renderer",
    "render_report",
    "renderer_for",
    "write_report",
]
