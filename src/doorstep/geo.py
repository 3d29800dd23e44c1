"""Where an IP address is, without a network call (docs/tracking.md).

Countries come from the database that ships with the `iptocc` package; a MaxMind-format city
database (`DOORSTEP_GEOIP_CITY_DB`) adds cities when the operator provides one.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import iptocc
import maxminddb

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Location:
    country: str | None = None
    city: str | None = None


NOWHERE = Location()


class Locator:
    def __init__(self, city_db: Path | None = None) -> None:
        self._reader: Any = None
        if city_db is not None:
            # Opened once; a missing or broken file must fail at start, not per visit.
            self._reader = maxminddb.open_database(str(city_db))
        self.locate = lru_cache(maxsize=8192)(self._locate)

    def _locate(self, ip: str | None) -> Location:
        address = _public_address(ip)
        if address is None:
            return NOWHERE
        country = city = None
        if self._reader is not None:
            try:
                record = self._reader.get(address)
            except ValueError:
                record = None
            if isinstance(record, dict):
                country = (record.get("country") or {}).get("iso_code")
                city = ((record.get("city") or {}).get("names") or {}).get("en")
        if country is None:
            try:
                country = iptocc.country_code(address)
            except Exception:
                country = None
        return Location(_code(country), city[:100] if isinstance(city, str) else None)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


def _public_address(ip: str | None) -> str | None:
    if not ip or len(ip) > 64:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address) if address.is_global else None


def _code(country: object) -> str | None:
    if isinstance(country, str) and len(country) == 2 and country.isalpha():
        return country.upper()
    return None
