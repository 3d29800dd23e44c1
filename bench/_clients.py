"""The benchmark's client side, run in its own process so its CPU is not the server's.

One process holds every socket: the visitor sockets that send, and the operator sockets that
receive, so send and receive times come from the same clock (time.monotonic_ns). The parent
(bench/sockets.py) steers it through a multiprocessing pipe:

    child -> ("ready_for_baseline", info)    operators + warm-up visitors connected
    parent -> "open"                         (parent has read the server's RSS)
    child -> ("idle", info)                  N visitor sockets open and idle
    parent -> "load"                         (parent has read the RSS again)
    (warm-up messages, not counted), then for each rate:
    child -> ("phase", rate);  parent -> "go"          (parent has read the server's CPU time)
    child -> ("phase_done", results)         latencies in nanoseconds, counts, client CPU time
    child -> ("done", {})
    child -> ("error", traceback)            at any point
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import resource
import signal
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import DATA_OPCODES, Frame
from websockets.protocol import Event

MAX_FRAME = 1024 * 1024


@dataclass
class ClientConfig:
    base_url: str  # http://127.0.0.1:PORT
    site: str
    email: str
    password: str
    visitors: int
    warm_visitors: int
    operators: int
    messages: int  # per rate
    warmup_messages: int
    rates: list[float]
    concurrency: int
    drain_timeout: float
    fanout: int  # operator sockets that receive each message: all of them, or 1 for the relay
    seed: int = 1


@dataclass
class Tracker:
    """Send, ack and delivery times of each message, keyed by client_msg_id."""

    fanout: int
    sent: dict[str, int] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    pending_ack: set[str] = field(default_factory=set)
    pending_all: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def sending(self, cmid: str, now: int) -> None:
        self.sent[cmid] = now
        self.pending_ack.add(cmid)
        self.pending_all.add(cmid)
        self.done.clear()

    def delivered(self, cmid: str, now: int) -> None:
        if cmid not in self.sent:
            return
        count = self.seen.get(cmid, 0) + 1
        self.seen[cmid] = count
        if count == 1:
            self.first[cmid] = now
        if count == self.fanout:
            self.last[cmid] = now
            self.pending_all.discard(cmid)
            self._check()

    def ack(self, cmid: str, now: int) -> None:
        if cmid in self.sent and cmid not in self.acked:
            self.acked[cmid] = now
            self.pending_ack.discard(cmid)
            self._check()

    def _check(self) -> None:
        if not self.pending_ack and not self.pending_all:
            self.done.set()

    def phase_results(self, ids: list[str]) -> dict[str, Any]:
        def since_sent(times: dict[str, int]) -> list[int]:
            return [times[c] - self.sent[c] for c in ids if c in times]

        delivered = [self.last[c] for c in ids if c in self.last]
        span = (max(delivered) - min(self.sent[c] for c in ids)) / 1e9 if delivered else 0
        return {
            "sent": len(ids),
            # Messages delivered to every operator socket per second, from the first send to
            # the last delivery: below the offered rate, the server could not keep up.
            "throughput": len(delivered) / span if span > 0 else None,
            "ack_ns": since_sent(self.acked),
            "first_ns": since_sent(self.first),
            "all_ns": since_sent(self.last),
        }


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def run_client(config: ClientConfig, pipe: Any) -> None:
    """Process entry point."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends us
    raise_fd_limit()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    try:
        runner(_main(config, pipe))
    except Exception:
        with contextlib.suppress(Exception):
            pipe.send(("error", traceback.format_exc()))


async def _wait_parent(pipe: Any, expected: str) -> None:
    loop = asyncio.get_running_loop()
    got = await loop.run_in_executor(None, pipe.recv)
    if got != expected:
        raise RuntimeError(f"parent said {got!r}, expected {expected!r}")


