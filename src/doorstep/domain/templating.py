"""Auto-reply texts as small sandboxed templates (docs/autoreplies.md).

Operators write texts such as "Hi {{ contact.first_name }}, we answer {{ next_available }}."
They are Jinja2 templates run in `ImmutableSandboxedEnvironment`, with autoescaping off because
the result is plain text shown as text. The sandbox alone stops attribute tricks but not
resource abuse (`'a' * 10**8`, `range(10**9)`, nested loops, strings doubled by `~`), so this
module bounds the work as well:

- every operator, call, filter and attribute look-up spends from a budget of `MAX_STEPS` per
  render, and every loop iteration or macro call spends the size of its body;
- results longer than `MAX_OUTPUT_CHARS` (or integers wider than `MAX_INT_BITS`) are refused
  before or right after they are built, and `range()` is capped at `MAX_RANGE` items;
- a parsed template is checked and rewritten before compilation: loops iterate through a
  counting guard and `~` concatenation through a bounded join; names starting with an
  underscore, `include`/`import`/`extends`, recursive loops, deep nesting (slow to compile) and
  non-constant list or dict literals (they nest into exponentially large strings) are refused.

Templates show data only: every `{{ … }}` must come to a string, a number, a boolean or
nothing. `{{ self }}`, a method left uncalled (`{{ contact.name.format }}`), a macro, `range`
or `loop` themselves are refused when the text is saved, and any other value that is not data
(`{{ contact }}`, a list) when a trial rendering meets it; at send time such a value fails the
rendering, so no object's repr ever reaches a visitor.

`check_template` runs at save time and refuses anything that does not render cleanly, with a
message that names the line. `render` runs at send time and never raises: a missing value
renders as empty text and a failure falls back to the source text without its template tags.
"""

from __future__ import annotations

import re
import string
import traceback
import types
from collections.abc import Callable, Generator, Iterable, Iterator
from contextvars import ContextVar
from functools import lru_cache, wraps
from typing import Any, NoReturn

from jinja2 import ChainableUndefined, StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from doorstep.domain.template_data import NotData, check_data_only, field_name, only_data
from doorstep.errors import InvalidInput

MAX_TEMPLATE_CHARS = 2000
MAX_OUTPUT_CHARS = 2000
MAX_RANGE = 100
MAX_STEPS = 20_000
MAX_DEPTH = 40  # of the parsed template
MAX_INT_BITS = 10_000
MAX_SIZE_ARGUMENT = 100_000  # builtin methods allocate in proportion to int arguments

VARIABLES: dict[str, str] = {
    "contact.name": "the visitor's full name, empty if unknown",
    "contact.first_name": "the first word of the visitor's name, empty if unknown",
    "contact.email": "the visitor's email address, empty if unknown",
    "site.name": "the name of the site",
    "schedule.name": "the name of the schedule in force, empty if none",
    "next_available": "when the team is expected to answer, e.g. 'tomorrow at 9:00'",
    "team_online": "true while the team is available, false otherwise",
}

_FILTERS = (
    *("abs", "capitalize", "count", "d", "default", "first", "float", "int", "join", "last"),
    *("length", "lower", "replace", "reverse", "round", "string", "title", "trim", "truncate"),
    *("upper", "wordcount"),
)
_FORBIDDEN_NODES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
_LOOP_GUARD = "_doorstep_loop"
_JOIN_GUARD = "_doorstep_join"
_SPEND_GUARD = "_doorstep_spend"
_TAG = re.compile(r"\{\{.*?(?:\}\}|$)|\{%.*?(?:%\}|$)|\{#.*?(?:#\}|$)", re.DOTALL)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_STEPS: ContextVar[list[int] | None] = ContextVar("doorstep_template_steps", default=None)


def template_context(
    *,
    contact_name: str | None,
    contact_email: str | None,
    site_name: str,
    schedule_name: str | None,
    next_available: str,
    team_online: bool,
) -> dict[str, Any]:
    """The variables of `VARIABLES`, shaped as templates read them."""
    name = (contact_name or "").strip()
    return {
        "contact": {
            "name": name,
            "first_name": name.split()[0] if name else "",
            "email": (contact_email or "").strip(),
        },
        "site": {"name": site_name},
        "schedule": {"name": schedule_name or ""},
        "next_available": next_available,
        "team_online": team_online,
    }


