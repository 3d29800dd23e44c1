"""Visitors' message acknowledgements while operators preview expensive segments.

    .venv/bin/python bench/segment_previews.py [--database both] [--runs 3] [--json out.json]

For each database it starts `doorstep serve` on a loopback port (a fresh SQLite data
directory, or a fresh PostgreSQL database), records `--urls` page views of long URLs (one
contact each, through widget sockets as a browser would), then opens `--visitors` widget
sockets that send chat messages at `--rate` per second, and measures, on the client's clock,
each message's `message.send` -> `message.ack` time:

1. idle: messages only, for `--seconds`;
2. loaded: the same messages while `--previews` operators each preview a segment with a
   regex over `visited_url` (`--pattern`), one preview after another, for `--seconds`.

`--runs` repeats both phases on the same server; the figures of each run are printed, then
the worst and best loaded/idle p99 ratio (target: <= 2). Before the runs, the issue's probe
pattern `a.{99}!` is previewed once to show how it is answered. Every preview request has a
client-side timeout (`--preview-timeout`), so the benchmark ends even against a server with
no time limit of its own. Figures and how to read them: docs/benchmarks.md ("Segment
previews").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _floor
from _servers import Server, base_env, run_cli, start_doorstep

EMAIL = "op@example.com"
PASSWORD = "bench-password-123"
PROBE = "a.{99}!"
TARGET = 2.0
# The public doors' abuse limits would refuse one address opening hundreds of visitors.
NO_LIMITS = {
    f"DOORSTEP_LIMIT_{name}": "off"
    for name in (
        "SESSIONS",
        "CONVERSATIONS",
        "MESSAGES",
        "ADDRESS_MESSAGES",
        "TRACKING",
        "ADDRESS_TRACKING",
        "SOCKETS",
    )
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--urls", type=int, default=500, help="contacts with a long URL (500)")
    parser.add_argument("--url-length", type=int, default=1990, help="characters (1990)")
    parser.add_argument("--visitors", type=int, default=20, help="sockets sending (20)")
    parser.add_argument("--rate", type=float, default=25.0, help="messages per second (25)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (10)")
    parser.add_argument("--previews", type=int, default=5, help="previews at once (5)")
    parser.add_argument(
        "--pattern", default="a.{8}!", help="regex of the previews (a.{8}!: accepted, costly)"
    )
    parser.add_argument("--runs", type=int, default=3, help="idle + loaded phases (3)")
    parser.add_argument("--preview-timeout", type=float, default=30.0, help="client side (30)")
    parser.add_argument("--settings", nargs="*", default=[], help="DOORSTEP_X=value for the server")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    return parser.parse_args(argv)


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5))) - 1]


def long_url(rng: random.Random, n: int, length: int) -> str:
    """A search URL full of "a": what makes `a.{k}!` track many alignments at once."""
    head = f"https://shop.example/search/{n}?q="
    return head + "".join(rng.choice("aab-") for _ in range(length - len(head)))


async def _socket(base: str, token: str) -> ClientConnection:
    ws = await connect(
        f"{base.replace('http', 'ws', 1)}/widget/v1/ws?site=bench&token={token}",
        compression=None,
        max_size=2**20,
        ping_interval=None,
    )
    while orjson.loads(await ws.recv()).get("type") != "ready":
        pass
    return ws


async def seed(http: httpx.AsyncClient, base: str, count: int, length: int) -> None:
    rng = random.Random(1)
    gate = asyncio.Semaphore(50)

    async def one(n: int) -> None:
        async with gate:
            token = (await http.post("/widget/v1/session", json={"site": "bench"})).json()["token"]
            ws = await _socket(base, token)
            try:
                frame = {"type": "page.view", "client_id": uuid.uuid4().hex, "title": "Search"}
                await ws.send(orjson.dumps({**frame, "url": long_url(rng, n, length)}).decode())
                while (reply := orjson.loads(await ws.recv()))["type"] != "page.ack":
                    if reply["type"] == "error":
                        raise RuntimeError(reply)
            finally:
                await ws.close()

    await asyncio.gather(*(one(n) for n in range(count)))


class Messages:
    """Paced visitor messages and the time from each send to its acknowledgement."""

    def __init__(self, sockets: list[ClientConnection]) -> None:
        self.sockets = sockets
        self.sent: dict[str, int] = {}
        self.acked: dict[str, int] = {}
        self.waiting: set[str] = set()
        self.all_acked = asyncio.Event()
        self.readers = [asyncio.create_task(self._read(ws)) for ws in sockets]

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            if '"message.ack"' in raw:
                cmid = orjson.loads(raw)["message"]["client_msg_id"]
                self.acked.setdefault(cmid, time.monotonic_ns())
                self.waiting.discard(cmid)
                if not self.waiting:
                    self.all_acked.set()

    async def phase(self, rate: float, seconds: float, tag: str) -> list[float]:
        """Send for `seconds`; the ack times in ms (a missing ack counts as the phase's
        length and more, so that it shows in the p99)."""
        ids, start = [], time.monotonic_ns()
        for i in range(int(rate * seconds)):
            delay = start + i * 1e9 / rate - time.monotonic_ns()
            if delay > 0:
                await asyncio.sleep(delay / 1e9)
            cmid = f"{tag}-{i}-{uuid.uuid4().hex[:8]}"
            self.sent[cmid] = time.monotonic_ns()
            self.waiting.add(cmid)
            self.all_acked.clear()
            ids.append(cmid)
            frame = {"type": "message.send", "client_msg_id": cmid, "text": f"Where is #{i}?"}
            await self.sockets[i % len(self.sockets)].send(orjson.dumps(frame).decode())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await self.all_acked.wait()
        self.waiting.clear()
        missing = (seconds + 30) * 1000
        return [(self.acked[c] - self.sent[c]) / 1e6 if c in self.acked else missing for c in ids]


async def preview_loop(
    api: httpx.AsyncClient, site_id: int, pattern: str, until: float, wait: float
) -> list[dict[str, Any]]:
    body = {"site_id": site_id, "filter": regex_filter(pattern)}
    done = []
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            response = await api.post("/segments/preview", json=body, timeout=wait)
            outcome = str(response.status_code)
            if response.status_code != 200:
                outcome += " " + response.json()["error"]["code"]
        except httpx.TimeoutException:
            outcome = "client timeout"
        done.append({"outcome": outcome, "seconds": time.monotonic() - started})
    return done


async def probe(api: httpx.AsyncClient, site_id: int, wait: float) -> dict[str, Any]:
    """The issue's pattern, previewed once: refused, or how long it takes."""
    body = {"site_id": site_id, "filter": regex_filter(PROBE)}
    started = time.monotonic()
    try:
        response = await api.post("/segments/preview", json=body, timeout=wait)
        answer = f"{response.status_code} {response.text}"
    except httpx.TimeoutException:
        answer = f"no answer within {wait:g} s (client timeout)"
    return {"answer": answer, "seconds": time.monotonic() - started}


