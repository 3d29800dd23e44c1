"""The matching engine of segment regexes: a DFA built whole, within a bound (docs/segments.md).

A pattern's tree (domain/linear_regex.py) becomes an NFA, and the NFA a DFA over classes of
characters, built completely when the pattern is compiled. Matching then costs one table
lookup per character of the text, whatever the pattern: no backtracking, and no state sets
worked out while the text is read. The earlier engine built its DFA lazily, and
`a.{99}!` over URLs full of "a" met a new state set at almost every character (there are
2^100 of them), each a hundred NFA states to walk: 60 ms of Python per URL, holding the GIL.

A pattern whose DFA would be too large to build is refused when it is compiled, so it is
refused when a filter is saved or previewed, with the reason; building stops as soon as the
bound is passed, so compiling costs milliseconds (about 20 at worst on a busy machine).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_NFA_STATES = 2000
MAX_DFA_STATES = 1000
# Table cells (states x classes of characters) a DFA may have, which bounds its memory.
MAX_DFA_CELLS = 60_000
# NFA states visited while building, which bounds the time it takes.
MAX_BUILD_WORK = 100_000

ACCEPT = 0  # a match was found and the end need not be reached: absorbing
DEAD = 1  # no match can follow any more: absorbing
_FIRST = 2
_CLASS_CACHE = 4096

# NFA states: ("char", node, next) consumes one character the node accepts, ("split", a, b)
# goes both ways without consuming, ("match",) accepts.
Node = tuple


class AutomatonTooLarge(ValueError):
    """The pattern needs more states than the engine allows; the message says how to fix it."""


@dataclass(slots=True)
class Nfa:
    states: list[tuple] = field(default_factory=list)

    def add(self, state: tuple) -> int:
        if len(self.states) >= MAX_NFA_STATES:
            raise AutomatonTooLarge(
                f"the pattern is too complex: it expands to more than {MAX_NFA_STATES} states "
                "(repetitions multiply: write smaller counts)"
            )
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


def closure(states: list[tuple], seeds: Iterable[int]) -> frozenset[int]:
    """The consuming and match states reachable from `seeds` without reading a character."""
    return _closure(states, seeds)[0]


def _closure(states: list[tuple], seeds: Iterable[int]) -> tuple[frozenset[int], int]:
    """The closure, and how many states were visited to find it."""
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
    return frozenset(kept), len(seen)


@dataclass(frozen=True, slots=True)
class _Alphabet:
    """Characters grouped into classes that every node of the pattern treats alike."""

    starts: tuple[int, ...]  # code points where an interval of characters begins
    interval_class: tuple[int, ...]  # the class of each interval
    size: int  # the number of classes
    ascii: tuple[int, ...]  # the class of each ASCII character, for speed

    def class_of(self, code: int) -> int:
        return self.interval_class[bisect_right(self.starts, code) - 1]


def _spans(node: Node) -> list[tuple[str, str]]:
    if node[0] == "lit":
        return [(node[1], node[1])]
    return [(c, c) for c in node[2]] + list(node[3])


def _alphabet(nodes: list[Node]) -> tuple[_Alphabet, list[list[int]]]:
    """The classes, and the classes each node accepts.

    Every character where some node's span begins or ends starts an interval, so each
    interval lies wholly inside or outside each node; intervals that the same nodes accept
    form one class.
    """
    cuts = {0}
    for node in nodes:
        for low, high in _spans(node):
            cuts.update((ord(low), ord(high) + 1))
    starts = tuple(sorted(code for code in cuts if code <= 0x10FFFF))
    inside: list[set[int]] = []  # the intervals of each node
    for node in nodes:
        found: set[int] = set()
        for low, high in _spans(node):
            found.update(range(bisect_left(starts, ord(low)), bisect_right(starts, ord(high))))
        if node[0] == "set" and node[1]:  # negated
            found = set(range(len(starts))) - found
        inside.append(found)
    accepted_by: list[list[int]] = [[] for _ in starts]
    for n, intervals in enumerate(inside):
        for interval in intervals:
            accepted_by[interval].append(n)
    classes: dict[tuple[int, ...], int] = {}
    interval_class = tuple(classes.setdefault(tuple(a), len(classes)) for a in accepted_by)
    ascii_classes = tuple(interval_class[bisect_right(starts, code) - 1] for code in range(128))
    alphabet = _Alphabet(starts, interval_class, len(classes), ascii_classes)
    return alphabet, [sorted({interval_class[i] for i in found}) for found in inside]


@dataclass(eq=False, slots=True)
class Dfa:
    """`table[state][class]` is the next state; ACCEPT and DEAD end the reading early."""

    table: list[list[int]]
    start: int
    final: list[bool]  # whether ending the text in each state is a match
    alphabet: _Alphabet
    _non_ascii: dict[int, int] = field(default_factory=dict)

    def search(self, text: str) -> bool:
        state = self.start
        if state < _FIRST:
            return state == ACCEPT
        table, ascii_classes = self.table, self.alphabet.ascii
        for char in text:
            code = ord(char)
            row = table[state]
            state = row[ascii_classes[code]] if code < 128 else row[self._class(code)]
            if state < _FIRST:
                return state == ACCEPT
        return self.final[state]

    def _class(self, code: int) -> int:
        found = self._non_ascii.get(code)
        if found is None:
            found = self.alphabet.class_of(code)
            if len(self._non_ascii) < _CLASS_CACHE:
                self._non_ascii[code] = found
        return found


def build_dfa(
    states: list[tuple], first: int, match: int, *, anchored_start: bool, anchored_end: bool
) -> Dfa:
    """The whole DFA of an NFA, or AutomatonTooLarge once it passes the bounds."""
    consuming = [i for i, state in enumerate(states) if state[0] == "char"]
    nodes = list(dict.fromkeys(states[i][1] for i in consuming))
    alphabet, classes_of_node = _alphabet(nodes)
    number = {node: n for n, node in enumerate(nodes)}
    # Which classes each consuming state reads.
    reads = {i: classes_of_node[number[states[i][1]]] for i in consuming}
    return _Builder(states, match, alphabet, reads, anchored_start, anchored_end).run(first)


class _Builder:
    def __init__(
        self,
        states: list[tuple],
        match: int,
        alphabet: _Alphabet,
        reads: dict[int, list[int]],
        anchored_start: bool,
        anchored_end: bool,
    ) -> None:
        self.states = states
        self.match = match
        self.alphabet = alphabet
        self.reads = reads
        self.anchored_start = anchored_start
        self.early = not anchored_end  # a match anywhere ends the search
        self.index: dict[frozenset[int], int] = {}
        self.sets: list[frozenset[int]] = [frozenset(), frozenset()]  # ACCEPT, DEAD
        self.work = 0
        self.afters: dict[int, frozenset[int]] = {}
        self.restart: frozenset[int] = frozenset()

    def run(self, first: int) -> Dfa:
        start_set = closure(self.states, [first])
        self.restart = frozenset() if self.anchored_start else start_set
        start = self.state_of(start_set)
        table: list[list[int]] = [[ACCEPT] * self.alphabet.size, [DEAD] * self.alphabet.size]
        done = _FIRST
        while done < len(self.sets):  # every new state is appended, then given its row
            table.append(self.row(self.sets[done]))
            done += 1
        final = [state == ACCEPT or self.match in s for state, s in enumerate(self.sets)]
        return Dfa(table, start, final, self.alphabet)

    def state_of(self, nfa_states: frozenset[int]) -> int:
        if not nfa_states:
            return DEAD
        if self.early and self.match in nfa_states:
            return ACCEPT
        found = self.index.get(nfa_states)
        if found is None:
            if len(self.sets) - _FIRST >= MAX_DFA_STATES:
                raise self.too_large(f"more than {MAX_DFA_STATES} states")
            if (len(self.sets) + 1) * self.alphabet.size > MAX_DFA_CELLS:
                raise self.too_large(f"more than {MAX_DFA_CELLS:,} transitions")
            found = self.index[nfa_states] = len(self.sets)
            self.sets.append(nfa_states)
        return found

    def row(self, nfa_states: frozenset[int]) -> list[int]:
        """The next state for each class of character, from the NFA states in `nfa_states`."""
        readers: dict[int, list[int]] = {}  # class -> the states in `nfa_states` that read it
        work = len(nfa_states)
        for index in nfa_states:
            reads = self.reads.get(index)
            if reads is not None:
                work += len(reads)
                for klass in reads:
                    readers.setdefault(klass, []).append(index)
        self.spend(work)
        # A class no state reads only restarts the search (or ends it, when anchored).
        default = self.state_of(self.restart)
        row = [default] * self.alphabet.size
        reached: dict[tuple[int, ...], int] = {}  # often many classes lead to the same states
        for klass, states in readers.items():
            key = tuple(states)
            found = reached.get(key)
            if found is None:
                parts = [self.after(index) for index in states]
                joined = self.restart.union(*parts)
                # Joining, then hashing the result (in C, cheaper than a visit in Python).
                self.spend((sum(map(len, parts)) + len(self.restart) + len(joined)) // 2)
                found = reached[key] = self.state_of(joined)
            row[klass] = found
        return row

    def after(self, index: int) -> frozenset[int]:
        """The states reached once consuming state `index` has read a character."""
        found = self.afters.get(index)
        if found is None:
            found, visited = _closure(self.states, [self.states[index][2]])
            self.spend(visited)
            self.afters[index] = found
        return found

    def spend(self, work: int) -> None:
        self.work += work
        if self.work > MAX_BUILD_WORK:
            raise self.too_large("too much work to build")

    @staticmethod
    def too_large(what: str) -> AutomatonTooLarge:
        return AutomatonTooLarge(
            f"the pattern is too costly to match in bounded time ({what}): a repetition "
            "such as .{20} after something it can also match makes the engine track every "
            "way the repetition could line up; use a smaller count, a narrower class "
            "(like [^/]) or anchor the pattern with ^"
        )
