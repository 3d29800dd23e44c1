"""Segment filters: parsing and its refusals, membership of one contact, the regex engine."""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.domain import segment_matching
from doorstep.domain import segments as s
from doorstep.domain.linear_regex import RegexError, compile_regex
from doorstep.domain.models import Contact
from doorstep.errors import InvalidInput

NOW = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)


def contact(**values: Any) -> Contact:
    base: dict[str, Any] = {
        "id": 1,
        "site_id": 1,
        "name": None,
        "email": None,
        "phone": None,
        "external_id": None,
        "avatar_url": None,
        "attributes": {},
        "created_at": NOW - timedelta(days=30),
        "last_seen_at": NOW,
    }
    return Contact(**{**base, **values})


def facts(**values: Any) -> s.ContactFacts:
    parts = {k: values.pop(k) for k in ("visits", "page_views", "events") if k in values}
    talked = values.pop("has_conversation", False)
    return s.ContactFacts(contact(**values), **parts, has_conversation=talked)


def one(condition: dict[str, Any], match: str = "all") -> s.Group:
    return s.parse_filter({"match": match, "conditions": [condition]})


def holds(condition: dict[str, Any], subject: s.ContactFacts) -> bool:
    return segment_matching.matches(one(condition), subject, NOW)


# The examples of the issue, as docs/segments.md writes them.
IN_JAPAN_OR_KOREA = {"field": "country", "op": "in", "value": ["JP", "KR"]}
ON_MOBILE = {"field": "device_type", "op": "eq", "value": "mobile"}
BIG_CART = {"field": "attribute", "name": "cart_value", "op": "gt", "value": 100}
SAW_PRICING = {"field": "visited_url", "op": "contains", "value": "/pricing", "within_days": 7}
HAS_EMAIL = {"field": "email", "op": "exists"}
RETURNING = {"field": "visits", "op": "gt", "value": 1}


def test_the_issue_examples_select_whom_they_describe() -> None:
    fan = facts(
        country="JP",
        device_type="mobile",
        email="ann@example.com",
        attributes={"cart_value": 120.5},
        visits=(NOW - timedelta(days=9), NOW - timedelta(hours=1)),
        page_views=(("https://shop.example/pricing?x=1", NOW - timedelta(days=6)),),
    )
    stranger = facts(
        country="US",
        device_type="desktop",
        attributes={"cart_value": "120"},
        visits=(NOW,),
        page_views=(("https://shop.example/pricing", NOW - timedelta(days=8)),),
    )
    for condition in (IN_JAPAN_OR_KOREA, ON_MOBILE, BIG_CART, SAW_PRICING, HAS_EMAIL, RETURNING):
        assert holds(condition, fan), condition
        assert not holds(condition, stranger), condition


def test_text_ignores_ascii_case_only_and_negations_include_the_unknown() -> None:
    assert holds({"field": "name", "op": "eq", "value": "JANE"}, facts(name="jane"))
    assert not holds({"field": "name", "op": "eq", "value": "ÉMILE"}, facts(name="émile"))
    assert holds({"field": "country", "op": "neq", "value": "JP"}, facts(country=None))
    assert holds({"field": "name", "op": "not_contains", "value": "x"}, facts())
    assert not holds({"field": "name", "op": "contains", "value": "x"}, facts())
    assert holds(
        {"field": "email", "op": "ends_with", "value": "@ACME.com"}, facts(email="a@acme.com")
    )


def test_attributes_compare_by_type() -> None:
    numbers = facts(attributes={"n": 100, "s": "100", "b": True, "f": 0.1})
    assert holds({"field": "attribute", "name": "n", "op": "eq", "value": 100.0}, numbers)
    assert not holds({"field": "attribute", "name": "s", "op": "gte", "value": 1}, numbers)
    assert holds({"field": "attribute", "name": "s", "op": "eq", "value": "100"}, numbers)
    assert not holds({"field": "attribute", "name": "n", "op": "eq", "value": "100"}, numbers)
    assert holds({"field": "attribute", "name": "b", "op": "eq", "value": True}, numbers)
    assert not holds({"field": "attribute", "name": "n", "op": "eq", "value": True}, numbers)
    assert holds({"field": "attribute", "name": "f", "op": "in", "value": [0.1, 2]}, numbers)
    assert holds({"field": "attribute", "name": "missing", "op": "neq", "value": 1}, numbers)
    assert holds({"field": "attribute", "name": "b", "op": "exists"}, numbers)


