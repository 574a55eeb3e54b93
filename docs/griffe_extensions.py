"""Griffe extensions used by the API reference (static analysis of ``src/omnijourney``).

``AttrsInit`` gives attrs classes the ``__init__`` attrs generates at run time. Static analysis
does not run the ``@attrs.frozen`` / ``@attrs.define`` decorators; without it the record types
would show an empty signature and their documented parameters would be reported as unknown.
It handles ``kw_only`` and ``init=False`` on the decorator, ``default``, ``factory``, ``alias``,
``kw_only`` and ``init=False`` on ``attrs.field``, private attributes (``_x`` takes ``x``) and
fields inherited from attrs base classes.

``SphinxComments`` reads the ``#:`` comment above a module or class attribute as its
docstring (``#: The dtype of every time column.``), as Sphinx autodoc does.

``NumpydocMarkup`` turns the reStructuredText bits of numpydoc docstrings that Markdown does not
understand into Markdown: Sphinx roles (``:class:`~omnijourney.tables.Table```) become links
to the documented object (plain code when it is not documented), simple tables (``=====``
borders) become Markdown tables, and grouped parameters (``a, b : str``) are split into one
entry each so that each gets its own default.

``EntryPointsFirst`` lists the functions of a module before its classes and its constants.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_DECORATORS = {
    "attrs.define",
    "attrs.frozen",
    "attrs.mutable",
    "attr.define",
    "attr.frozen",
    "attr.mutable",
    "attr.s",
    "attr.attrs",
}
_FIELDS = {"attrs.field", "attr.field", "attr.ib", "attr.attrib"}


def _call_path(expr: Any) -> str | None:
    if isinstance(expr, griffe.ExprCall):
        expr = expr.function
    if isinstance(expr, griffe.Expr):
        return expr.canonical_path
    return None


def _arguments(expr: Any) -> dict[str, Any]:
    if not isinstance(expr, griffe.ExprCall):
        return {}
    out = {}
    for argument in expr.arguments:
        name = getattr(argument, "name", None)
        if name is not None:
            out[name] = argument.value
    return out


def _attrs_decorator(cls: griffe.Class) -> Any:
    for decorator in cls.decorators:
        if _call_path(decorator.value) in _DECORATORS:
            return decorator.value
    return None


def _parameters(cls: griffe.Class, class_kw_only: bool) -> list[griffe.Parameter]:
    params = []
    for member in cls.members.values():
        if member.is_alias or not member.is_attribute or member.annotation is None:
            continue
        if "class-attribute" in member.labels and "instance-attribute" not in member.labels:
            continue  # ClassVar
        field = _arguments(member.value) if _call_path(member.value) in _FIELDS else None
        if field is not None and str(field.get("init")) == "False":
            continue
        if field is None:
            default = member.value
        elif "default" in field:
            default = field["default"]
        elif "factory" in field:
            default = griffe.ExprCall(function=field["factory"], arguments=[])
        else:
            default = None
        kw_only = class_kw_only or (field is not None and str(field.get("kw_only")) == "True")
        kind = (
            griffe.ParameterKind.keyword_only
            if kw_only
            else griffe.ParameterKind.positional_or_keyword
        )
        # attrs names the argument of a private attribute "_x" "x", unless given an alias
        alias = field.get("alias") if field is not None else None
        name = str(alias).strip("'\"") if alias is not None else member.name.lstrip("_")
        params.append(
            griffe.Parameter(
                name,
                annotation=member.annotation,
                kind=kind,
                default=default,
                docstring=member.docstring,
            )
        )
    return params


def _add_init(cls: griffe.Class) -> None:
    decorator = _attrs_decorator(cls)
    if decorator is None or "__init__" in cls.members:
        return
    options = _arguments(decorator)
    if str(options.get("init")) == "False":
        return
    params = []
    try:
        parents = [c for c in reversed(cls.mro()) if _attrs_decorator(c) is not None]
    except Exception:  # a base class outside the loaded packages
        parents = []
    for parent in parents:  # fields of attrs base classes come first, as attrs orders them
        params.extend(
            _parameters(parent, str(_arguments(_attrs_decorator(parent)).get("kw_only")) == "True")
        )
    params.extend(_parameters(cls, str(options.get("kw_only")) == "True"))
    params = list({p.name: p for p in params}.values())  # a redefined field replaces the base one
    positional = [p for p in params if p.kind is not griffe.ParameterKind.keyword_only]
    keyword = [p for p in params if p.kind is griffe.ParameterKind.keyword_only]
    init = griffe.Function(
        "__init__",
        lineno=0,
        endlineno=0,
        parent=cls,
        parameters=griffe.Parameters(
            griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword),
            *positional,
            *keyword,
        ),
        returns="None",
    )
    cls.set_member("__init__", init)


def _walk(obj: griffe.Module | griffe.Class, seen: set[str]) -> None:
    if obj.path in seen:
        return
    seen.add(obj.path)
    if isinstance(obj, griffe.Class):
        _add_init(obj)
    for member in obj.members.values():
        if not member.is_alias and (member.is_module or member.is_class):
            _walk(member, seen)  # type: ignore[arg-type]


class AttrsInit(griffe.Extension):
    """Create ``__init__`` for attrs classes of each loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _walk(pkg, set())


# --------------------------------------------------------------------------- docstring markup