SAMPLE_CONTEXT: dict[str, Any] = template_context(
    contact_name="Jane Doe",
    contact_email="jane@example.com",
    site_name="Example Shop",
    schedule_name="Working hours",
    next_available="tomorrow at 9:00",
    team_online=False,
)
# A text must also work for an anonymous visitor while the team is online.
_SAMPLES = (
    SAMPLE_CONTEXT,
    template_context(
        contact_name=None,
        contact_email=None,
        site_name="Example Shop",
        schedule_name=None,
        next_available="in a few minutes",
        team_online=True,
    ),
)


def check_template(source: object) -> str:
    """The source if it is a text that renders cleanly and cheaply; `InvalidInput` otherwise."""
    if not isinstance(source, str):
        _refuse("an auto-reply text must be a string")
    if not source.strip():
        _refuse("an auto-reply text cannot be empty")
    if len(source) > MAX_TEMPLATE_CHARS:
        _refuse(f"an auto-reply text has at most {MAX_TEMPLATE_CHARS} characters")
    try:
        tree = _checked_tree(_STRICT, source)
        _check_names(tree)
        check_data_only(tree)
        template = _compiled(source, strict=True)
    except TemplateSyntaxError as error:
        _refuse(f"line {error.lineno}: {error.message or 'syntax error'}")
    for sample in _SAMPLES:
        try:
            text = _run(template, sample)
        except Exception as error:
            _refuse(_describe_failure(error))
        if len(text) > MAX_OUTPUT_CHARS:
            _refuse(f"the text would be longer than {MAX_OUTPUT_CHARS} characters")
    return source


def render(source: str, context: dict[str, Any]) -> str:
    """The text for `context`; never raises (a failure yields the source without its tags)."""
    if not isinstance(source, str):
        return ""
    try:
        if len(source) > MAX_TEMPLATE_CHARS:
            raise ValueError("template too long")
        text = _run(_compiled(source, strict=False), context)
    except Exception:
        text = re.sub(r"[ \t]{2,}", " ", _TAG.sub("", source))
    return text.strip()[:MAX_OUTPUT_CHARS].strip()


def _refuse(message: str) -> NoReturn:
    raise InvalidInput(message, code="invalid_template")


def _describe_failure(error: Exception) -> str:
    line = _template_line(error)
    where = f"line {line}: " if line else ""
    if isinstance(error, _LimitExceeded | NotData):
        return f"{where}{error}"
    if isinstance(error, SecurityError):
        return f"{where}not allowed in an auto-reply text: {error}"
    if isinstance(error, UndefinedError):
        return f"{where}unknown variable: {error}"
    if isinstance(error, RecursionError):
        return f"{where}the text calls itself without end"
    return f"{where}the text fails when filled in: {error}"


def _template_line(error: BaseException) -> int | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else None


# --- running under a budget --------------------------------------------------------------


class _LimitExceeded(SecurityError):
    """The template asked for more work or a bigger value than an auto-reply may need."""


def _run(template: Template, context: dict[str, Any]) -> str:
    """Render, stopping once the text is longer than MAX_OUTPUT_CHARS (the caller decides)."""
    token = _STEPS.set([MAX_STEPS])
    try:
        variables = {k: v for k, v in context.items() if not k.startswith("_")}
        pieces = template.generate(variables)
        try:
            return _bounded_text(pieces)
        finally:
            if isinstance(pieces, Generator):  # runs the template's cleanup under the budget
                pieces.close()
    finally:
        _STEPS.reset(token)


def _bounded_text(pieces: Iterable[str]) -> str:
    """The pieces joined, stopping at the first piece that takes them past MAX_OUTPUT_CHARS."""
    collected, length = [], 0
    for piece in pieces:
        collected.append(piece)
        length += len(piece)
        if length > MAX_OUTPUT_CHARS:
            break
    return "".join(collected)


def _spend(steps: int = 1) -> None:
    budget = _STEPS.get()
    if budget is None:  # outside `_run`: when Jinja folds constants at compile time, this
        # refusal makes it leave the operation to render time, where it runs under a budget
        raise _LimitExceeded("no budget to run template code")
    budget[0] -= steps
    if budget[0] < 0:
        raise _LimitExceeded(f"the text takes more than {MAX_STEPS} steps to fill in")