async def _main(config: ClientConfig, pipe: Any) -> None:
    rng = random.Random(config.seed)
    ws_base = "ws" + config.base_url.removeprefix("http")
    tracker = Tracker(config.fanout)
    tasks: list[asyncio.Task[None]] = []
    sockets: list[ClientConnection] = []
    try:
        async with httpx.AsyncClient(
            base_url=config.base_url,
            limits=httpx.Limits(max_connections=config.concurrency),
            timeout=60,
        ) as http:
            cookie = await _login(http, config)
            tokens = await _sessions(http, config, config.visitors + config.warm_visitors)

        op_headers = {"Cookie": f"doorstep_session={cookie}", "Origin": config.base_url}
        operators = await _open_many(
            [f"{ws_base}/console/ws"] * config.operators, op_headers, config.concurrency
        )
        sockets += [ws for ws, _ in operators]
        for ws, _ in operators:
            tasks.append(asyncio.create_task(_operator_reader(ws, tracker)))

        urls = [f"{ws_base}/widget/v1/ws?site={config.site}&token={token}" for token in tokens]
        warm = await _open_many(urls[: config.warm_visitors], None, config.concurrency)
        sockets += [ws for ws, _ in warm]
        for ws, _ in warm:
            tasks.append(asyncio.create_task(_visitor_reader(ws, tracker)))
        pipe.send(("ready_for_baseline", {"operators": len(operators), "warm": len(warm)}))
        await _wait_parent(pipe, "open")

        started = time.monotonic_ns()
        visitors = await _open_many(urls[config.warm_visitors :], None, config.concurrency)
        open_ns = time.monotonic_ns() - started
        sockets += [ws for ws, _ in visitors]
        for ws, _ in visitors:
            tasks.append(asyncio.create_task(_visitor_reader(ws, tracker)))
        pipe.send(
            (
                "idle",
                {
                    "visitors": len(visitors),
                    "open_seconds": open_ns / 1e9,
                    "connect_ns": [ns for _, ns in visitors],
                },
            )
        )
        await _wait_parent(pipe, "load")

        senders = [ws for ws, _ in visitors]
        # Warm-up: the same traffic at the first rate, not counted (statements compile,
        # pools fill, conversations start).
        await _send_paced(senders, tracker, config.rates[0], rng, config.warmup_messages, "w")
        await _drain(tracker, config.drain_timeout)
        for n, rate in enumerate(config.rates):
            pipe.send(("phase", rate))
            await _wait_parent(pipe, "go")
            cpu_before, started = time.process_time(), time.monotonic_ns()
            errors_before = len(tracker.errors)
            ids, lags = await _send_paced(senders, tracker, rate, rng, config.messages, f"r{n}-")
            await _drain(tracker, config.drain_timeout)
            results = tracker.phase_results(ids)
            results.update(
                rate=rate,
                lag_ns=lags,
                seconds=(time.monotonic_ns() - started) / 1e9,
                client_cpu_seconds=time.process_time() - cpu_before,
                errors=tracker.errors[errors_before : errors_before + 20],
                error_count=len(tracker.errors) - errors_before,
            )
            pipe.send(("phase_done", results))
            await asyncio.sleep(1)  # let stragglers of an overloaded phase arrive
        pipe.send(("done", {}))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(_close(ws) for ws in sockets), return_exceptions=True)


async def _close(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), 2)


async def _login(http: httpx.AsyncClient, config: ClientConfig) -> str:
    response = await http.post(
        "/console/login",
        data={"email": config.email, "password": config.password},
        follow_redirects=False,
    )
    cookie = response.cookies.get("doorstep_session")
    if response.status_code != 303 or not cookie:
        raise RuntimeError(f"console login failed: {response.status_code} {response.text[:200]}")
    return cookie


async def _sessions(http: httpx.AsyncClient, config: ClientConfig, count: int) -> list[str]:
    gate = asyncio.Semaphore(config.concurrency)

    async def one() -> str:
        async with gate:
            for attempt in range(3):
                try:
                    response = await http.post("/widget/v1/session", json={"site": config.site})
                    break
                except httpx.TransportError:  # a kept-alive connection the server just closed
                    if attempt == 2:
                        raise
            response.raise_for_status()
            return str(response.json()["token"])

    return list(await asyncio.gather(*(one() for _ in range(count))))


