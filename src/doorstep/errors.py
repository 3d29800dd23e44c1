"""Domain errors with stable codes; each door maps them to its own wire format (docs/api.md)."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the caller can understand; `code` is part of the public contract."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class TooManyAttempts(DomainError):
    """Refused for now: try again after `retry_after` seconds (sent as `Retry-After`)."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
