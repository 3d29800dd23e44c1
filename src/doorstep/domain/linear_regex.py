"""Regular expressions for segments: a small language, matched in linear time (docs/segments.md).

Python's `re` backtracks: `.*.*x` takes seconds on a 2,000-character URL. Segment filters are
typed by operators and run over every page view of a site, so they get their own engine: a
pattern is parsed here into a tree, matched by a DFA built whole within a bound
(domain/regex_automaton.py: one table lookup per character; a pattern whose DFA would be too
large is refused here, saying why), and translated for PostgreSQL's `~` into a form that means
the same there (every character outside ASCII letters and digits is written as a `\\u` escape,
`\\d \\w \\s` as explicit ASCII classes). SQLite calls `search` through a registered function.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache

from doorstep.domain.regex_automaton import AutomatonTooLarge, Dfa, Nfa, build_dfa

MAX_PATTERN = 200
MAX_REPEAT = 100

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


@dataclass(eq=False, slots=True)
class Regex:
    pattern: str
    anchored_start: bool
    anchored_end: bool
    postgres: str
    _dfa: Dfa
    # Texts every match contains (the runs of plain characters the pattern cannot do
    # without): cheap substring tests that rule out most texts before the regex runs.
    required: tuple[str, ...] = ()

    def search(self, text: str) -> bool:
        """Whether some part of `text` matches (all of it from ^ to $ when anchored)."""
        return self._dfa.search(text)


def required_texts(node: Node) -> tuple[str, ...]:
    """Runs of literal characters that every match of `node` contains, each once."""
    return tuple(dict.fromkeys(_required_runs(node)))


def _required_runs(node: Node) -> list[str]:
    kind = node[0]
    if kind == "lit":
        return [node[1]]
    if kind == "rep":
        _, body, low, _high = node
        return _required_runs(body) if low >= 1 else []
    if kind != "cat":
        return []  # a set or alternatives: no one character is sure
    runs: list[str] = []
    current = ""
    for item in node[1]:
        if item[0] == "lit":
            current += item[1]
            continue
        if current:
            runs.append(current)
            current = ""
        runs += _required_runs(item)
    if current:
        runs.append(current)
    return runs


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


# Compiled DFAs are kept: a saved filter is parsed again each time it is loaded.
@lru_cache(maxsize=64)
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
    try:
        nfa = Nfa()
        match = nfa.add(("match",))
        first = nfa.build(tree, match)
        dfa = build_dfa(nfa.states, first, match, anchored_start=start, anchored_end=end)
    except AutomatonTooLarge as error:
        raise RegexError(str(error)) from None
    body_pg = f"(?:{_pg(tree)})" if tree[0] == "alt" and (start or end) else _pg(tree)
    postgres = ("^" if start else "") + body_pg + ("$" if end else "")
    return Regex(pattern, start, end, postgres, dfa, required_texts(tree))
