"""HMAC-signed tokens and secret hashing; the only module that knows the secret key's uses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(secret: str, purpose: str, value: str) -> str:
    """Return `value.signature`; `purpose` keeps a token for one use from passing as another."""
    mac = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return f"{value}.{_b64(mac[:18])}"


def unsign(secret: str, purpose: str, token: str, *, max_length: int = 512) -> str | None:
    """The signed value, or None for anything forged, truncated or oversized."""
    if not token or len(token) > max_length or "." not in token:
        return None
    value, _, _sig = token.rpartition(".")
    expected = sign(secret, purpose, value)
    return value if hmac.compare_digest(expected.encode(), token.encode()) else None


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Tokens are stored hashed: a leaked database does not leak live sessions or API tokens."""
    return hashlib.sha256(token.encode()).hexdigest()
