from hypothesis import given
from hypothesis import strategies as st

from doorstep.signing import hash_token, sign, unsign


@given(st.text(min_size=1, max_size=100).filter(lambda v: "." not in v))
def test_signed_values_round_trip_and_tampering_is_caught(value: str) -> None:
    token = sign("secret", "visitor", value)
    assert unsign("secret", "visitor", token) == value
    assert unsign("other secret", "visitor", token) is None
    assert unsign("secret", "csrf", token) is None
    assert unsign("secret", "visitor", token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_garbage_and_oversized_tokens_are_rejected() -> None:
    for garbage in ("", ".", "abc", "a.b.c", "x" * 10_000):
        assert unsign("secret", "visitor", garbage) is None


def test_token_hashes_are_stable_and_distinct() -> None:
    assert hash_token("a") == hash_token("a") != hash_token("b")
