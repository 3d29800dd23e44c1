"""A visitor's message latency while console sign-ins flood the server.

    .venv/bin/python bench/sign_in_flood.py [--messages 300] [--flood 32] [--rounds 3]
                                            [--seconds 60] [--database-url URL] [--json out.json]

Starts `doorstep serve` on loopback (a fresh SQLite data directory, or `--database-url`) with
its production password cost (Argon2id, 64 MiB, t=3). One visitor socket sends messages one
after another, 110 ms apart, and times each `message.ack`; beside it `/healthz` is fetched
every 50 ms. Idle phases and flood phases take turns (`--rounds` of each, `--messages` timed
messages per kind in all); in a flood phase `--flood` clients in another process sign in over
and over with the right password, so every attempt costs a full hash and none is throttled.
Prints p50 / p90 / p99 of both per kind of phase, and the flood's sign-ins per second. The
target (docs/security.md): the flood's p99 within 2x idle. A phase stops after `--seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
from _servers import start_doorstep
from websockets.asyncio.client import connect

EMAIL = "op@example.com"
PASSWORD = "bench password 123"
WARMUP = 20
GAP = 0.11  # seconds between messages: under the socket's 10 frames per second


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _healthz(base: str, stop: asyncio.Event, out: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while not stop.is_set():
            sent = time.perf_counter()
            (await http.get("/healthz")).raise_for_status()
            out.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.05)


async def _messages(ws: Any, count: int, deadline: float, out: list[float]) -> None:
    for _ in range(count):
        if time.monotonic() > deadline:
            return
        cmid = uuid.uuid4().hex
        sent = time.perf_counter()
        await ws.send(json.dumps({"type": "message.send", "client_msg_id": cmid, "text": "hi"}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message.ack" and frame["client_msg_id"] == cmid:
                break
            if frame["type"] == "error":
                raise RuntimeError(frame)
        out.append((time.perf_counter() - sent) * 1000)
        await asyncio.sleep(GAP)


class Samples:
    """Latencies of one kind of phase over every round, and the server's CPU time then."""

    def __init__(self, server_pid: int) -> None:
        self.server = psutil.Process(server_pid)
        self.acks: list[float] = []
        self.health: list[float] = []
        self.seconds = 0.0
        self.loop_cpu = 0.0  # the server's main thread: the event loop
        self.other_cpu = 0.0  # its other threads: password hashing, SQLite, checkpoints

    def cpu(self) -> tuple[float, float, float]:
        # From the process's total: Argon2 hashes its lanes on threads that live for one
        # hash each, gone before a list of threads would show them.
        total = self.server.cpu_times()
        main = sum(
            t.user_time + t.system_time for t in self.server.threads() if t.id == self.server.pid
        )
        return time.monotonic(), main, total.user + total.system - main

    def add_cpu(self, before: tuple[float, float, float]) -> None:
        after = self.cpu()
        self.seconds += after[0] - before[0]
        self.loop_cpu += after[1] - before[1]
        self.other_cpu += after[2] - before[2]

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {
            "messages": len(self.acks),
            "loop_cpu_percent": 100 * self.loop_cpu / self.seconds,
            "other_threads_cpu_percent": 100 * self.other_cpu / self.seconds,
        }
        for name, values in (("ack", self.acks), ("healthz", self.health)):
            for q in (50, 90, 99):
                out[f"{name}_p{q}_ms"] = percentile(values, q)
        return out


async def _phase(ws: Any, base: str, messages: int, seconds: float, into: Samples) -> None:
    stop = asyncio.Event()
    before = into.cpu()
    probing = asyncio.create_task(_healthz(base, stop, into.health))
    await _messages(ws, messages, time.monotonic() + seconds, into.acks)
    stop.set()
    await probing
    into.add_cpu(before)


def _flood(base: str, clients: int, seconds: float, started: Any, stop: Any, out: Any) -> None:
    """Process entry: `clients` loops of right-password sign-ins until told to stop."""

    async def one(http: httpx.AsyncClient, counts: dict[int, int]) -> None:
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            answer = await http.post("/console/login", data={"email": EMAIL, "password": PASSWORD})
            counts[answer.status_code] = counts.get(answer.status_code, 0) + 1

    async def run() -> None:
        counts: dict[int, int] = {}
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
            began = time.monotonic()
            tasks = [asyncio.create_task(one(http, counts)) for _ in range(clients)]
            started.set()
            await asyncio.gather(*tasks)
            out.put({"statuses": counts, "seconds": time.monotonic() - began})

    asyncio.run(run())


