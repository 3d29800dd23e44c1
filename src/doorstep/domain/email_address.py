"""Email addresses that visitors leave in the chat (docs/autoreplies.md).

An address is checked for syntax only: `email-validator` without DNS look-ups, so a save never
waits on the network and a test never needs it. Once taken, the address is shown back to the
visitor masked ("j***@example.com"), because the chat may be on a shared screen and the line
is also seen by whoever reads the conversation later.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from doorstep.errors import InvalidInput

MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a forward path, less the angle brackets

_CONFIRMATIONS = {
    "en": "Thanks! We'll send the answer to {hint}.",
    "ja": "ありがとうございます。{hint} に回答をお送りします。",
    "ru": "Спасибо! Мы отправим ответ на {hint}.",
    "de": "Danke! Wir schicken Ihnen die Antwort an {hint}.",
    "fr": "Merci\u202f! Nous vous enverrons la réponse à {hint}.",  # narrow space before "!"
    "es": "¡Gracias! Le enviaremos la respuesta a {hint}.",
}


def normalize_email(text: object) -> str:
    """The address in normal form ("John@Example.COM" -> "John@example.com"), else
    `InvalidInput` with code `invalid_email`."""
    if not isinstance(text, str):
        raise InvalidInput("an email address must be text", code="invalid_email")
    address = text.strip()
    if not address:
        raise InvalidInput("please enter an email address", code="invalid_email")
    if len(address) > MAX_EMAIL_CHARS:
        raise InvalidInput(
            f"an email address has at most {MAX_EMAIL_CHARS} characters", code="invalid_email"
        )
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(f"not a valid email address: {error}", code="invalid_email") from None
    return checked.normalized


def mask_email(email: str) -> str:
    """ "john@example.com" -> "j***@example.com": the first character and the domain."""
    local, at, domain = email.rpartition("@")
    if not at:  # not an address: show as little as possible
        local, domain = email, ""
    return f"{local[:1]}***{at}{domain}"


def confirmation_text(hint: str, language: str | None) -> str:
    """The chat line confirming where the answer goes, in the visitor's language."""
    primary = (language or "").replace("_", "-").split("-")[0].lower()
    return _CONFIRMATIONS.get(primary, _CONFIRMATIONS["en"]).format(hint=hint)
