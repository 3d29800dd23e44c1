"""The public doors under a flood from one address, with the default abuse limits.

    .venv/bin/python bench/public_doors.py [--sessions 1000] [--messages 1000] [--json out.json]

Starts `doorstep serve` on a fresh SQLite data directory with the abuse limits at their
defaults (docs/security.md, "Abuse limits") and, from one loopback address with no
credentials, as the probe of issue 15 did:

1. asks for `--sessions` new widget sessions, one after the other: how many made a visitor,
   how many were refused, and how long each answer took;
2. has the first visitor send `--messages` messages, each as soon as the last is answered:
   how many were stored, and the refusals' `retry_after`;
3. has every other visitor it got open a socket and send a first message: how many
   conversations were started, how many refused.

What it shows: what gets through in the first minute, and that a refusal costs less than an
answer that stores something.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from _servers import BENCH_LIMITS, start_doorstep
from websockets.asyncio.client import connect

EMAIL = "op@example.com"
PASSWORD = "bench password 123"
DEFAULTS = dict.fromkeys(BENCH_LIMITS, "")  # empty: the setting's default


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if values else 0.0


async def sessions(base: str, count: int) -> tuple[list[str], dict[str, Any]]:
    tokens: list[str] = []
    made: list[float] = []
    refused: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        start = time.perf_counter()
        for _ in range(count):
            asked = time.perf_counter()
            answer = await http.post("/widget/v1/session", json={"site": "bench"})
            took = (time.perf_counter() - asked) * 1000
            if answer.status_code == 200:
                tokens.append(answer.json()["token"])
                made.append(took)
            else:
                assert answer.status_code == 429, answer.text
                refused.append(took)
        elapsed = time.perf_counter() - start
    return tokens, {
        "sessions_asked": count,
        "visitors_made": len(made),
        "sessions_refused": len(refused),
        "sessions_seconds": round(elapsed, 2),
        "made_p50_ms": round(percentile(made, 50), 2),
        "refused_p50_ms": round(percentile(refused, 50), 2),
    }


async def first_messages(ws_base: str, tokens: list[str]) -> dict[str, Any]:
    answers: dict[str, int] = {}
    for n, token in enumerate(tokens):
        async with connect(f"{ws_base}/widget/v1/ws?site=bench&token={token}") as ws:
            await ws.recv()  # ready
            frame = {"type": "message.send", "client_msg_id": f"c{n}", "text": "Hello"}
            await ws.send(orjson.dumps(frame).decode())
            while True:
                reply = orjson.loads(await ws.recv())
                if reply["type"] in ("message.ack", "error"):
                    kind = reply["type"] if reply["type"] == "message.ack" else reply["code"]
                    answers[kind] = answers.get(kind, 0) + 1
                    break
    return {
        "conversations_tried": len(tokens),
        "conversations_started": answers.get("message.ack", 0),
        "conversations_refused": answers.get("rate_limited", 0),
    }


async def one_visitor_messages(ws_base: str, token: str, count: int) -> dict[str, Any]:
    acks = refused = 0
    retry_after: set[int] = set()
    url = f"{ws_base}/widget/v1/ws?site=bench&token={token}"
    start = time.perf_counter()
    async with connect(url) as ws:
        await ws.recv()  # ready
        for n in range(count):
            frame = {"type": "message.send", "client_msg_id": f"m{n}", "text": f"Spam {n}"}
            await ws.send(orjson.dumps(frame).decode())
            while True:
                reply = orjson.loads(await ws.recv())
                if reply["type"] == "message.ack":
                    acks += 1
                    break
                if reply["type"] == "error":
                    refused += 1
                    retry_after.add(reply["retry_after"])
                    break
    return {
        "messages_sent": count,
        "messages_stored": acks,
        "messages_refused": refused,
        "messages_seconds": round(time.perf_counter() - start, 2),
        "retry_after_seen_s": sorted(retry_after),
    }


async def run(base: str, args: argparse.Namespace) -> dict[str, Any]:
    ws_base = base.replace("http://", "ws://")
    tokens, result = await sessions(base, args.sessions)
    result |= await one_visitor_messages(ws_base, tokens[0], args.messages)
    result |= await first_messages(ws_base, tokens[1:])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-") as tmp:
        server = start_doorstep(
            Path(tmp) / "data", None, "warning", email=EMAIL, password=PASSWORD, settings=DEFAULTS
        )
        try:
            result = asyncio.run(run(server.base_url, args))
        finally:
            server.stop()
    for name, value in result.items():
        print(f"{name:<28}{value}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
