"""Email addresses left in the chat: checked offline, masked, confirmed in six languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.email_address import (
    MAX_EMAIL_CHARS,
    confirmation_text,
    mask_email,
    normalize_email,
)
from doorstep.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("john@example.com", "john@example.com"),
        ("  John.Doe@Example.COM \n", "John.Doe@example.com"),
        ("x+tag@sub.example.co.uk", "x+tag@sub.example.co.uk"),
        ("anna@münchen.de", "anna@münchen.de"),
        ("user@xn--mnchen-3ya.de", "user@münchen.de"),
    ],
)
def test_good_addresses_are_normalised(text: str, expected: str) -> None:
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, "must be text"),
        (42, "must be text"),
        (["a@example.com"], "must be text"),
        ("", "please enter"),
        ("   ", "please enter"),
        ("john", "not a valid email address"),
        ("john@", "not a valid email address"),
        ("@example.com", "not a valid email address"),
        ("john@localhost", "not a valid email address"),
        ("a..b@example.com", "not a valid email address"),
        ("john doe@example.com", "not a valid email address"),
        ("a" * 250 + "@example.com", f"at most {MAX_EMAIL_CHARS}"),
    ],
)
def test_bad_addresses_are_refused_with_a_clear_message(text: object, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_email(text)
    assert refused.value.code == "invalid_email"
    assert words in refused.value.message


def test_checking_never_looks_up_the_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert normalize_email("someone@no-such-domain-for-doorstep.example") == (
        "someone@no-such-domain-for-doorstep.example"
    )


@given(st.text(max_size=300))
def test_normalising_either_returns_a_short_address_or_refuses(text: str) -> None:
    try:
        address = normalize_email(text)
    except InvalidInput as refused:
        assert refused.code == "invalid_email"
    else:
        assert "@" in address
        assert len(address) <= MAX_EMAIL_CHARS
        assert normalize_email(address) == address  # normal form is stable


@pytest.mark.parametrize(
    ("email", "hint"),
    [
        ("john@example.com", "j***@example.com"),
        ("j@x.io", "j***@x.io"),
        ("Ünal@example.de", "Ü***@example.de"),
        ("a@b@example.com", "a***@example.com"),
        ("not-an-address", "n***"),
        ("", "***"),
    ],
)
def test_addresses_are_masked_to_their_first_character_and_domain(email: str, hint: str) -> None:
    assert mask_email(email) == hint


@given(st.emails())
def test_a_mask_never_shows_more_than_one_character_of_the_local_part(email: str) -> None:
    local, _, domain = email.rpartition("@")
    assert mask_email(email) == f"{local[0]}***@{domain}"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Thanks! We'll send the answer to j***@example.com."),
        ("ja", "ありがとうございます。j***@example.com に回答をお送りします。"),
        ("ru-RU", "Спасибо! Мы отправим ответ на j***@example.com."),
        ("de", "Danke! Wir schicken Ihnen die Antwort an j***@example.com."),
        ("fr-CA", "Merci\u202f! Nous vous enverrons la réponse à j***@example.com."),
        ("es", "¡Gracias! Le enviaremos la respuesta a j***@example.com."),
        ("pt-BR", "Thanks! We'll send the answer to j***@example.com."),
        (None, "Thanks! We'll send the answer to j***@example.com."),
        ("", "Thanks! We'll send the answer to j***@example.com."),
    ],
)
def test_the_confirmation_speaks_the_visitors_language(language: str | None, text: str) -> None:
    assert confirmation_text("j***@example.com", language) == text


def test_a_hint_with_braces_is_shown_as_is() -> None:
    assert confirmation_text("{x}***@example.com", "en").endswith("{x}***@example.com.")
