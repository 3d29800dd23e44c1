"""Where a visit came from: UTM parameters, click ids and the referrer (docs/tracking.md).

Pure functions of a landing URL and a referrer. The channel follows the conventions analytics
tools use, so numbers mean the same thing here as in the site owner's other reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
MAX_FIELD = 200
SEARCH_ENGINES = {
    "google": "google",
    "bing": "bing",
    "yahoo": "yahoo",
    "duckduckgo": "duckduckgo",
    "yandex": "yandex",
    "baidu": "baidu",
    "naver": "naver",
    "ecosia": "ecosia",
    "search.brave": "brave",
    "qwant": "qwant",
    "startpage": "startpage",
}
SOCIAL_NETWORKS = {
    "facebook": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "t.co": "twitter",
    "twitter": "twitter",
    "x.com": "twitter",
    "linkedin": "linkedin",
    "lnkd.in": "linkedin",
    "reddit": "reddit",
    "youtube": "youtube",
    "pinterest": "pinterest",
    "tiktok": "tiktok",
    "vk.com": "vk",
    "ok.ru": "ok",
    "threads.net": "threads",
    "news.ycombinator": "hackernews",
    "mastodon": "mastodon",
    "telegram": "telegram",
    "t.me": "telegram",
    "line.me": "line",
}
CLICK_IDS = {
    "gclid": ("google", "cpc"),
    "msclkid": ("bing", "cpc"),
    "fbclid": ("facebook", "social"),
    "yclid": ("yandex", "cpc"),
    "ttclid": ("tiktok", "cpc"),
}
PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsearch", "cpm", "cpv", "display", "banner"}


@dataclass(frozen=True, slots=True)
class Source:
    channel: str  # direct, organic_search, paid, social, email, referral, campaign
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None
    referrer_host: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Also the shape of a visit row's source columns, which carry the same names."""
        return asdict(self)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Source:
        return cls(*(row[name] for name in SOURCE_FIELDS))

    @property
    def is_campaign(self) -> bool:
        """Tagged traffic: a new campaign value starts a new session."""
        return self.campaign is not None or (self.medium is not None and self.channel != "referral")

    def key(self) -> tuple[str | None, ...]:
        return (self.source, self.medium, self.campaign, self.term, self.content)


SOURCE_FIELDS = tuple(f.name for f in fields(Source))
DIRECT = Source("direct")


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def _match(host: str, table: dict[str, str]) -> str | None:
    labels = host.split(".")
    for needle, name in table.items():
        if "." in needle:
            if host == needle or host.endswith("." + needle) or host.startswith(needle + "."):
                return name
        elif needle in labels[:-1] or (len(labels) == 1 and labels[0] == needle):
            return name
    return None


def _query(url: str | None) -> dict[str, str]:
    if not url:
        return {}
    try:
        pairs = parse_qsl(urlsplit(url).query, keep_blank_values=False)
    except ValueError:
        return {}
    return {k.lower(): v.strip()[:MAX_FIELD] for k, v in pairs if v.strip()}


@lru_cache(maxsize=8192)  # a site's visitors land on few URLs; Source is immutable
def classify(landing_url: str | None, referrer: str | None, own_host: str | None = None) -> Source:
    """The source of a visit that landed on `landing_url` coming from `referrer`."""
    query = _query(landing_url)
    utm = {f: query.get(f"utm_{f}") for f in UTM_FIELDS}
    ref_host = _host(referrer)
    if own_host and ref_host and (ref_host == own_host or ref_host.endswith("." + own_host)):
        ref_host = None  # a hop inside the site is not a source
    if any(utm.values()):
        medium = (utm["medium"] or "").lower() or None
        channel = "campaign"
        if medium in PAID_MEDIUMS:
            channel = "paid"
        elif medium == "email":
            channel = "email"
        elif medium in {"social", "social-network", "sm"}:
            channel = "social"
        elif medium == "organic":
            channel = "organic_search"
        return Source(
            channel, utm["source"], medium, utm["campaign"], utm["term"], utm["content"], ref_host
        )
    for param, (source, medium) in CLICK_IDS.items():
        if param in query:
            channel = "paid" if medium == "cpc" else "social"
            return Source(channel, source, medium, referrer_host=ref_host)
    if ref_host is None:
        return DIRECT
    if engine := _match(ref_host, SEARCH_ENGINES):
        return Source("organic_search", engine, "organic", referrer_host=ref_host)
    if network := _match(ref_host, SOCIAL_NETWORKS):
        return Source("social", network, "social", referrer_host=ref_host)
    if ref_host.startswith(("mail.", "outlook.", "webmail.")):
        return Source("email", ref_host, "email", referrer_host=ref_host)
    return Source("referral", ref_host, "referral", referrer_host=ref_host)