def test_events_count_within_a_window_and_groups_combine() -> None:
    buyer = facts(
        events=(("purchase", NOW - timedelta(days=40)), ("purchase", NOW - timedelta(days=2))),
        has_conversation=True,
        tags=("VIP",),
    )
    assert holds({"field": "event", "name": "purchase", "op": "gte", "value": 2}, buyer)
    recent = {"field": "event", "name": "purchase", "op": "eq", "value": 1, "within_days": 7}
    assert holds(recent, buyer)
    assert holds({"field": "event", "name": "signup", "op": "not_exists"}, buyer)
    assert holds({"field": "has_conversation", "op": "eq", "value": True}, buyer)
    assert holds({"field": "tags", "op": "contains", "value": "vip"}, buyer)
    nested = {
        "match": "any",
        "conditions": [
            {"match": "none", "conditions": [{"field": "tags", "op": "exists"}]},
            {"field": "created_at", "op": "before_days", "value": 29},
        ],
    }
    assert segment_matching.matches(s.parse_filter(nested), buyer, NOW)
    assert segment_matching.matches(s.parse_filter({"match": "all", "conditions": []}), buyer, NOW)
    assert not segment_matching.matches(
        s.parse_filter({"match": "any", "conditions": []}), buyer, NOW
    )


def test_dates_are_relative_to_the_given_now() -> None:
    seen = facts(last_seen_at=NOW - timedelta(days=7))
    assert holds({"field": "last_seen_at", "op": "within_days", "value": 7}, seen)
    assert not holds({"field": "last_seen_at", "op": "before_days", "value": 7}, seen)
    later = NOW + timedelta(seconds=1)
    condition = one({"field": "last_seen_at", "op": "before_days", "value": 7})
    assert segment_matching.matches(condition, seen, later)


