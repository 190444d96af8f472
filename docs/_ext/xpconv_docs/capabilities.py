"""The capability tables, read from the backend registry (``xpconv.backends.catalog()``).

Nothing here is typed by hand: each cell is a class attribute of a backend (``dtypes``,
``native_dtypes``, ``container``, ``preferred_layout``, ``extra``, ``lane``, ``requirements``,
``lane_with``, ``cpu_switches``, ``default``), an answer of one of its methods on a probe plan
(``native_transposed``), or a docstring. No framework is imported: a backend reads its framework
only when handed an array.

``.. xpconv-capabilities:: summary`` (what each backend computes), ``install`` (its pip extra, test
lane and requirement files), ``dtypes`` (dtype × backend: native,
portable or refused) or ``notes`` (what each backend's own docstrings say about its kernels).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .rst import list_table, literal, parse

#: Probe plans of transposed convolutions: (label, keyword options), each tried for 1-3 spatial axes.
PROBES = (("", {}), ("dilated", {"dilation": 2}), ("grouped", {"groups": 2}))
AXES = (1, 2, 3)
ROLE = re.compile(r":(?:py:)?[a-z]+:`(?P<target>[^`]+)`")


def _catalog() -> list[Any]:
    from xpconv.backends import catalog

    return catalog()


def _probe(rank: int, options: dict[str, int]) -> Any:
    import xpconv

    groups = options.get("groups", 1)
    return xpconv.plan((1, 4, *(8,) * rank), (4, 4 // groups, *(3,) * rank), transposed=True, stride=2, **options)


def transposed_text(backend: Any) -> str:
    """Which transposed plans run the framework's own transposed convolution (the others: the forward
    convolution they equal, on the forward kernel)."""
    native = {(label, rank): backend.native_transposed(_probe(rank, options)) is not None
              for label, options in PROBES for rank in AXES}
    ranks = [rank for rank in AXES if native["", rank]]
    if not ranks:
        return "forward twin"
    limits = [f"not {label}" for label, _ in PROBES[1:] if not all(native[label, rank] for rank in ranks)]
    text = ", ".join(f"{rank}-D" for rank in ranks)
    return f"{text} ({', '.join(limits)})" if limits else text


def _lane_text(backend: Any) -> str:
    if not backend.lane:
        return ""
    text = literal(f"nox -s tests-{backend.lane}")
    for _, variable, values in backend.lane_switches():
        text += f" ({literal(variable)} = {', '.join(values)})"
    if backend.lane_with:
        text += f", beside {', '.join(backend.lane_with)}"
    if not backend.default:
        return text
    forced = "".join(f" ({literal(variable)} = {value})" for variable, value in backend.forced_in_all().items())
    return text + f", and in ``tests-all``{forced}"


def _requirements_text(backend: Any) -> str:
    return ", ".join(f"``backends/{name}``" for name in backend.requirements)


#: Dtype kinds, by their names without the bit width, as the summary names them.
KINDS = (("integers", ("int", "uint")), ("floats", ("float", "bfloat")), ("complex", ("complex",)))


def compact(names: frozenset[str], of: frozenset[str]) -> str:
    """``names`` (a subset of ``of``) in words: a kind all of whose dtypes in ``of`` are in ``names``
    by its name ("floats"), the others dtype by dtype."""
    from xpconv._dtypes import describe

    parts = []
    for kind, prefixes in KINDS:
        mine = frozenset(n for n in of if n.rstrip("0123456789") in prefixes)
        if mine and mine <= names:
            parts.append(kind)
        elif mine & names:
            parts.append(describe(mine & names))
    return ", ".join(parts)


def _native_text(backend: Any) -> str:
    if backend.container:
        return "its blocks' library's"
    return compact(frozenset(backend.native_dtypes), frozenset(backend.dtypes)) or "none: xpconv's own kernel"


def summary_rows() -> list[list[str]]:
    """What each backend computes: its native convolution and transposed convolution, whether it
    is a container, the layout it prefers."""
    return [[f"**{b.name}**", _native_text(b), transposed_text(b) if b.has_native else "forward twin",
             "yes: lazy, one task per output block" if b.container else "no", literal(b.preferred_layout)]
            for b in _catalog()]


SUMMARY_HEADER = ("backend", "native convolution", "native transposed", "container", "preferred layout")


def install_rows() -> list[list[str]]:
    """How each backend is installed and tested."""
    return [[f"**{b.name}**", literal(b.module), literal(f"xpconv[{b.extra}]") if b.extra else "",
             _lane_text(b), _requirements_text(b)] for b in _catalog()]


INSTALL_HEADER = ("backend", "consulted once imported", "pip extra", "test lane", "requirement files")


def _all_dtypes(backends: list[Any]) -> list[str]:
    from xpconv._dtypes import describe

    return describe(frozenset().union(*(b.dtypes for b in backends))).split(", ")


def dtype_rows() -> tuple[list[str], list[list[str]]]:
    """Dtype × backend: ``native`` (the framework's convolution takes it), ``portable`` (xpconv's own
    kernels compute it), ``blocks`` (a container: each block on its library), or refused."""
    backends = _catalog()
    header = ["dtype", *(b.name for b in backends)]
    rows = []
    for name in _all_dtypes(backends):
        cells = []
        for b in backends:
            if name not in b.dtypes:
                cells.append("")
            elif b.container:
                cells.append("blocks")
            else:
                cells.append("**native**" if name in b.native_dtypes else "portable")
        rows.append([literal(name), *cells])
    return header, rows


def _first_paragraph(obj: Any) -> str:
    """The first paragraph of ``obj``'s docstring, its cross-references as literals (they name internals)."""
    doc = inspect.getdoc(obj) or ""
    return ROLE.sub(lambda m: literal(m["target"].lstrip("~.")), " ".join(doc.split("\n\n")[0].split()))


def note_lines() -> list[str]:
    """Per backend, the docstrings of what it overrides: its class or module, and the kernel hooks."""
    from xpconv.backends import Backend

    lines: list[str] = []
    for b in _catalog():
        kind = type(b)
        items = [_first_paragraph(kind) if kind.__doc__ else _first_paragraph(inspect.getmodule(kind))]
        for hook in ("native_transposed", "prefers_own", "direct_kernel"):
            if getattr(kind, hook) is not getattr(Backend, hook) and getattr(kind, hook).__doc__:
                items.append(f"``{hook}``: {_first_paragraph(getattr(kind, hook))}")
        dtypes = inspect.getattr_static(kind, "dtypes")
        if isinstance(dtypes, property):
            items.append(f"``dtypes``: {_first_paragraph(dtypes)}")
        lines.append(f"**{b.name}** (``{kind.__module__}.{kind.__qualname__}``)")
        lines += [f"   - {item}" for item in items] + [""]
    return lines


class Capabilities(SphinxDirective):
    """``.. xpconv-capabilities:: summary | install | dtypes | notes``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        table = self.arguments[0]
        if table == "summary":
            lines = list_table(SUMMARY_HEADER, summary_rows(), classes="xpconv-capabilities")
        elif table == "install":
            lines = list_table(INSTALL_HEADER, install_rows(), classes="xpconv-capabilities")
        elif table == "dtypes":
            header, rows = dtype_rows()
            lines = list_table(header, rows, classes="xpconv-dtypes")
        elif table == "notes":
            lines = note_lines()
        else:
            raise self.error(f"xpconv-capabilities takes summary, install, dtypes or notes. Received: {table!r}")
        return parse(self, lines)


def setup(app: Sphinx) -> None:
    app.add_directive("xpconv-capabilities", Capabilities)
