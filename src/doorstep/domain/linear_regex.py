"""Regular expressions for segments: a small language, matched in linear time (docs/segments.md).

Python's `re` backtracks: `.*.*x` takes seconds on a 2,000-character URL. Segment filters are
typed by operators and run over every page view of a site, so they get their own engine: a
pattern is parsed here into a tree, matched by an NFA simulated as a lazily built DFA (time
linear in the text), and translated for PostgreSQL's `~` into a form that means the same there
(every character outside ASCII letters and digits is written as a `\\u` escape, `\\d \\w \\s` as
explicit ASCII classes). SQLite calls `search` through a registered function.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import lru_cache

MAX_PATTERN = 200
MAX_REPEAT = 100
MAX_STATES = 2000
_CACHE_LIMIT = 20_000

_DIGITS = ((("0", "9"),), "")
_WORD = ((("0", "9"), ("A", "Z"), ("a", "z")), "_")
_SPACE = ((), " \t\n\r\f\v")
CLASS_ESCAPES = {"d": _DIGITS, "w": _WORD, "s": _SPACE}
CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
_QUANTIFIERS = "*+?{"

# Tree nodes: ("lit", ch) ("set", negated, chars, ranges) ("cat", items) ("alt", branches)
# ("rep", node, low, high or None). "any" is a negated empty set.
Node = tuple


class RegexError(ValueError):
    """The pattern is outside the supported language; the message says why."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.top_level_alternatives = False
        self.branches = 0

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def take(self) -> str:
        char = self.peek()
        if char is None:
            raise RegexError("the pattern ends too early")
        self.pos += 1
        return char

    def parse(self) -> Node:
        node = self.alternation()
        self.top_level_alternatives = self.branches > 1  # the outermost call returns last
        if self.peek() is not None:
            raise RegexError(f"unbalanced ')' at position {self.pos + 1}")
        return node

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        if any(branch == ("cat", ()) for branch in branches):
            raise RegexError("empty alternatives and empty groups are not supported")
        self.branches = len(branches)
        return branches[0] if len(branches) == 1 else ("alt", tuple(branches))

    def sequence(self) -> Node:
        items = []
        while self.peek() not in (None, "|", ")"):
            items.append(self.quantified(self.atom()))
        return items[0] if len(items) == 1 else ("cat", tuple(items))

    def atom(self) -> Node:
        char = self.take()
        if char == "(":
            if self.peek() == "?":
                raise RegexError("groups starting with (? are not supported")
            inner = self.alternation()
            if self.peek() != ")":
                raise RegexError("missing ')'")
            self.pos += 1
            return inner
        if char == "[":
            return self.char_class()
        if char == ".":
            return ("set", True, frozenset(), ())
        if char == "\\":
            return self.escape()
        if char in "^$":
            raise RegexError("^ and $ are allowed only at the very start and end; write \\$")
        if char in _QUANTIFIERS:
            raise RegexError(f"nothing to repeat before '{char}' (write \\{char} for the sign)")
        return ("lit", char)

    def escape(self) -> Node:
        char = self.take()
        if char.lower() in CLASS_ESCAPES:
            ranges, chars = CLASS_ESCAPES[char.lower()]
            return ("set", char.isupper(), frozenset(chars), ranges)
        return ("lit", self.escaped_char(char))

    def escaped_char(self, char: str) -> str:
        if char in CHAR_ESCAPES:
            return CHAR_ESCAPES[char]
        if char in string.punctuation:
            return char
        raise RegexError(f"unsupported escape \\{char}")

    def char_class(self) -> Node:
        negated = self.peek() == "^"
        self.pos += negated
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        while self.peek() != "]":
            low = self.class_char(chars, ranges)
            if low is None:
                continue
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                high = self.class_char(chars, ranges)
                if high is None or high < low:
                    raise RegexError(f"bad range in a class: {low}-{high or '?'}")
                ranges.append((low, high))
            else:
                chars.add(low)
        self.pos += 1
        if not chars and not ranges:
            raise RegexError("empty classes [] are not supported")
        return ("set", negated, frozenset(chars), tuple(ranges))

    def class_char(self, chars: set[str], ranges: list[tuple[str, str]]) -> str | None:
        """One member of a class: a character, or None when it was \\d, \\w or \\s."""
        if self.peek() is None:
            raise RegexError("missing ']'")
        char = self.take()
        if char == "[":
            raise RegexError("write \\[ for a '[' inside a class")
        if char != "\\":
            return char
        char = self.take()
        if char in CLASS_ESCAPES:
            more_ranges, more_chars = CLASS_ESCAPES[char]
            ranges.extend(more_ranges)
            chars.update(more_chars)
            return None
        if char.lower() in CLASS_ESCAPES:
            raise RegexError(f"\\{char} is not supported inside a class")
        return self.escaped_char(char)

    def quantified(self, node: Node) -> Node:
        char = self.peek()
        if char is None or char not in _QUANTIFIERS:
            return node
        self.pos += 1
        low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}.get(char) or self.bounds()
        if self.peek() is not None and self.peek() in _QUANTIFIERS:
            raise RegexError("a quantifier cannot follow another (lazy forms are not supported)")
        return ("rep", node, low, high)

    def bounds(self) -> tuple[int, int | None]:
        end = self.text.find("}", self.pos)
        body = self.text[self.pos : end] if end >= 0 else ""
        low_text, comma, high_text = body.partition(",")
        if not low_text.isdigit() or not (high_text.isdigit() or high_text == ""):
            raise RegexError("write {m}, {m,} or {m,n}, or \\{ for a brace")
        self.pos = end + 1
        low = int(low_text)
        high = int(high_text) if high_text else (None if comma else low)
        if low > MAX_REPEAT or (high is not None and not low <= high <= MAX_REPEAT):
            raise RegexError(f"repetition counts go from 0 to {MAX_REPEAT}, smallest first")
        return low, high