def deep(levels: int) -> dict[str, Any]:
    group: dict[str, Any] = {"match": "all", "conditions": [HAS_EMAIL]}
    for _ in range(levels - 1):
        group = {"match": "any", "conditions": [group]}
    return group


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ("country is JP", "filter"),
        ({"match": "most", "conditions": []}, "filter.match"),
        ({"match": "all", "conditions": {}}, "filter.conditions"),
        ({"match": "all", "conditions": [], "extra": 1}, "filter"),
        ({"conditions": [{"field": "countri", "op": "eq", "value": "JP"}]}, "conditions[0].field"),
        ({"conditions": [{"field": "country", "op": "gt", "value": "JP"}]}, "conditions[0].op"),
        ({"conditions": [{**IN_JAPAN_OR_KOREA, "name": "x"}]}, "conditions[0]"),
        ({"conditions": [{"field": "country", "op": "in", "value": []}]}, "conditions[0].value"),
        (
            {"conditions": [{"field": "country", "op": "in", "value": ["x"] * 101}]},
            "conditions[0].value",
        ),
        ({"conditions": [{"field": "name", "op": "eq", "value": "x" * 1001}]}, "value"),
        ({"conditions": [{"field": "name", "op": "eq", "value": ""}]}, "value"),
        ({"conditions": [{"field": "name", "op": "eq", "value": "a\x00"}]}, "value"),
        ({"conditions": [{"field": "name", "op": "eq", "value": "\ud800"}]}, "value"),
        ({"conditions": [{"field": "name", "op": "exists", "value": "x"}]}, "value"),
        ({"conditions": [{"field": "attribute", "op": "exists"}]}, "conditions[0].name"),
        ({"conditions": [{"field": "attribute", "name": "a b", "op": "exists"}]}, "name"),
        ({"conditions": [{**BIG_CART, "value": "100"}]}, "value"),
        ({"conditions": [{**BIG_CART, "value": 10**16}]}, "value"),
        ({"conditions": [{**BIG_CART, "value": float("nan")}]}, "value"),
        ({"conditions": [{**BIG_CART, "op": "in", "value": [1, "a"]}]}, "value"),
        ({"conditions": [{**BIG_CART, "op": "eq", "value": [1]}]}, "value"),
        ({"conditions": [{"field": "visits", "op": "gt", "value": True}]}, "value"),
        ({"conditions": [{"field": "visits", "op": "gt", "value": -1}]}, "value"),
        ({"conditions": [{**SAW_PRICING, "within_days": 0}]}, "within_days"),
        ({"conditions": [{"field": "created_at", "op": "within_days", "value": 3651}]}, "value"),
        ({"conditions": [{"field": "has_conversation", "op": "eq", "value": "yes"}]}, "value"),
        ({"conditions": [{"field": "name", "op": "regex", "value": "a" * 201}]}, "value"),
        ({"conditions": [{"field": "name", "op": "regex", "value": "(?=a)"}]}, "regex"),
        ({"conditions": [{"field": "name", "op": "regex", "value": r"(a)\1"}]}, "regex"),
        ({"conditions": [{"field": "name", "op": "regex", "value": "a*?"}]}, "regex"),
        ({"conditions": [{"field": "name", "op": "regex", "value": "a|b$"}]}, "regex"),
        ({"conditions": [{"field": "name", "op": "regex", "value": "((a{100}){100})"}]}, "regex"),
        ({"conditions": [HAS_EMAIL] * 51}, "conditions[50]"),
        (deep(4), "conditions[0].conditions[0].conditions[0]"),
    ],
)
def test_bad_filters_are_refused_with_where_and_why(data: object, where: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        s.parse_filter(data)
    assert refused.value.code == "invalid_filter"
    assert where in refused.value.message


def test_limits_are_inclusive() -> None:
    s.parse_filter({"conditions": [HAS_EMAIL] * 50})
    s.parse_filter(deep(3))
    s.parse_filter({"conditions": [{"field": "name", "op": "eq", "value": "x" * 1000}]})
    s.parse_filter({"conditions": [{"field": "name", "op": "regex", "value": "a" * 200}]})


def test_the_canonical_form_parses_back_to_the_same_filter() -> None:
    data = {
        "conditions": [
            IN_JAPAN_OR_KOREA,
            {"match": "none", "conditions": [BIG_CART, SAW_PRICING]},
            {"field": "name", "op": "regex", "value": "^J(an|o)e?$"},
        ]
    }
    parsed = s.parse_filter(data)
    canonical = s.filter_to_json(parsed)
    assert canonical["match"] == "all" and canonical["conditions"][0] == IN_JAPAN_OR_KOREA
    assert s.parse_filter(canonical) == parsed


def test_needs_names_only_what_the_filter_reads() -> None:
    needs = s.needs(s.parse_filter({"conditions": [RETURNING, BIG_CART]}))
    assert needs == s.Needs(visits=True)
    event = {"field": "event", "name": "signup", "op": "exists"}
    assert s.needs(one(event)).event_names == frozenset({"signup"})


# Property tests ---------------------------------------------------------------------------

TEXTS = st.sampled_from(["jp", "JP", "Jane", "jane doe", "émile", "x", "a%b", "a_b", "/pricing"])
SUBJECTS = st.builds(
    lambda name, country, attrs, tags, talked: facts(
        name=name, country=country, attributes=attrs, tags=tags, has_conversation=talked
    ),
    st.one_of(st.none(), TEXTS),
    st.one_of(st.none(), TEXTS),
    st.dictionaries(
        st.sampled_from(["a", "b"]),
        st.one_of(st.integers(-5, 5), st.booleans(), TEXTS, st.floats(-5, 5, width=16)),
    ),
    st.lists(TEXTS, max_size=3).map(tuple),
    st.booleans(),
)
CONDITIONS = st.one_of(
    st.builds(
        lambda f, op, v: {"field": f, "op": op, "value": [v] if op.endswith("in") else v},
        st.sampled_from(["name", "country"]),
        st.sampled_from(["eq", "neq", "in", "not_in", "contains", "not_contains", "starts_with"]),
        TEXTS,
    ),
    st.builds(
        lambda name, op, v: {"field": "attribute", "name": name, "op": op, "value": v},
        st.sampled_from(["a", "b"]),
        st.sampled_from(["eq", "neq", "gt", "lte"]),
        st.integers(-5, 5),
    ),
    st.builds(lambda op: {"field": "tags", "op": op, "value": "jp"}, st.sampled_from(["contains"])),
    st.builds(lambda v: {"field": "has_conversation", "op": "eq", "value": v}, st.booleans()),
)
NEGATED = {"eq": "neq", "in": "not_in", "contains": "not_contains", "exists": "not_exists"}


@given(SUBJECTS, CONDITIONS)
def test_a_negative_op_is_the_exact_opposite_of_its_positive(
    subject: s.ContactFacts, condition: dict[str, Any]
) -> None:
    opposite = NEGATED.get(condition["op"])
    if opposite is None:
        return
    flipped = {**condition, "op": opposite}
    assert holds(flipped, subject) is (not holds(condition, subject))


@given(SUBJECTS, st.lists(CONDITIONS, max_size=4))
def test_none_is_not_any_and_all_is_none_of_the_opposites(
    subject: s.ContactFacts, conditions: list[dict[str, Any]]
) -> None:
    def run(match: str, items: list[dict[str, Any]]) -> bool:
        return segment_matching.matches(
            s.parse_filter({"match": match, "conditions": items}), subject, NOW
        )

    assert run("none", conditions) is (not run("any", conditions))
    parsed = s.parse_filter({"conditions": conditions})
    assert s.parse_filter(s.filter_to_json(parsed)) == parsed


# The regex engine against Python's re, on the language both understand -------------------

ALPHABET = "ab-./é0_ \n%😀$*üA"
ATOMS = st.sampled_from(
    [
        ("a", "a"),
        ("b", "b"),
        ("é", "é"),
        (r"\.", r"\."),
        ("-", "-"),
        (".", "."),
        ("[ab]", "[ab]"),
        ("[^a]", "[^a]"),
        ("[a-c]", "[a-c]"),
        (r"\d", "[0-9]"),
        (r"\w", "[A-Za-z0-9_]"),
        (r"\s", "[ \t\n\r\f\v]"),
        (r"[\d.]", "[0-9.]"),
        (r"\n", r"\n"),
        (r"\D", "[^0-9]"),
        (r"\W", "[^A-Za-z0-9_]"),
        (r"\S", "[^ \t\n\r\f\v]"),
        (r"\$", r"\$"),
        (r"\*", r"\*"),
        ("[é-ü]", "[é-ü]"),
        (r"[\-a]", r"[\-a]"),
        (r"[^\n]", r"[^\n]"),
        ("😀", "😀"),
        ("%", "%"),
    ]
)
QUANTIFIERS = st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "{1,}", "{3,5}", "{0}"])


