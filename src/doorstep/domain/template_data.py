"""Auto-reply texts show data only (docs/autoreplies.md, docs/security.md "Bad input").

Every `{{ … }}` of a text must come to a string, a number, a boolean or nothing. Two guards
see to it, both for domain/templating.py:

- `check_data_only` reads the parsed text when it is saved and refuses what reaches code
  rather than data, in every branch: `self`, a method that is not called
  (`{{ contact.name.format }}`), a macro, `range`, `caller` or `loop` by themselves, a group
  of fields such as `{{ contact }}`, a list or a dict;
- `only_data` is Jinja's `finalize`, run on each value a text outputs: anything else fails
  the rendering (at save time a refusal that says why; at send time the text falls back to
  its words without tags), so no object is ever shown as its repr.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError

_DATA = (str, int, float, type(None), Undefined)  # bool is an int
# Attributes of the values a text reaches that are methods: to be called, never shown.
METHODS = frozenset(
    name
    for kind in (str, int, float, dict, list, tuple, range)
    for name in dir(kind)
    if not name.startswith("_") and callable(getattr(kind, name))
)
# The loop object's own: these are data, but `cycle` and `changed` are methods.
_LOOP_FIELDS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0"}
    | {"previtem", "nextitem"}
)
# Names that stand for code, never for data: only to be called (`loop` also read from).
_CALL_ONLY = frozenset({"range", "caller", "loop"})
# The variables that group fields (templating.VARIABLES): `{{ contact }}` is no text.
_GROUPS = frozenset({"contact", "site", "schedule"})
_ADVICE = "an auto-reply text shows data only, e.g. {{ contact.name }}"


class NotData(SecurityError):
    """`{{ … }}` came to something other than a string, a number, a boolean or nothing."""


def only_data(value: Any) -> Any:
    """Jinja's `finalize`: what each `{{ … }}` outputs, refused unless it is data."""
    if isinstance(value, _DATA):
        return value
    if isinstance(value, list | tuple | range):
        hint = "join its items, e.g. | join(', ')"
    else:
        hint = "show one of its fields, e.g. contact.name"
    raise NotData(
        "{{ … }} shows data only (text, a number, true or false), "
        f"not a {type(value).__name__}: {hint}"
    )


def check_data_only(tree: nodes.Template) -> None:
    """Refuse, with its line, the first thing in the text that reaches code or shows a
    whole object (a TemplateSyntaxError, as the other checks of the parsed text)."""
    called = {id(node.node) for node in tree.find_all(nodes.Call)}
    read_from = {id(node.node) for node in tree.find_all((nodes.Getattr, nodes.Getitem))}
    macros = {node.name for node in tree.find_all(nodes.Macro)}
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        if id(node) in called:
            problem = "'self' is not available" if _is_name(node, "self") else None
        elif isinstance(node, nodes.Name):
            problem = _uncalled_name(node, macros, read=id(node) in read_from)
        else:
            problem = _uncalled_attribute(node)
        if problem:
            raise TemplateSyntaxError(f"{problem}; {_ADVICE}", node.lineno)
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            problem = _shown_whole(child)
            if problem:
                raise TemplateSyntaxError(f"{problem}; {_ADVICE}", child.lineno)


def _uncalled_name(node: nodes.Name, macros: set[str], *, read: bool) -> str | None:
    if node.ctx != "load":
        return None
    if node.name == "self":
        return "'self' is not available"
    if node.name in macros:
        return f"the macro {node.name!r} is code: call it, {node.name}()"
    if node.name in _CALL_ONLY and not (node.name == "loop" and read):
        return f"{node.name!r} is code, not data"
    return None


def _uncalled_attribute(node: nodes.Getattr | nodes.Getitem) -> str | None:
    name = field_name(node)
    if _is_name(node.node, "loop"):
        method = name is not None and name not in _LOOP_FIELDS
    else:
        method = name in METHODS
    if method:
        return f"{_dotted(node)} is a method: call it, or use a filter such as | upper"
    return None


def _shown_whole(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name) and node.name in _GROUPS:
        return f"{node.name!r} is a group of fields: show one, e.g. {node.name}.name"
    if isinstance(node, nodes.List | nodes.Tuple | nodes.Dict):
        return "a list or a dict is no text: join a list's items, e.g. | join(', ')"
    return None


def _is_name(node: nodes.Node, name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == name


def _dotted(node: nodes.Node) -> str:
    """`'contact.name.format'` for a chain of names and attributes."""
    parts = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        parts.append(field_name(node) or "[…]")
        node = node.node
    parts.append(node.name if isinstance(node, nodes.Name) else "…")
    return "'" + ".".join(reversed(parts)) + "'"


def field_name(node: nodes.Getattr | nodes.Getitem) -> str | None:
    """The attribute a look-up names, `a.b` or `a['b']` alike (Jinja tries both ways)."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None