@dataclass(slots=True)
class _Nfa:
    # A state is ("char", predicate, next), ("split", a, b) or ("match",).
    states: list[tuple] = field(default_factory=list)

    def add(self, state: tuple) -> int:
        if len(self.states) >= MAX_STATES:
            raise RegexError("the pattern is too complex (too many repetitions)")
        self.states.append(state)
        return len(self.states) - 1

    def build(self, node: Node, nxt: int) -> int:
        kind = node[0]
        if kind in ("lit", "set"):
            return self.add(("char", node, nxt))
        if kind == "cat":
            for item in reversed(node[1]):
                nxt = self.build(item, nxt)
            return nxt
        if kind == "alt":
            starts = [self.build(branch, nxt) for branch in node[1]]
            start = starts[-1]
            for other in reversed(starts[:-1]):
                start = self.add(("split", other, start))
            return start
        _, body, low, high = node
        if high is None:
            loop = self.add(("split", -1, nxt))
            self.states[loop] = ("split", self.build(body, loop), nxt)
            start = loop
        else:
            start = nxt
            for _ in range(high - low):
                start = self.add(("split", self.build(body, start), nxt))
        for _ in range(low):
            start = self.build(body, start)
        return start


def _accepts(node: Node, char: str) -> bool:
    if node[0] == "lit":
        return char == node[1]
    _, negated, chars, ranges = node
    inside = char in chars or any(low <= char <= high for low, high in ranges)
    return inside != negated


