"""Page-view ingest rate over visitor sockets, and contact-card load time with a long history.

    .venv/bin/python bench/tracking.py [--visitors 400] [--rate 9] [--seconds 15]
                                       [--events 10000] [--cards 200] [--json out.json]

Starts `doorstep serve` on a fresh SQLite data directory, opens `--visitors` widget sockets
from a separate client process, and has each send `page.view` frames at `--rate` per second
(below the per-socket limit of 10/s), counting page views acknowledged per second (each is
acknowledged only after its commit), and the server's CPU time per acknowledged page view over
the same window (whole process, and its event-loop thread). Beside it, in the same run, the
baseline: raw inserts of the same rows into the same kind of database, 100 per transaction,
through sqlite3.
Then it adds `--events` tracked events to one contact and times `GET /api/v1/contacts/{id}`.
Figures and how to read them: docs/benchmarks.md ("Tracking").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from _servers import base_env, run_cli, start_doorstep
from websockets.asyncio.client import connect

PASSWORD = "bench password 123"
EMAIL = "op@example.com"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _visitor(
    base: str,
    rate: float,
    deadline: list[float],
    acks: list[float],
    latencies: list[float],
    started: asyncio.Event,
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        token = (await http.post("/widget/v1/session", json={"site": "bench"})).json()["token"]
    ws_url = base.replace("http://", "ws://") + f"/widget/v1/ws?site=bench&token={token}"
    async with connect(ws_url, max_queue=None, compression=None) as ws:
        await ws.recv()  # ready
        await started.wait()
        interval = 1 / rate
        next_send = time.monotonic()
        n = 0
        while time.monotonic() < deadline[0]:
            n += 1
            sent = time.monotonic()
            await ws.send(
                json.dumps(
                    {
                        "type": "page.view",
                        "client_id": uuid.uuid4().hex,
                        "url": f"https://shop.example/products/{n}?utm_source=bench",
                        "title": f"Product {n}",
                        "timezone": "Asia/Tokyo",
                        "language": "ja",
                        "screen": {"w": 390, "h": 844},
                    }
                )
            )
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "page.ack":
                    break
                if frame["type"] == "error":
                    raise RuntimeError(frame)
            now = time.monotonic()
            acks.append(now)
            latencies.append((now - sent) * 1000)
            next_send += interval
            await asyncio.sleep(max(0.0, next_send - time.monotonic()))


def _server_cpu(pid: int) -> tuple[float, float]:
    """(whole process, main thread) CPU seconds of the server so far."""
    proc = psutil.Process(pid)
    times = proc.cpu_times()
    main = next((t for t in proc.threads() if t.id == pid), None)
    return times.user + times.system, (main.user_time + main.system_time) if main else 0.0


async def _measure_cpu(pid: int, start: float, seconds: float, out: dict[str, float]) -> None:
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    begin = _server_cpu(pid)
    await asyncio.sleep(seconds)
    end = _server_cpu(pid)
    out["window_cpu_s"], out["window_main_thread_cpu_s"] = end[0] - begin[0], end[1] - begin[1]


async def _drive(
    base: str, visitors: int, rate: float, seconds: float, server_pid: int
) -> dict[str, float]:
    acks: list[float] = []
    latencies: list[float] = []
    started = asyncio.Event()
    deadline = [float("inf")]  # shared with every visitor task; set once sending starts
    tasks = []
    for batch in range(0, visitors, 50):
        tasks += [
            asyncio.create_task(_visitor(base, rate, deadline, acks, latencies, started))
            for _ in range(min(50, visitors - batch))
        ]
        await asyncio.sleep(0.3)
    await asyncio.sleep(1)
    warmup = 3.0
    begin = time.monotonic()
    deadline[0] = begin + warmup + seconds
    cpu: dict[str, float] = {}
    meter = asyncio.create_task(_measure_cpu(server_pid, begin + warmup, seconds, cpu))
    started.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await meter
    window = [t for t in acks if begin + warmup <= t < begin + warmup + seconds]
    measured = [
        lat
        for t, lat in zip(acks, latencies, strict=True)
        if begin + warmup <= t < begin + warmup + seconds
    ]
    return {
        "page_views_per_s": len(window) / seconds,
        "offered_per_s": visitors * rate,
        "ack_p50_ms": percentile(measured, 50),
        "ack_p99_ms": percentile(measured, 99),
        # Server CPU over the measured window, per page view acknowledged in it.
        "server_cpu_ms_per_page_view": cpu["window_cpu_s"] * 1000 / max(1, len(window)),
        "server_main_thread_ms_per_page_view": (
            cpu["window_main_thread_cpu_s"] * 1000 / max(1, len(window))
        ),
        "server_window_cpu_percent": cpu["window_cpu_s"] * 100 / seconds,
    }


def _client(
    base: str,
    visitors: int,
    rate: float,
    seconds: float,
    server_pid: int,
    out: multiprocessing.Queue,
) -> None:
    out.put(asyncio.run(_drive(base, visitors, rate, seconds, server_pid)))


def raw_insert_rate(path: Path, rows: int = 20000) -> float:
    """Baseline: the same rows, 100 per transaction, straight into SQLite (WAL, FULL)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE pv (id INTEGER PRIMARY KEY, visit_id INT, client_id TEXT, url TEXT,"
        " path TEXT, title TEXT, started_at TEXT, UNIQUE(visit_id, client_id))"
    )
    now = datetime.now(UTC).isoformat()
    begin = time.perf_counter()
    for start in range(0, rows, 100):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO pv (visit_id, client_id, url, path, title, started_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (1, uuid.uuid4().hex, f"https://shop.example/p/{i}", f"/p/{i}", "Product", now)
                for i in range(start, start + 100)
            ],
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - begin
    db.close()
    return rows / elapsed


