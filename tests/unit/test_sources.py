from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.sessions import starts_new_session
from doorstep.domain.sources import DIRECT, Source, classify


@pytest.mark.parametrize(
    ("landing", "referrer", "channel", "source"),
    [
        (
            "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=bf",
            None,
            "email",
            "newsletter",
        ),
        (
            "https://shop.example/?utm_source=google&utm_medium=cpc",
            "https://www.google.com/",
            "paid",
            "google",
        ),
        ("https://shop.example/?gclid=abc", "https://www.google.com/", "paid", "google"),
        (
            "https://shop.example/",
            "https://www.google.co.jp/search?q=x",
            "organic_search",
            "google",
        ),
        ("https://shop.example/", "https://yandex.ru/search/?text=x", "organic_search", "yandex"),
        ("https://shop.example/", "https://t.co/abc", "social", "twitter"),
        ("https://shop.example/", "https://m.facebook.com/", "social", "facebook"),
        (
            "https://shop.example/",
            "https://blog.partner.example/post",
            "referral",
            "blog.partner.example",
        ),
        ("https://shop.example/", None, "direct", None),
        ("https://shop.example/", "https://shop.example/other", "direct", None),
        ("https://shop.example/?UTM_SOURCE=Fb&utm_medium=social", None, "social", "Fb"),
    ],
)
def test_classify_channels(landing, referrer, channel, source) -> None:
    found = classify(landing, referrer, own_host="shop.example")
    assert (found.channel, found.source) == (channel, source)


def test_campaign_fields_are_kept() -> None:
    found = classify(
        "https://s.example/p?utm_source=a&utm_medium=b&utm_campaign=c&utm_term=d&utm_content=e",
        None,
    )
    assert found.key() == ("a", "b", "c", "d", "e")


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=300)))
def test_garbage_urls_never_raise(landing: str, referrer: str | None) -> None:
    found = classify(landing, referrer)
    assert isinstance(found, Source)
    assert all(len(v) <= 300 for v in found.as_dict().values() if isinstance(v, str))


T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
CAMPAIGN = classify("https://s.example/?utm_source=a&utm_campaign=spring", None)
OTHER_CAMPAIGN = classify("https://s.example/?utm_source=a&utm_campaign=summer", None)


def test_a_first_visit_starts_a_session() -> None:
    assert starts_new_session(None, T0, None, DIRECT)


@given(st.integers(min_value=0, max_value=24 * 3600))
def test_inactivity_of_30_minutes_splits_exactly_at_the_boundary(seconds: int) -> None:
    later = T0 + timedelta(seconds=seconds)
    assert starts_new_session(T0, later, DIRECT, DIRECT) == (seconds >= 1800)


def test_a_new_campaign_splits_a_live_session_but_internal_hops_do_not() -> None:
    soon = T0 + timedelta(minutes=1)
    assert starts_new_session(T0, soon, CAMPAIGN, OTHER_CAMPAIGN)
    assert not starts_new_session(T0, soon, CAMPAIGN, CAMPAIGN)
    assert not starts_new_session(T0, soon, CAMPAIGN, DIRECT)
    referral = classify("https://s.example/", "https://blog.example/")
    assert not starts_new_session(T0, soon, DIRECT, referral)
