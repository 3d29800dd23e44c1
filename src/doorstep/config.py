"""Settings from DOORSTEP_* environment variables; every one is listed in docs/configuration.md."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from doorstep.domain.rate_limits import AbuseLimits, parse_count, parse_rate
from doorstep.errors import InvalidInput
from doorstep.private_files import (
    make_private_dir,
    warn_if_readable_by_others,
    write_private_text,
)

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = ""
    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    sqlite_synchronous: str = "FULL"
    secure_cookies: bool | None = None
    log_level: str = "info"
    # Argon2 cost: tests lower it; production keeps argon2-cffi's recommended profile.
    password_time_cost: int = 3
    password_memory_cost: int = 65536
    # Passwords hashed at once, each on a thread of its own: half the cores, so a flood of
    # sign-ins leaves the event loop a core (services/passwords.py).
    password_concurrency: int = field(default_factory=lambda: default_password_concurrency())
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    geoip_city_db: Path | None = None
    abuse_limits: AbuseLimits = field(default_factory=AbuseLimits)
    # Seconds a segment count, preview or member list may take in all (docs/security.md,
    # "Expensive queries").
    segment_query_seconds: float = 2.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.startswith("https://")


def _flag(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(f"expected true or false, got {raw!r}")


def default_password_concurrency() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


def _password_concurrency(raw: str | None) -> int:
    if not raw:
        return default_password_concurrency()
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 64:
        raise InvalidInput(f"DOORSTEP_PASSWORD_CONCURRENCY must be 1 to 64, got {raw!r}")
    return int(raw)


# Abuse limits of the public doors (docs/security.md, "Abuse limits"): field -> variable.
ABUSE_LIMIT_VARIABLES = {
    "sessions": "DOORSTEP_LIMIT_SESSIONS",
    "conversations": "DOORSTEP_LIMIT_CONVERSATIONS",
    "messages": "DOORSTEP_LIMIT_MESSAGES",
    "address_messages": "DOORSTEP_LIMIT_ADDRESS_MESSAGES",
    "tracking": "DOORSTEP_LIMIT_TRACKING",
    "address_tracking": "DOORSTEP_LIMIT_ADDRESS_TRACKING",
    "sockets": "DOORSTEP_LIMIT_SOCKETS",
}


def _abuse_limits(get: Callable[[str], str | None]) -> AbuseLimits:
    limits = AbuseLimits()
    for name, variable in ABUSE_LIMIT_VARIABLES.items():
        raw = get(variable)
        if not raw:
            continue
        try:
            value = parse_count(raw) if name == "sockets" else parse_rate(raw)
        except ValueError as exc:
            raise InvalidInput(f"{variable}: {exc}") from None
        limits = replace(limits, **{name: value})
    return limits


def _seconds(raw: str | None, variable: str, default: float) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.01 <= value <= 600:  # also refuses nan
        raise InvalidInput(f"{variable} must be a number of seconds from 0.01 to 600, got {raw!r}")
    return value


def _secret_from(data_dir: Path) -> str:
    """A key made once and kept in the data directory, so tokens survive restarts; the
    directory and the file are private (docs/security.md, "Data at rest")."""
    path = data_dir / "secret_key"
    if path.exists():
        warn_if_readable_by_others(path)
        return path.read_text().strip()
    make_private_dir(data_dir)
    key = secrets.token_urlsafe(48)
    write_private_text(path, key)
    return key


def load_settings(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    env = dict(os.environ if env is None else env)
    get = env.get
    data_dir = Path(get("DOORSTEP_DATA_DIR") or "data").expanduser()
    port = int(overrides.pop("port", None) or get("DOORSTEP_PORT") or 8000)  # type: ignore[arg-type]
    host = str(overrides.pop("host", None) or get("DOORSTEP_HOST") or "127.0.0.1")
    synchronous = (get("DOORSTEP_SQLITE_SYNCHRONOUS") or "FULL").upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise InvalidInput(f"DOORSTEP_SQLITE_SYNCHRONOUS must be one of {SYNCHRONOUS_MODES}")
    database_url = get("DOORSTEP_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'doorstep.db'}"
    database_url = normalise_database_url(database_url)
    proxies = tuple(
        p.strip() for p in (get("DOORSTEP_TRUSTED_PROXIES") or "").split(",") if p.strip()
    )
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise InvalidInput(
                f"DOORSTEP_TRUSTED_PROXIES: {proxy!r} is not an address or network"
            ) from None
    city_db = get("DOORSTEP_GEOIP_CITY_DB") or None
    if city_db and not Path(city_db).is_file():
        raise InvalidInput(f"DOORSTEP_GEOIP_CITY_DB: no file at {city_db}")
    public_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    origins = tuple(
        o.strip() for o in (get("DOORSTEP_ALLOWED_ORIGINS") or "").split(",") if o.strip()
    )
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=get("DOORSTEP_SECRET_KEY") or "",
        public_url=(get("DOORSTEP_PUBLIC_URL") or f"http://{public_host}:{port}").rstrip("/"),
        host=host,
        port=port,
        sqlite_synchronous=synchronous,
        secure_cookies=_flag(get("DOORSTEP_SECURE_COOKIES")),
        log_level=(get("DOORSTEP_LOG_LEVEL") or "info").lower(),
        allowed_origins=origins,
        trusted_proxies=proxies,
        geoip_city_db=Path(city_db) if city_db else None,
        abuse_limits=_abuse_limits(get),
        password_concurrency=_password_concurrency(get("DOORSTEP_PASSWORD_CONCURRENCY")),
        segment_query_seconds=_seconds(
            get("DOORSTEP_SEGMENT_QUERY_SECONDS"), "DOORSTEP_SEGMENT_QUERY_SECONDS", 2.0
        ),
    )
    settings = replace(settings, **overrides)  # type: ignore[arg-type]
    if not settings.secret_key:
        settings = replace(settings, secret_key=_secret_from(settings.data_dir))
    return settings


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs people paste and pick the async driver Doorstep uses."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
        return url
    raise InvalidInput(
        "DOORSTEP_DATABASE_URL must be a postgresql:// or sqlite:/// URL, got "
        + url.split("://")[0]
    )