async def _flood_phase(
    ws: Any, base: str, args: argparse.Namespace, messages: int, into: Samples
) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    started, stop, out = spawn.Event(), spawn.Event(), spawn.Queue()
    flood = spawn.Process(
        target=_flood, args=(base, args.flood, args.seconds + 60, started, stop, out)
    )
    flood.start()
    try:
        await asyncio.to_thread(started.wait, 60)
        await asyncio.sleep(1.0)  # let the queue of sign-ins build up
        await _phase(ws, base, messages, args.seconds, into)
    finally:
        stop.set()
    result = await asyncio.to_thread(out.get, True, 180)
    await asyncio.to_thread(flood.join, 30)
    return result


async def _measure(base: str, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        token = (await http.post("/widget/v1/session", json={"site": "bench"})).json()["token"]
    ws_url = base.replace("http://", "ws://") + f"/widget/v1/ws?site=bench&token={token}"
    idle, flooded = Samples(server_pid), Samples(server_pid)
    statuses: dict[str, int] = {}
    flood_seconds = 0.0
    per_round = max(1, args.messages // args.rounds)
    async with connect(ws_url, max_queue=None, compression=None) as ws:
        await ws.recv()  # ready
        await _messages(ws, WARMUP, time.monotonic() + args.seconds, [])
        # Idle and flood take turns, so a change in the machine's other load falls on both.
        for _ in range(args.rounds):
            await _phase(ws, base, per_round, args.seconds, idle)
            result = await _flood_phase(ws, base, args, per_round, flooded)
            flood_seconds += result["seconds"]
            for status, count in result["statuses"].items():
                statuses[str(status)] = statuses.get(str(status), 0) + count
    return {
        "idle": idle.summary(),
        "flood": flooded.summary(),
        "flood_clients": args.flood,
        "sign_ins_per_s": statuses.get("303", 0) / flood_seconds if flood_seconds else 0.0,
        "sign_in_statuses": statuses,
    }


def _report(result: dict[str, Any]) -> None:
    idle, flood = result["idle"], result["flood"]
    print(f"{'':<34}{'idle p50 / p90 / p99':>24}{'flood p50 / p90 / p99':>26}   flood/idle p99")
    for label, key in (("message.ack (ms)", "ack"), ("GET /healthz (ms)", "healthz")):
        cells = [
            " / ".join(f"{phase[f'{key}_p{q}_ms']:.1f}" for q in (50, 90, 99))
            for phase in (idle, flood)
        ]
        ratio = flood[f"{key}_p99_ms"] / idle[f"{key}_p99_ms"]
        print(f"{label:<34}{cells[0]:>24}{cells[1]:>26}   x{ratio:.2f}")
    print(f"{'messages timed':<34}{idle['messages']:>24.0f}{flood['messages']:>26.0f}")
    for label, key in (
        ("server event loop, % of a core", "loop_cpu_percent"),
        ("server's other threads, % of a core", "other_threads_cpu_percent"),
    ):
        print(f"{label:<34}{max(0.0, idle[key]):>24.0f}{max(0.0, flood[key]):>26.0f}")
    print(
        f"{'sign-ins during the flood':<32}{result['sign_ins_per_s']:.1f} per s from "
        f"{result['flood_clients']} clients; answers {result['sign_in_statuses']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="timed messages per kind")
    parser.add_argument("--flood", type=int, default=32, help="clients signing in at once")
    parser.add_argument("--rounds", type=int, default=3, help="idle and flood phases, in turn")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most, per phase")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-") as tmp:
        server = start_doorstep(
            Path(tmp) / "data",
            args.database_url,
            "warning",
            email=EMAIL,
            password=PASSWORD,
            # One visitor sends far more than a person would: the abuse limits would stop it.
            settings={"DOORSTEP_LIMIT_MESSAGES": "off", "DOORSTEP_LIMIT_ADDRESS_MESSAGES": "off"},
        )
        try:
            result = asyncio.run(_measure(server.base_url, server.proc.pid, args))
        finally:
            server.stop()
    _report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
