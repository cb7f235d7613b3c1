"""The report page: sections from the renderers, provenance, one self-contained HTML file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from .._atomic import atomic_write_text, check_output_path
from ..exceptions import InvalidInputError
from ._load import LoadedResult, load_result
from ._registry import renderer_for

#: Provenance fields in the order the page lists them, with their labels.
PROVENANCE_FIELDS = (
    ("command", "command"), ("data", "data"), ("data_sha256", "data hash (SHA-256)"),
    ("seed", "seed"), ("estimator", "estimator"), ("settings", "settings"),
)


def _environment() -> Any:
    try:
        import jinja2
    except ImportError as exc:  # a core dependency; only a broken install lacks it
        from ..exceptions import MissingDependencyError

        raise MissingDependencyError(
            "reports need jinja2: `pip install jinja2` (a dependency of interplay)."
        ) from exc
    return jinja2.Environment(
        loader=jinja2.PackageLoader("interplay.reports", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def _text(value: Any, nested: bool = False) -> str:
    """``a=1, b={c=2, d=[3, 4]}``: a provenance value as one line (None entries left out)."""
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}={_text(v, True)}" for k, v in value.items() if v is not None)
        return f"{{{inner}}}" if nested else inner
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_text(v, True) for v in value)
        return f"[{inner}]" if nested else inner
    return str(value)


def provenance_rows(loaded: LoadedResult) -> list[tuple[str, str]]:
    """Label/value rows saying what produced a result; absent fields say so."""
    data = loaded.data
    renderer = renderer_for(loaded.kind)
    recorded: dict[str, Any] = {}
    if renderer.provenance is not None:
        recorded.update(renderer.provenance(data))
    block = data.get("provenance")
    if isinstance(block, Mapping):
        recorded.update({k: v for k, v in block.items() if v is not None})
    rows = [("result file", f"{loaded.path.name} (SHA-256 {loaded.sha256[:16]}…)"),
            ("result kind", loaded.kind + (" (recognised from its keys: the file has no "
                                           "\"kind\" field)" if loaded.detected else "")),
            ("interplay version", str(data.get("interplay_version", "not recorded")))]
    if recorded.get("data_sha256") and recorded.get("data_hash_of"):
        recorded["data_sha256"] = f"{recorded['data_sha256']} (of {recorded['data_hash_of']})"
    for key, label in PROVENANCE_FIELDS:
        value = recorded.get(key)
        rows.append((label, "not recorded" if value in (None, "", {}, []) else _text(value)))
    return rows


def _warnings(data: Mapping[str, Any], extra: Sequence[str]) -> list[str]:
    found = data.get("warnings") or []
    block = data.get("provenance")
    if isinstance(block, Mapping):
        found = [*found, *(block.get("warnings") or [])]
    return list(dict.fromkeys([*map(str, found), *extra]))


def render_report(results: Sequence[LoadedResult], *, title: str | None = None,
                  command: str | None = None) -> str:
    """The HTML page of ``results``, one section each, in the order given.

    Parameters
    ----------
    results : sequence of LoadedResult
        From :func:`load_result`.
    title : str, optional
        Page title (default: "interplay report").
    command : str, optional
        The command that made the report, shown in its header.

    Returns
    -------
    str
        A complete HTML document: CSS inline, figures as ``data:`` URIs, no scripts and no
        reference to any other file or to the network.
    """
    if not results:
        raise InvalidInputError("a report needs at least one result.")
    env = _environment()
    sections = []
    for index, loaded in enumerate(results):
        renderer = renderer_for(loaded.kind)
        context = renderer.build(loaded.data)
        body = env.get_template(f"sections/{renderer.template}").render(
            **context, anchor=f"s{index}")
        heading = renderer.title + (f": {context['subtitle']}" if context.get("subtitle") else "")
        sections.append({
            "anchor": f"s{index}", "heading": heading, "kind": loaded.kind, "body": body,
            "provenance": provenance_rows(loaded),
            "warnings": _warnings(loaded.data, context.get("warnings", [])),
        })
    return env.get_template("report.html.j2").render(
        title=title or "interplay report", sections=sections, version=__version__,
        command=command)


def write_report(paths: Sequence[str | Path], out: str | Path, *, title: str | None = None,
                 command: str | None = None) -> Path:
    """Read result files, render them, and write the page to ``out`` atomically.

    Nothing is written when a file cannot be read or rendered, or ``out`` cannot be written (its
    folder is missing, it is a folder, or it is one of ``paths``).
    """
    check_output_path(out, "`out`", paths)
    target = Path(out)
    loaded = [load_result(p) for p in paths]
    page = render_report(loaded, title=title, command=command)
    atomic_write_text(target, page)
    return target

