"""What a pause costs: the CPU time of one visitor message, back to back and after idle gaps.

    .venv/bin/python bench/idle_cost.py [--messages 400] [--gaps 0,5,50] [--dir /dev/shm]
                                        [--json out.json]

In one process, on a fresh SQLite database, it stores visitor messages that continue a
conversation through Doorstep's service (`send_visitor_message`: the transaction, its
statements, the inbox row and the events), one after another with a pause of each gap (ms)
before each, and takes the thread's CPU time of each call. Beside it, in the same run and
the same database, the baseline: the same statements (BEGIN IMMEDIATE, the latest
conversation, the insert, the bump that returns the inbox row, COMMIT) through sqlite3 alone.

The database lies in `--dir`, a tmpfs where there is one, so that a commit's sync costs
nothing and only CPU work is timed. Figures and how to read them: docs/benchmarks.md
("What a pause costs").
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from doorstep.config import Settings
from doorstep.domain.models import Visitor
from doorstep.domain.rate_limits import AbuseLimits, Rate
from doorstep.services import conversations, sites, visitors
from doorstep.services.context import Ctx, build_ctx
from doorstep.store.migrate import upgrade

VISITORS = 50
# The abuse limits stay on, so their cost is part of each message, but far above the rate here.
LIMITS = AbuseLimits(messages=Rate(10**6, 1), address_messages=Rate(10**6, 1))
NOW = "2026-12-05 12:00:00.000000"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="CPU time of one visitor message through Doorstep and through sqlite3 "
        "alone, back to back and after pauses, in one run."
    )
    parser.add_argument("--messages", type=int, default=400, help="messages per gap (400)")
    parser.add_argument(
        "--gaps", default="0,5,50", help="pauses before each message, in ms (0,5,50)"
    )
    default_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
    parser.add_argument(
        "--dir", default=default_dir, help="where the database goes (a tmpfs: /dev/shm)"
    )
    parser.add_argument("--json", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    try:
        args.gaps = [float(gap) for gap in args.gaps.split(",")]
    except ValueError:
        parser.error("--gaps: comma-separated numbers of milliseconds")
    if args.messages < 10 or any(gap < 0 for gap in args.gaps):
        parser.error("--messages is at least 10 and gaps are not negative")
    return args


async def cpu_times(count: int, gap_ms: float, one: Callable[[], Awaitable[None]]) -> list[float]:
    """Microseconds of the thread's CPU time of each of `count` calls, `gap_ms` apart."""
    taken = []
    for _ in range(count):
        if gap_ms:
            await asyncio.sleep(gap_ms / 1000)
        started = time.thread_time_ns()
        await one()
        taken.append((time.thread_time_ns() - started) / 1000)
    return taken


class BareStatements:
    """The statements of a continuing visitor message, through sqlite3 and nothing else."""

    def __init__(self, path: Path, contact_ids: list[int]) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous=FULL")
        self.contact_ids = contact_ids
        self.rng = random.Random(2)
        self.numbers = itertools.count()

    async def one(self) -> None:
        db, contact_id = self.db, self.rng.choice(self.contact_ids)
        client_msg_id = f"bare-{next(self.numbers)}"
        db.execute("BEGIN IMMEDIATE")
        latest = db.execute(
            "SELECT * FROM conversations WHERE contact_id = ? ORDER BY id DESC LIMIT 1",
            (contact_id,),
        ).fetchall()[0]
        conversation_id, last_seq = latest[0], latest[5]
        db.execute(
            "INSERT INTO messages (conversation_id, seq, author_type, author_id, text, internal,"
            " client_msg_id, created_at, meta) VALUES (?, ?, 'visitor', ?, ?, 0, ?, ?, NULL)"
            " RETURNING id",
            (conversation_id, last_seq + 1, contact_id, "hello there", client_msg_id, NOW),
        ).fetchall()
        # The bump returns the inbox row: the contact's and the assignee's columns by subquery.
        db.execute(
            "UPDATE conversations SET last_seq = last_seq + 1, last_message_at = ?,"
            " last_message_text = ?, last_message_author = 'visitor', updated_at = ?,"
            " operator_unread = operator_unread + 1 WHERE id = ? RETURNING *,"
            " (SELECT name FROM contacts WHERE contacts.id = contact_id),"
            " (SELECT email FROM contacts WHERE contacts.id = contact_id),"
            " (SELECT name FROM operators WHERE operators.id = assignee_id)",
            (NOW, "hello there", NOW, conversation_id),
        ).fetchall()
        db.execute("COMMIT")


async def prepare(directory: Path) -> tuple[Ctx, list[Visitor]]:
    settings = Settings(
        data_dir=directory,
        database_url=f"sqlite+aiosqlite:///{directory / 'doorstep.db'}",
        secret_key="bench",
        public_url="http://127.0.0.1",
        abuse_limits=LIMITS,
    )
    ctx = build_ctx(settings)
    await upgrade(ctx.db)
    site = await sites.create_site(ctx, name="Bench", key="bench")
    started = []
    for i in range(VISITORS):
        visitor, _token = await visitors.start_visitor_session(ctx, site, token=None, locale="en")
        await conversations.send_visitor_message(
            ctx, visitor, text="first", client_msg_id=f"first-{i}"
        )
        started.append(visitor)
    return ctx, started


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": ordered[len(ordered) // 2],
        "p90": ordered[int(len(ordered) * 0.9)],
        "mean": statistics.fmean(ordered),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp)
        ctx, started = await prepare(directory)
        rng = random.Random(1)
        numbers = itertools.count()
        bare = BareStatements(directory / "doorstep.db", [v.contact_id for v in started])

        async def doorstep_message() -> None:
            await conversations.send_visitor_message(
                ctx,
                rng.choice(started),
                text="hello there",
                client_msg_id=f"bench-{next(numbers)}",
                has_conversation=True,
                address="203.0.113.9",
            )

        out: dict[str, Any] = {"messages": args.messages, "gaps_ms": args.gaps, "runs": []}
        try:
            await cpu_times(50, 0, doorstep_message)  # warm up: statements compiled, caches
            await cpu_times(50, 0, bare.one)
            for gap in args.gaps:
                for name, one in (("doorstep", doorstep_message), ("sqlite3", bare.one)):
                    taken = await cpu_times(args.messages, gap, one)
                    out["runs"].append({"gap_ms": gap, "what": name, "cpu_us": summary(taken)})
        finally:
            bare.db.close()
            await ctx.db.dispose()
    return out


def report(out: dict[str, Any]) -> str:
    lines = [
        "CPU time of one continuing visitor message (thread CPU, µs), by the pause before it",
        f"{'gap ms':>7}  {'what':<9} {'p50':>6} {'p90':>6} {'mean':>6}  {'x back to back':>14}"
        f"  {'x sqlite3':>9}",
    ]
    bare = {r["gap_ms"]: r["cpu_us"]["p50"] for r in out["runs"] if r["what"] == "sqlite3"}
    back_to_back = {
        r["what"]: r["cpu_us"]["p50"] for r in out["runs"] if r["gap_ms"] == min(out["gaps_ms"])
    }
    for r in out["runs"]:
        cpu = r["cpu_us"]
        slower = cpu["p50"] / back_to_back[r["what"]]
        lines.append(
            f"{r['gap_ms']:>7g}  {r['what']:<9} {cpu['p50']:>6.0f} {cpu['p90']:>6.0f} "
            f"{cpu['mean']:>6.0f}  {slower:>14.2f}  {cpu['p50'] / bare[r['gap_ms']]:>9.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = asyncio.run(run(args))
    print(report(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