def _extend(children: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[tuple[str, str]]:
    def join(parts: list[tuple[str, str]], sep: str) -> tuple[str, str]:
        return sep.join(p[0] for p in parts), sep.join(p[1] for p in parts)

    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda ps: join(ps, "")),
        st.lists(children, min_size=2, max_size=3).map(
            lambda ps: (f"({join(ps, '|')[0]})", f"(?:{join(ps, '|')[1]})")
        ),
        st.tuples(children, QUANTIFIERS).map(
            lambda p: (f"({p[0][0]}){p[1]}", f"(?:{p[0][1]}){p[1]}")
        ),
    )


PATTERNS = st.recursive(ATOMS, _extend, max_leaves=6)


@settings(max_examples=400)
@given(PATTERNS, st.booleans(), st.booleans(), st.lists(st.text(ALPHABET, max_size=8), max_size=6))
def test_the_regex_engine_agrees_with_python_re(
    pattern: tuple[str, str], start: bool, end: bool, texts: list[str]
) -> None:
    ours = ("^" if start else "") + pattern[0] + ("$" if end else "")
    body = f"(?:{pattern[1]})"
    reference = re.compile((r"\A" if start else "") + body + (r"\Z" if end else ""), re.DOTALL)
    compiled = compile_regex(ours)
    for text in texts:
        assert compiled.search(text) == bool(reference.search(text)), (ours, text)


