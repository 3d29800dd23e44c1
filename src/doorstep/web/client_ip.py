"""The visitor's IP: the socket's peer, or X-Forwarded-For from a trusted proxy only."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in trusted)


def _is_trusted(ip: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_ip(conn: HTTPConnection, trusted: tuple[str, ...]) -> str | None:
    peer = conn.client.host if conn.client else None
    networks = _networks(trusted)
    if not peer or not networks or not _is_trusted(peer, networks):
        return peer
    # Walk the chain from the nearest hop; the first address no trusted proxy vouches for is
    # the client. Anything a client wrote further left is its own claim and is ignored.
    hops = [h.strip() for h in conn.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops[-20:]):
        if not _is_trusted(hop, networks):
            return hop[:64]
    return hops[0][:64] if hops else peer