_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const|term):`(?P<target>[^`]+)`"
)
_BORDER = re.compile(r"^(?P<indent>\s*)=+(?:\s+=+)+\s*$")
_GROUPED = re.compile(r"^(?P<names>\w+(?:, \w+)+) : (?P<type>.+)$")
_PARAMETER_SECTIONS = {"Parameters", "Other Parameters"}


def _lookup(collection: Any, path: str) -> str | None:
    """The canonical path of ``path`` if the loaded packages hold it, else None."""
    try:
        obj = collection[path]
    except Exception:  # not loaded, or an alias that cannot be resolved (a stdlib name)
        return None
    try:
        return obj.final_target.path if obj.is_alias else obj.path
    except Exception:  # an alias to an object outside the loaded packages
        return None


def _resolve(obj: Any, target: str) -> str:
    collection = obj.modules_collection
    found = _lookup(collection, target)
    if found:
        return found
    scope = obj
    while scope is not None:
        found = _lookup(collection, f"{scope.path}.{target}")
        if found:
            return found
        scope = scope.parent
    return target


def _roles(obj: Any, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        target = match["target"].strip()
        short = target.startswith("~")
        target = target.lstrip("~.")
        if "<" in target and target.endswith(">"):  # :class:`title <target>`
            title, _, target = target[:-1].partition("<")
            shown = title.strip()
            target = target.strip()
        else:
            shown = target.rsplit(".", 1)[-1] if short else target
        identifier = _resolve(obj, target)
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(link, text)


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    cells = []
    for k, (start, _) in enumerate(spans):
        stop = spans[k + 1][0] if k + 1 < len(spans) else len(line)
        cells.append(line[start:stop].strip().replace("|", "\\|"))
    return cells


def _tables(text: str) -> str:
    """reStructuredText simple tables as Markdown tables."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _BORDER.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        borders = [i]
        j = i + 1
        while j < len(lines) and lines[j].strip():
            if _BORDER.match(lines[j]):
                borders.append(j)
            j += 1
        if len(borders) < 2 or borders[-1] != j - 1:
            out.append(lines[i])
            i += 1
            continue
        spans = [(b.start(), b.end()) for b in re.finditer(r"=+", lines[i])]
        body = [ln for ln in lines[i + 1 : j - 1] if not _BORDER.match(ln)]
        header = [""] * len(spans)
        if len(borders) == 3:
            header = _cells(lines[i + 1], spans)
            body = [ln for ln in lines[borders[1] + 1 : j - 1] if not _BORDER.match(ln)]
        indent = m["indent"]
        if out and out[-1].strip():
            out.append("")
        out.append(indent + "| " + " | ".join(header) + " |")
        out.append(indent + "|" + "|".join(["---"] * len(spans)) + "|")
        out.extend(indent + "| " + " | ".join(_cells(ln, spans)) + " |" for ln in body)
        if j < len(lines) and lines[j].strip():
            out.append("")
        i = j
    return "\n".join(out)


def _split_grouped(text: str) -> str:
    """``a, b : str`` followed by a description becomes one entry per name."""
    lines = text.split("\n")
    out: list[str] = []
    section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            section = line.strip()
        m = _GROUPED.match(line) if section in _PARAMETER_SECTIONS else None
        if not m:
            out.append(line)
            i += 1
            continue
        j = i + 1
        while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
            if not lines[j].strip() and not (j + 1 < len(lines) and lines[j + 1].startswith(" ")):
                break
            j += 1
        description = lines[i + 1 : j]
        for name in m["names"].split(", "):
            out.append(f"{name} : {m['type']}")
            out.extend(description)
        i = j
    return "\n".join(out)


def _clean(obj: Any) -> None:
    if obj.docstring is not None:
        text = obj.docstring.value
        new = _roles(obj, _tables(_split_grouped(text)))
        if new != text:
            obj.docstring.value = new
    for member in obj.members.values():
        if not member.is_alias:
            _clean(member)


class NumpydocMarkup(griffe.Extension):
    """Rewrite reStructuredText markup in the docstrings of each loaded package as Markdown."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _clean(pkg)


# --------------------------------------------------------------------------- "#:" comments


def _comment_docstrings(obj: Any) -> None:
    for member in obj.members.values():
        if member.is_alias:
            continue
        if member.is_attribute and member.docstring is None and member.lineno:
            lines = member.module.lines
            comment: list[str] = []
            k = member.lineno - 2
            while k >= 0 and lines[k].strip().startswith("#:"):
                comment.insert(0, lines[k].strip()[2:].strip())
                k -= 1
            if comment:
                member.docstring = griffe.Docstring("\n".join(comment), lineno=k + 2, parent=member)
        if member.is_module or member.is_class:
            _comment_docstrings(member)


class SphinxComments(griffe.Extension):
    """Use ``#:`` comments above attributes as their docstrings."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _comment_docstrings(pkg)


# --------------------------------------------------------------------------- entry points first

_RANK = {"function": 0, "class": 1}


def _kind(module: griffe.Module, name: str) -> str:
    member = module.members.get(name)
    if member is None:
        return "other"
    try:
        return str(member.kind.value)
    except griffe.AliasResolutionError:
        return "other"


def _entry_points_first(module: griffe.Module) -> None:
    exports = getattr(module, "exports", None)
    if exports:
        names = [str(getattr(e, "name", e)) for e in exports]
        ranked = sorted(range(len(names)), key=lambda i: (_RANK.get(_kind(module, names[i]), 2), i))
        module.exports = [exports[i] for i in ranked]
    for member in module.members.values():
        if not member.is_alias and member.is_module:
            _entry_points_first(member)


class EntryPointsFirst(griffe.Extension):
    """List a module's functions (``sessionize``, ``resolve``...) first in the API reference,
    then its classes, then its constants, each in the order of ``__all__``: the reference is
    rendered in the order of ``__all__`` (``members_order``), reordered here, not in the
    module, whose ``__all__`` stays alphabetical."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _entry_points_first(pkg)