def regex_filter(pattern: str) -> dict[str, Any]:
    return {"conditions": [{"field": "visited_url", "op": "regex", "value": pattern}]}


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99), "max": max(values)}


async def drive(server: Server, token: str, args: argparse.Namespace) -> dict[str, Any]:
    base = server.base_url
    out: dict[str, Any] = {"runs": []}
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as http,
        httpx.AsyncClient(base_url=f"{base}/api/v1", headers=headers) as api,
    ):
        site_id = (await api.get("/sites")).json()["data"][0]["id"]
        started = time.monotonic()
        await seed(http, base, args.urls, args.url_length)
        out["seed_seconds"] = time.monotonic() - started
        out["probe"] = await probe(api, site_id, args.preview_timeout)
        print(f"  probe {PROBE!r}: {out['probe']['answer'][:160]}", flush=True)
        tokens = [
            (await http.post("/widget/v1/session", json={"site": "bench"})).json()["token"]
            for _ in range(args.visitors)
        ]
        sockets = [await _socket(base, t) for t in tokens]
        messages = Messages(sockets)
        await messages.phase(args.rate, 2, "warm")
        for run in range(args.runs):
            idle = await messages.phase(args.rate, args.seconds, f"i{run}")
            cpu = server.cpu_seconds()
            until = time.monotonic() + args.seconds
            loops = [
                preview_loop(api, site_id, args.pattern, until, args.preview_timeout)
                for _ in range(args.previews)
            ]
            loaded, *previews = await asyncio.gather(
                messages.phase(args.rate, args.seconds, f"l{run}"), *loops
            )
            cpu = server.cpu_seconds() - cpu
            done = [p for loop in previews for p in loop]
            figures = {
                "idle_ms": summary(idle),
                "loaded_ms": summary(loaded),
                "p99_ratio": pct(loaded, 99) / pct(idle, 99),  # type: ignore[operator]
                "previews": len(done),
                "outcomes": dict(Counter(p["outcome"] for p in done)),
                "preview_s": summary([p["seconds"] for p in done]),
                "server_cpu_percent": 100 * cpu / args.seconds,
            }
            out["runs"].append(figures)
            print(
                f"  run {run + 1}: ack p50/p99 idle {figures['idle_ms']['p50']:.1f}/"
                f"{figures['idle_ms']['p99']:.1f} ms, with previews "
                f"{figures['loaded_ms']['p50']:.1f}/{figures['loaded_ms']['p99']:.1f} ms "
                f"(p99 x{figures['p99_ratio']:.2f}); {len(done)} previews "
                f"{figures['outcomes']}, p50 {figures['preview_s']['p50']:.2f} s; "
                f"server CPU {figures['server_cpu_percent']:.0f}%",
                flush=True,
            )
        for task in messages.readers:
            task.cancel()
        for ws in sockets:
            await ws.close()
    ratios = [r["p99_ratio"] for r in out["runs"]]
    out["worst_p99_ratio"], out["best_p99_ratio"] = max(ratios), min(ratios)
    out["ok"] = max(ratios) <= TARGET
    return out


def run_database(database: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data_dir = work / database
    data_dir.mkdir()
    url, name = None, None
    if database == "postgresql":
        name = _floor.create_pg_database(args.postgres)
        url = _floor.with_database(args.postgres, name)
    settings = {**NO_LIMITS, **dict(s.split("=", 1) for s in args.settings)}
    server = None
    try:
        server = start_doorstep(
            data_dir, url, args.log_level, email=EMAIL, password=PASSWORD, settings=settings
        )
        env = {**base_env(data_dir, url, args.log_level), **settings}
        token = run_cli(["create-token", "--email", EMAIL], env).strip().splitlines()[-1]
        return asyncio.run(drive(server, token, args))
    except Exception:
        if server is not None:
            print(f"server log, last lines:\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop()
        if name is not None:
            _floor.drop_pg_database(args.postgres, name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    result: dict[str, Any] = {"args": vars(args), "databases": {}}
    with tempfile.TemporaryDirectory(prefix="doorstep-previews-") as tmp:
        for database in databases:
            print(f"[{database}] {args.urls} URLs of {args.url_length} characters", flush=True)
            out = result["databases"][database] = run_database(database, args, Path(tmp))
            print(
                f"[{database}] loaded/idle ack p99: worst x{out['worst_p99_ratio']:.2f}, "
                f"best x{out['best_p99_ratio']:.2f} (target <= x{TARGET:g}): "
                + ("ok" if out["ok"] else "NOT MET"),
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
