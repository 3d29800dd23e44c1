"""The demo shop at /demo/, with the widget installed as a site owner would (docs/demo.md)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from doorstep.services import sites

PAGES = Path(__file__).parent.parent / "demo" / "pages"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
# The demo customer of cart.html. A site's backend signs its signed-in user's id the same way.
DEMO_USER_ID = "demo-42"
USER_HASH = "__DEMO_USER_HASH__"


def demo_page(public_url: str, site_key: str):
    async def endpoint(request: Request) -> Response:
        name = request.path_params.get("page") or "index.html"
        path = (PAGES / name).resolve()
        if path.parent != PAGES.resolve() or not path.is_file() or path.suffix not in TYPES:
            return Response("Not found", status_code=404)
        content = path.read_text(encoding="utf-8")
        origin = str(request.base_url).rstrip("/") or public_url
        content = content.replace("__DOORSTEP_ORIGIN__", origin).replace("__SITE_KEY__", site_key)
        if USER_HASH in content:
            signed = await sites.user_hash_for(request.state.ctx, site_key, DEMO_USER_ID)
            content = content.replace(USER_HASH, signed)
        return Response(content, media_type=TYPES[path.suffix])

    return endpoint