def _check_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset | range):
        if len(value) > MAX_OUTPUT_CHARS:
            raise _LimitExceeded(f"a value would be longer than {MAX_OUTPUT_CHARS} characters")
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _LimitExceeded("a number would be too large")
    return value


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing, the operations whose result could be huge."""
    sequences = str | bytes | list | tuple
    integers = isinstance(left, int) and isinstance(right, int)
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            repeated = isinstance(seq, sequences) and isinstance(count, int)
            if repeated and len(seq) * count > MAX_OUTPUT_CHARS:
                raise _LimitExceeded(f"a value would be longer than {MAX_OUTPUT_CHARS} characters")
        if integers and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _LimitExceeded("a number would be too large")
    elif operator == "**" and integers and right > 0 and abs(left) > 1:
        if left.bit_length() * right > MAX_INT_BITS:
            raise _LimitExceeded("a number would be too large")
    elif operator == "%" and isinstance(left, str):
        _check_widths(m.group(1, 2) for m in _PERCENT_SPEC.finditer(left))


def _check_widths(groups: Iterable[tuple[str | None, ...]]) -> None:
    for group in groups:
        for width in group:
            if width == "*" or (width and int(width) > MAX_OUTPUT_CHARS):
                raise _LimitExceeded(f"a format width is limited to {MAX_OUTPUT_CHARS}")


def _check_format_string(text: str) -> None:
    for _literal, _field, spec, _conversion in string.Formatter().parse(text):
        if spec and "{" in spec:
            raise _LimitExceeded("nested format fields are not available")
        if spec:
            _check_widths([tuple(re.findall(r"\d+", spec))])


def _capped_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise _LimitExceeded(f"range() is limited to {MAX_RANGE} items")
    return numbers


def _counted(iterable: Iterable[Any], cost: int) -> Iterator[Any]:
    for item in iterable:
        _spend(cost)
        yield item


def _spent(cost: int) -> str:
    _spend(cost)
    return ""


def _bounded_join(*parts: Any) -> str:
    text = "".join(map(str, parts))
    return _check_size(text)


def _bounded_concat(pieces: Iterable[str]) -> str:
    """Captured output (macros, `{% set %}` blocks, filter blocks), refused past the limit."""
    return _check_size(_bounded_text(pieces))


def _guarded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)  # keeps jinja's pass_context / pass_environment marker
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _spend()
        return _check_size(func(*args, **kwargs))

    return guarded


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, undefined: type) -> None:
        super().__init__(
            autoescape=False,
            undefined=undefined,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=only_data,
        )
        self.concat = _bounded_concat  # type: ignore[method-assign]
        self.globals.clear()
        self.globals.update(
            {
                "range": _capped_range,
                _LOOP_GUARD: _counted,
                _JOIN_GUARD: _bounded_join,
                _SPEND_GUARD: _spent,
            }
        )
        self.filters = {name: _guarded_filter(self.filters[name]) for name in _FILTERS}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        _check_binop(operator, left, right)
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        if isinstance(__obj, types.BuiltinMethodType | types.BuiltinFunctionType):
            for value in (*args, *kwargs.values()):
                if isinstance(value, int) and abs(value) > MAX_SIZE_ARGUMENT:
                    raise _LimitExceeded(f"method arguments are limited to {MAX_SIZE_ARGUMENT}")
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is not None:
            _check_format_string(value.__self__)
        return wrapper


_STRICT = _BoundedSandbox(StrictUndefined)  # save time: a typo is an error
_LENIENT = _BoundedSandbox(ChainableUndefined)  # send time: a missing value is empty


# --- checking and rewriting the parsed template ------------------------------------------


@lru_cache(maxsize=256)
def _compiled(source: str, strict: bool) -> Template:
    env = _STRICT if strict else _LENIENT
    tree = _Guards().visit(_checked_tree(env, source))
    tree.set_environment(env)
    return env.template_class.from_code(env, env.compile(tree), env.make_globals(None))


def _checked_tree(env: _BoundedSandbox, source: str) -> nodes.Template:
    tree = env.parse(source)
    _check_depth(tree)
    for node in tree.find_all(nodes.Node):
        problem = _problem(env, node)
        if problem:
            raise TemplateSyntaxError(problem, node.lineno)
    return tree


def _check_depth(tree: nodes.Template) -> None:
    """Jinja's compiler takes quadratic time on long chains such as `a and b and c ...`."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TemplateSyntaxError("the text is nested too deeply", node.lineno)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())