@dataclass(eq=False, slots=True)
class Regex:
    pattern: str
    anchored_start: bool
    anchored_end: bool
    postgres: str
    _states: list[tuple]
    _match: int
    _start: frozenset[int]
    _steps: dict[tuple[frozenset[int], str], frozenset[int]] = field(default_factory=dict)

    def search(self, text: str) -> bool:
        """Whether some part of `text` matches (all of it from ^ to $ when anchored)."""
        current = self._start
        if self._match in current and not self.anchored_end:
            return True
        for char in text:
            current = self._step(current, char)
            if not current:
                return False
            if self._match in current and not self.anchored_end:
                return True
        return self._match in current

    def _step(self, current: frozenset[int], char: str) -> frozenset[int]:
        key = (current, char)
        found = self._steps.get(key)
        if found is None:
            targets = [
                state[2]
                for index in current
                if (state := self._states[index])[0] == "char" and _accepts(state[1], char)
            ]
            found = _closure(self._states, targets)
            if not self.anchored_start:
                found |= self._start
            if len(self._steps) > _CACHE_LIMIT:
                self._steps.clear()
            self._steps[key] = found
        return found


def _closure(states: list[tuple], seeds: list[int]) -> frozenset[int]:
    """The consuming and match states reachable from `seeds` without reading a character."""
    seen: set[int] = set()
    kept: set[int] = set()
    stack = list(seeds)
    while stack:
        index = stack.pop()
        if index in seen:
            continue
        seen.add(index)
        state = states[index]
        if state[0] == "split":
            stack.extend((state[1], state[2]))
        else:
            kept.add(index)
    return frozenset(kept)


def _pg_char(char: str) -> str:
    if char.isascii() and char.isalnum():
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _pg(node: Node) -> str:
    kind = node[0]
    if kind == "lit":
        return _pg_char(node[1])
    if kind == "set":
        _, negated, chars, ranges = node
        if negated and not chars and not ranges:
            return "."
        members = [_pg_char(c) for c in sorted(chars)]
        members += [f"{_pg_char(low)}-{_pg_char(high)}" for low, high in ranges]
        return "[" + ("^" if negated else "") + "".join(members) + "]"
    if kind == "cat":
        return "".join(f"(?:{_pg(i)})" if i[0] == "alt" else _pg(i) for i in node[1])
    if kind == "alt":
        return "|".join(_pg(branch) for branch in node[1])
    _, body, low, high = node
    suffix = {(0, None): "*", (1, None): "+", (0, 1): "?"}.get((low, high))
    if suffix is None:
        suffix = f"{{{low}}}" if low == high else f"{{{low},{'' if high is None else high}}}"
    return _pg_atom(body) + suffix


def _pg_atom(node: Node) -> str:
    return f"(?:{_pg(node)})" if node[0] in ("cat", "alt", "rep") else _pg(node)


def _strip_anchors(pattern: str) -> tuple[str, bool, bool]:
    start = pattern.startswith("^")
    body = pattern[1:] if start else pattern
    trailing_backslashes = len(body[:-1]) - len(body[:-1].rstrip("\\"))
    end = body.endswith("$") and trailing_backslashes % 2 == 0
    return (body[:-1] if end else body), start, end


@lru_cache(maxsize=256)
def compile_regex(pattern: str) -> Regex:
    """Parse and compile a pattern; RegexError says what is outside the language."""
    if not isinstance(pattern, str) or not 1 <= len(pattern) <= MAX_PATTERN:
        raise RegexError(f"a pattern has 1 to {MAX_PATTERN} characters")
    body, start, end = _strip_anchors(pattern)
    if not body:
        raise RegexError("the pattern matches nothing but the empty text")
    parser = _Parser(body)
    tree = parser.parse()
    if parser.top_level_alternatives and (start or end):
        raise RegexError("group alternatives when anchoring them: ^(a|b)$")
    nfa = _Nfa()
    match = nfa.add(("match",))
    first = nfa.build(tree, match)
    body_pg = f"(?:{_pg(tree)})" if tree[0] == "alt" and (start or end) else _pg(tree)
    postgres = ("^" if start else "") + body_pg + ("$" if end else "")
    return Regex(pattern, start, end, postgres, nfa.states, match, _closure(nfa.states, [first]))