class ArrivalStamped(ClientConnection):
    """A client socket that notes when each message's bytes reached this process.

    Latency ends when the frame arrives, not when this process's loop gets round to the
    reader: Doorstep sends every operator a frame or two per message, and when ten sockets
    turn readable at once the loop parses all of them before the first reader task runs.
    The relay forwards one frame to one operator, so reading the clock in the reader would
    charge Doorstep for the client's own parsing.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: deque[int] = deque()
        self._received_ns = 0

    def data_received(self, data: bytes) -> None:
        self._received_ns = time.monotonic_ns()
        super().data_received(data)

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode in DATA_OPCODES and event.fin:
            self.arrivals.append(self._received_ns)
        super().process_event(event)


def _arrival(ws: ClientConnection) -> int:
    """When the message just read arrived (socket from `_open_many`)."""
    assert isinstance(ws, ArrivalStamped)
    return ws.arrivals.popleft()


async def _open_many(
    urls: list[str], headers: dict[str, str] | None, concurrency: int
) -> list[tuple[ClientConnection, int]]:
    """Open sockets, at most `concurrency` handshakes at a time; each waits for `ready`."""
    gate = asyncio.Semaphore(concurrency)

    async def one(url: str) -> tuple[ClientConnection, int]:
        async with gate:
            started = time.monotonic_ns()
            ws = await connect(
                url,
                additional_headers=headers,
                compression=None,
                max_size=MAX_FRAME,
                ping_interval=None,
                open_timeout=60,
                close_timeout=2,
                create_connection=ArrivalStamped,
            )
            try:
                # An operator socket may see `presence` (its own arrival) before `ready`.
                for _ in range(10):
                    first = orjson.loads(await asyncio.wait_for(ws.recv(), 60))
                    _arrival(ws)
                    if first.get("type") == "ready":
                        return ws, time.monotonic_ns() - started
            except BaseException:
                await _close(ws)
                raise
            await _close(ws)
            raise RuntimeError(f"no ready frame; last frame {first!r}")

    return list(await asyncio.gather(*(one(url) for url in urls)))


def _client_msg_id(frame: dict[str, Any]) -> str | None:
    """The sent message's id in a Doorstep frame or in one the relay forwarded or wrapped."""
    kind = frame.get("type")
    if kind == "message.created" or (kind == "message.ack" and "message" in frame):
        return frame["message"].get("client_msg_id")
    if kind == "message.send":  # the relay forwards the visitor's frame as it is
        return frame.get("client_msg_id")
    if kind == "message.ack":  # the relay wraps the raw frame
        return frame.get("frame", {}).get("client_msg_id")
    return None


async def _operator_reader(ws: ClientConnection, tracker: Tracker) -> None:
    try:
        async for raw in ws:
            now = _arrival(ws)
            # Operators also get conversation.created/updated for every message: skip parsing.
            if '"message.created"' in raw or '"message.send"' in raw:
                frame = orjson.loads(raw)
                cmid = _client_msg_id(frame)
                if cmid:
                    tracker.delivered(cmid, now)
            elif '"type":"error"' in raw:
                tracker.errors.append(str(raw)[:300])
    except ConnectionClosed as exc:
        tracker.errors.append(f"operator socket closed: {exc}")


async def _visitor_reader(ws: ClientConnection, tracker: Tracker) -> None:
    try:
        async for raw in ws:
            now = _arrival(ws)
            if '"message.ack"' in raw:
                frame = orjson.loads(raw)
                cmid = _client_msg_id(frame)
                if cmid:
                    tracker.ack(cmid, now)
            elif '"type":"error"' in raw:
                tracker.errors.append(str(raw)[:300])
    except ConnectionClosed as exc:
        tracker.errors.append(f"visitor socket closed: {exc}")


async def _send_paced(
    senders: list[ClientConnection],
    tracker: Tracker,
    rate: float,
    rng: random.Random,
    count: int,
    prefix: str,
) -> tuple[list[str], list[int]]:
    """Open loop: message i leaves at start + i/rate whatever the answers. Returns the ids
    and the lag of each send behind its schedule (large lags: the client, not the server, was
    slow)."""
    interval = 1e9 / rate
    start = time.monotonic_ns()
    ids, lags = [], []
    for i in range(count):
        due = start + int(i * interval)
        delay = due - time.monotonic_ns()
        if delay > 0:
            await asyncio.sleep(delay / 1e9)
        ws = rng.choice(senders)
        cmid = f"{prefix}{i}-{uuid.uuid4().hex[:12]}"
        now = time.monotonic_ns()
        lags.append(now - due)
        ids.append(cmid)
        tracker.sending(cmid, now)
        text = f"Hi, a question about order #{i}: where is my parcel? (sent {now})"
        try:
            await ws.send(
                orjson.dumps({"type": "message.send", "client_msg_id": cmid, "text": text}).decode()
            )
        except ConnectionClosed as exc:
            tracker.errors.append(f"send failed: {exc}")
            tracker.pending_ack.discard(cmid)
            tracker.pending_all.discard(cmid)
    return ids, lags


async def _drain(tracker: Tracker, seconds: float) -> None:
    """Wait until every message sent so far is acked and delivered, or `seconds` pass; what
    is still missing then counts as lost."""
    if tracker.pending_ack or tracker.pending_all:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await tracker.done.wait()
    tracker.pending_ack.clear()
    tracker.pending_all.clear()
