import pytest
from starlette.requests import Request

from doorstep.web.client_ip import client_ip


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),  # no proxies trusted: header ignored
        ("203.0.113.9", "1.2.3.4", ("127.0.0.1",), "203.0.113.9"),  # peer is not a proxy
        ("127.0.0.1", "1.2.3.4", ("127.0.0.1",), "1.2.3.4"),
        ("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.7", ("10.0.0.0/8",), "1.2.3.4"),
        ("127.0.0.1", None, ("127.0.0.1",), "127.0.0.1"),
        ("127.0.0.1", "garbage", ("127.0.0.1",), "garbage"),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(peer, forwarded, trusted, expected):
    assert client_ip(request(peer, forwarded), trusted) == expected