def _problem(env: _BoundedSandbox, node: nodes.Node) -> str | None:
    if isinstance(node, _FORBIDDEN_NODES):
        return "include, import and extends are not available in an auto-reply text"
    if isinstance(node, nodes.For) and node.recursive:
        return "recursive loops are not available in an auto-reply text"
    name = _private_name(node)
    if name:
        return f"names starting with an underscore are not available ({name!r})"
    literal = isinstance(node, nodes.List | nodes.Tuple | nodes.Dict)
    if literal and getattr(node, "ctx", "load") == "load" and not _constant(node):
        return "lists and dicts in an auto-reply text may hold constants only"
    if isinstance(node, nodes.Filter) and node.name not in env.filters:
        return f"unknown filter {node.name!r} (available: {', '.join(_FILTERS)})"
    if isinstance(node, nodes.Test) and node.name not in env.tests:
        return f"unknown test {node.name!r}"
    return None


def _private_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name | nodes.NSRef):
        names = [node.name] + ([node.attr] if isinstance(node, nodes.NSRef) else [])
    elif isinstance(node, nodes.Getattr | nodes.Macro):
        names = [node.attr if isinstance(node, nodes.Getattr) else node.name]
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        names = [node.arg.value] if isinstance(node.arg.value, str) else []
    else:
        names = []
    return next((n for n in names if n.startswith("_")), None)


def _constant(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Const):
        return True
    if isinstance(node, nodes.List | nodes.Tuple):
        return all(_constant(item) for item in node.items)
    if isinstance(node, nodes.Dict):
        return all(_constant(pair.key) and _constant(pair.value) for pair in node.items)
    return False


def _check_names(tree: nodes.Template) -> None:
    """Refuse variables and fields that are not offered, even in branches a trial skips."""
    fields: dict[str, set[str]] = {}
    for variable in VARIABLES:
        root, _, field = variable.partition(".")
        fields.setdefault(root, set()).update([field] if field else [])
    unknown = find_undeclared_variables(tree) - set(fields) - set(_STRICT.globals)
    offered = ", ".join(VARIABLES)
    for node in tree.find_all(nodes.Name):
        if node.name in unknown:
            raise TemplateSyntaxError(
                f"unknown variable {node.name!r} (available: {offered})", node.lineno
            )
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        field = field_name(node)
        owner = node.node.name if isinstance(node.node, nodes.Name) else None
        if owner in fields and fields[owner] and field is not None and field not in fields[owner]:
            raise TemplateSyntaxError(
                f"unknown variable '{owner}.{field}' (available: {offered})", node.lineno
            )


class _Guards(NodeTransformer):
    """Charges the budget for work the sandbox does not see (call after `_checked_tree`).

    Each loop iteration costs the size of the loop's body, each macro or `{% call %}` body run
    its size, and `~` goes through a bounded join.
    """

    def visit_For(self, node: nodes.For) -> nodes.Node:
        cost = _size(node.body) + _size([node.test] if node.test else [])
        self.generic_visit(node)
        node.iter = _guard_call(_LOOP_GUARD, [node.iter, nodes.Const(cost)], node.lineno)
        return node

    def visit_Macro(self, node: nodes.Macro) -> nodes.Node:
        return self._charge_body(node)

    def visit_CallBlock(self, node: nodes.CallBlock) -> nodes.Node:
        return self._charge_body(node)

    def _charge_body(self, node: nodes.Macro | nodes.CallBlock) -> nodes.Node:
        cost = _size(node.body)
        self.generic_visit(node)
        spend = _guard_call(_SPEND_GUARD, [nodes.Const(cost)], node.lineno)
        node.body.insert(0, nodes.Output([spend], lineno=node.lineno))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _guard_call(_JOIN_GUARD, node.nodes, node.lineno)


def _size(body: list[nodes.Node]) -> int:
    return 1 + sum(1 + sum(1 for _ in node.find_all(nodes.Node)) for node in body)


def _guard_call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    return nodes.Call(nodes.Name(name, "load", lineno=lineno), args, [], None, None, lineno=lineno)