def card_times(server, data_dir: Path, events: int, cards: int) -> dict[str, float]:
    token = run_cli(["create-token", "--email", EMAIL], _env(server)).strip()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
        session = http.post("/widget/v1/session", json={"site": "bench"}).json()
        contacts = http.get("/api/v1/contacts", params={"limit": 1}).json()["data"]
        contact_id = contacts[0]["id"]
        db = sqlite3.connect(data_dir / "doorstep.db", isolation_level=None, timeout=30)
        site_id, visitor_id = db.execute(
            "SELECT site_id, id FROM visitors WHERE contact_id = ? LIMIT 1", (contact_id,)
        ).fetchone()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO visitor_events (site_id, contact_id, visitor_id, name, properties,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    site_id,
                    contact_id,
                    visitor_id,
                    "added_to_cart",
                    json.dumps({"value": i}),
                    datetime.fromtimestamp(1.7e9 + i, UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                )
                for i in range(events)
            ],
        )
        db.execute("COMMIT")
        db.close()
        del session
        timings = []
        for _ in range(cards):
            begin = time.perf_counter()
            response = http.get(f"/api/v1/contacts/{contact_id}")
            timings.append((time.perf_counter() - begin) * 1000)
            response.raise_for_status()
    return {
        "card_p50_ms": percentile(timings, 50),
        "card_p95_ms": percentile(timings, 95),
        "events_on_contact": events,
    }


_ENV: dict[int, dict[str, str]] = {}


def _env(server) -> dict[str, str]:
    return _ENV[id(server)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=400)
    parser.add_argument("--rate", type=float, default=9.0, help="page views per socket per s")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        baseline = raw_insert_rate(Path(tmp) / "raw.db")
        server = start_doorstep(data_dir, None, "warning", email=EMAIL, password=PASSWORD)
        _ENV[id(server)] = base_env(data_dir, None, "warning")
        try:
            out: multiprocessing.Queue = multiprocessing.Queue()
            client = multiprocessing.Process(
                target=_client,
                args=(
                    server.base_url,
                    args.visitors,
                    args.rate,
                    args.seconds,
                    server.proc.pid,
                    out,
                ),
            )
            cpu_before = server.cpu_seconds()
            client.start()
            ingest = out.get(timeout=args.seconds + 300)
            client.join(30)
            ingest["server_cpu_s"] = server.cpu_seconds() - cpu_before
            card = card_times(server, data_dir, args.events, args.cards)
        finally:
            server.stop()
    result = {**ingest, **card, "baseline_raw_inserts_per_s": baseline}
    print(
        f"{'page views acknowledged per second':<44}{ingest['page_views_per_s']:>10.0f}"
        f"   (offered {ingest['offered_per_s']:.0f}; target >= 3000)"
    )
    print(
        f"{'page.ack latency p50 / p99 (ms)':<44}{ingest['ack_p50_ms']:>10.1f} / "
        f"{ingest['ack_p99_ms']:.1f}"
    )
    print(
        f"{'server CPU per page view (ms), main thread':<44}"
        f"{ingest['server_cpu_ms_per_page_view']:>10.3f} / "
        f"{ingest['server_main_thread_ms_per_page_view']:.3f}"
        f"   (server at {ingest['server_window_cpu_percent']:.0f}% of a core)"
    )
    print(
        f"{'baseline: raw SQLite inserts per second':<44}{baseline:>10.0f}"
        "   (100 rows per transaction, WAL, synchronous=FULL)"
    )
    print(
        f"{'contact card p50 / p95 (ms)':<44}{card['card_p50_ms']:>10.1f} / "
        f"{card['card_p95_ms']:.1f}   ({args.events} events; target p95 < 100)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
