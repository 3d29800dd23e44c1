"""Device, OS and browser from a User-Agent string (docs/tracking.md).

Parsing uses ua-parser's maintained rules (with its compiled accelerator); results are cached
because a site's visitors share a small set of User-Agents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ua_parser

MAX_USER_AGENT = 1000
_BOT_WORDS = re.compile(
    r"bot\b|crawl|spider|slurp|facebookexternalhit|preview|monitor|curl/|"
    r"wget/|python-requests|httpclient|headlesschrome.*lighthouse",
    re.I,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|(android(?!.*mobile))", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini", re.I)


@dataclass(frozen=True, slots=True)
class Device:
    device_type: str  # mobile, tablet, desktop, bot
    os: str | None
    browser: str | None

    @property
    def is_bot(self) -> bool:
        return self.device_type == "bot"


UNKNOWN = Device("desktop", None, None)


@lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str | None) -> Device:
    """Never raises: an empty or garbage User-Agent is an unknown desktop."""
    if not user_agent or not user_agent.strip():
        return UNKNOWN
    user_agent = user_agent[:MAX_USER_AGENT]
    try:
        result = ua_parser.parse(user_agent)
    except Exception:
        return UNKNOWN
    browser = result.user_agent.family if result.user_agent else None
    os_name = result.os.family if result.os else None
    device_family = result.device.family if result.device else ""
    if device_family == "Spider" or _BOT_WORDS.search(user_agent):
        kind = "bot"
    elif _TABLET.search(user_agent):
        kind = "tablet"
    elif _MOBILE.search(user_agent):
        kind = "mobile"
    else:
        kind = "desktop"
    return Device(kind, _clean(os_name), _clean(browser))


def _clean(name: str | None) -> str | None:
    if not name or name == "Other":
        return None
    return name[:64]
