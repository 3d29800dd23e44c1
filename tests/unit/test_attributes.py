import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain import attributes as a
from doorstep.errors import InvalidInput


def test_identify_splits_identity_from_custom_traits() -> None:
    identity, custom = a.split_traits({"email": "x@example.com", "name": "X", "plan": "pro"})
    assert identity == {"email": "x@example.com", "name": "X"}
    assert custom == {"plan": "pro"}


@pytest.mark.parametrize(
    "attributes",
    [
        {"bad name": 1},
        {"": 1},
        {"1starts_with_digit": 1},
        {"nested": {"a": 1}},
        {"list": [1]},
        {"long": "x" * 1001},
        {"nan": float("nan")},
        {"inf": float("inf")},
        {"minus_inf": float("-inf")},
        {"huge": 2**64},
        {f"k{i}": i for i in range(101)},
        "not an object",
    ],
)
def test_bad_attributes_are_refused(attributes: object) -> None:
    with pytest.raises(InvalidInput):
        a.check_attributes(attributes)


def test_events_are_bounded_to_8_kib() -> None:
    assert a.check_event("added_to_cart", {"value": 120}) == ("added_to_cart", {"value": 120})
    with pytest.raises(InvalidInput):
        a.check_event("big", {f"k{i}": "x" * 900 for i in range(10)})


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True),
        st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=50)),
        max_size=20,
    )
)
def test_valid_attributes_pass_unchanged(attributes: dict) -> None:
    assert a.check_attributes(attributes) == attributes