@settings(max_examples=300)
@given(PATTERNS, st.lists(st.text(ALPHABET, max_size=10), max_size=6))
def test_a_text_that_matches_contains_every_required_run(
    pattern: tuple[str, str], texts: list[str]
) -> None:
    """The prefilter (a substring test per required run) never rules out a match."""
    compiled = compile_regex(pattern[0])
    for text in texts:
        if compiled.search(text):
            assert all(run in text for run in compiled.required), (pattern[0], text)


def test_required_runs_are_the_plain_characters_a_match_cannot_do_without() -> None:
    assert compile_regex("a.{8}!").required == ("a", "!")
    assert compile_regex("/pricing(/[a-z]+)?$").required == ("/pricing",)
    assert compile_regex("(ab)+c").required == ("ab", "c")
    assert compile_regex("x*|y").required == ()
    assert compile_regex("[ab]c?").required == ()


def test_the_regex_engine_is_linear_where_backtracking_explodes() -> None:
    started = time.perf_counter()
    assert not compile_regex(".*.*.*.*.*x").search("a" * 2000)
    assert not compile_regex("(a|a)*(a*)*b").search("a" * 2000)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    "pattern", ["", "^", "(", ")", "[", "[]", "a{", "a{,2}", "a{3,2}", "*a", r"\b", "a^b", "(?i)a"]
)
def test_patterns_outside_the_language_are_refused(pattern: str) -> None:
    with pytest.raises(RegexError):
        compile_regex(pattern)


def test_postgresql_form_escapes_everything_but_ascii_letters_and_digits() -> None:
    assert compile_regex(r"^/p\.[a-c]\d+$").postgres == r"^\u002fp\u002e[a-c][0-9]+$"
    assert compile_regex("(ab|é)?").postgres == r"(?:ab|\u00e9)?"
    assert compile_regex("^(a|b)$").postgres == "^(?:a|b)$"


# Patterns whose automaton cannot be bounded are refused, saying why ----------------------


@pytest.mark.parametrize("pattern", ["a.{99}!", "a.{9}!", "(foo|bar).{50}baz", "([a-m].{3}){5}"])
def test_patterns_the_engine_cannot_bound_are_refused_saying_why(pattern: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        s.parse_filter({"conditions": [{"field": "visited_url", "op": "regex", "value": pattern}]})
    assert refused.value.code == "invalid_filter"
    message = refused.value.message
    assert message.startswith("filter.conditions[0].value: regex: the pattern is too costly")
    assert "use a smaller count, a narrower class" in message


@pytest.mark.parametrize(
    "pattern",
    ["a.{8}!", "a" * 200, r"^\d{1,100}$", r"[a-z]{3,100}\.com", "((a|b){10}){10}c", "[^/]{90}x"],
)
def test_large_but_bounded_automata_are_accepted_and_agree_with_python_re(pattern: str) -> None:
    compiled = compile_regex(pattern)
    reference = re.compile(pattern, re.DOTALL)
    rng = random.Random(pattern)
    texts = ["".join(rng.choices("aab!-/.c12", k=rng.randint(0, 300))) for _ in range(200)]
    texts += ["a" * 200, "a" * 199, "x" + "a" * 9 + "!", "abc.com", "1" * 100, "1" * 101]
    for text in texts:
        assert compiled.search(text) == bool(reference.search(text)), (pattern, text)
