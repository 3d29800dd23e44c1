"""Socket benchmark: Doorstep against a bare relay and a bare commit, in one run.

For each database it starts, one after the other on loopback ports:

1. the bare relay (bench/relay.py, same uvicorn settings as `doorstep serve`), driven by the
   same client as Doorstep: N idle visitor sockets for memory, then paced visitor messages;
2. single-row durable commits on that database (the storage floor): back to back, then at
   each rate, one per message interval, as the messages will come;
3. `doorstep serve` on a fresh data directory (SQLite) or a fresh database (PostgreSQL),
   seeded with the CLI, driven the same way as the relay.

The client runs in a separate process. Latency is measured on the client's clock from the
moment a visitor sends `message.send` to (a) the first operator socket receiving
`message.created`, (b) every operator socket having received it, (c) the visitor receiving
`message.ack`. Floor = relay latency + commit latency at the same rate (p50 with p50, p99
with p99); the target is Doorstep p99 <= 2.0 x floor p99. Memory per idle visitor socket =
server RSS growth over N sockets / N; the target is <= 1.5 x the relay's.

    .venv/bin/python bench/sockets.py --visitors 1000 --operators 10 --database both --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _floor
from _clients import ClientConfig, raise_fd_limit, run_client
from _servers import ROOT, Server, start_doorstep, start_relay

WIDGET_JS = ROOT / "src" / "doorstep" / "web" / "widget" / "static" / "widget.js"
EMAIL = "op@example.com"
PASSWORD = "bench-password-123"
P99_TARGET = 2.0
MEMORY_TARGET = 1.5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure Doorstep's visitor->operator latency and memory per socket "
        "against a bare relay and a bare durable commit, side by side in one run.",
        epilog="Read docs/benchmarks.md ('Sockets') for what the figures mean.",
    )
    parser.add_argument("--visitors", type=int, default=1000, help="idle visitor sockets (1000)")
    parser.add_argument("--operators", type=int, default=10, help="operator sockets (10)")
    parser.add_argument(
        "--messages", type=int, default=600, help="measured messages at each rate (600)"
    )
    parser.add_argument(
        "--rate",
        type=_rates,
        default=[20.0, 50.0, 200.0],
        help="messages per second over all visitors; a comma-separated list measures each "
        "rate in turn on the same sockets (20,50,200)",
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="messages sent first and not counted (200)"
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both", help="(both)"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="admin DSN; a database doorstep_bench_<random> is created there and dropped after",
    )
    parser.add_argument(
        "--commits", type=int, default=1000, help="commits in the back-to-back floor loop (1000)"
    )
    parser.add_argument(
        "--floor-seconds",
        type=float,
        default=None,
        help="seconds of paced commits at each rate, one per message interval (default: as "
        "many commits as measured messages, so both p99s rest on as many samples)",
    )
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes at a time (50)")
    parser.add_argument(
        "--warm-visitors", type=int, default=50, help="sockets opened before the RSS baseline"
    )
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before RSS readings")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=30.0,
        help="seconds to wait after the last send of a rate; what is missing then is lost (30)",
    )
    parser.add_argument(
        "--log-level", default="info", help="server log level, as DOORSTEP_LOG_LEVEL (info)"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority change for the benchmark, its servers and client (inherited); "
        "on a shared machine, e.g. -10 (needs root) keeps other people's work from "
        "disturbing the run",
    )
    parser.add_argument("--tmp-dir", help="where the data directories go (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep data directories and logs")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record the Doorstep server with py-spy during the load into DIR/DATABASE/ "
        "(folded stacks; needs `pip install py-spy`)",
    )
    return parser.parse_args(argv)


def _rates(text: str) -> list[float]:
    rates = [float(part) for part in text.split(",") if part.strip()]
    if not rates or any(rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError("rates are positive numbers, e.g. 50,200")
    return rates


# ---------------------------------------------------------------- statistics


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values_ns: list[int]) -> dict[str, float | int | None]:
    ms = [v / 1e6 for v in values_ns]
    return {
        "n": len(ms),
        "p50": pct(ms, 50),
        "p90": pct(ms, 90),
        "p99": pct(ms, 99),
        "max": max(ms) if ms else None,
        "mean": statistics.fmean(ms) if ms else None,
    }


# ---------------------------------------------------------------- one target


class ClientProcess:
    def __init__(self, config: ClientConfig) -> None:
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=run_client, args=(config, child), daemon=True)
        self.proc.start()
        child.close()

    def expect(self, kind: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pipe.poll(0.05):
                try:
                    got, payload = self.pipe.recv()
                except EOFError:
                    self.proc.join(timeout=5)
                    raise RuntimeError(
                        f"client exited (code {self.proc.exitcode}) before {kind!r}"
                    ) from None
                if got == "error":
                    raise RuntimeError(f"client failed:\n{payload}")
                if got != kind:
                    raise RuntimeError(f"client said {got!r}, expected {kind!r}")
                return payload
            if not self.proc.is_alive():
                raise RuntimeError(f"client exited (code {self.proc.exitcode}) before {kind!r}")
        raise TimeoutError(f"client gave no {kind!r} in {timeout:.0f} s")

    def send(self, command: str) -> None:
        self.pipe.send(command)

    def stop(self) -> None:
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def rss_reading(server: Server, settle: float) -> int:
    time.sleep(settle)
    readings = []
    for _ in range(3):
        readings.append(server.rss())
        time.sleep(0.5)
    return int(statistics.median(readings))


def drive(
    label: str, server: Server, args: argparse.Namespace, profile: Path | None = None
) -> dict[str, Any]:
    """Open the sockets, read the server's memory, run the paced load; return the figures."""
    print(f"  {label}: sessions and operator sockets ...", flush=True)
    config = ClientConfig(
        base_url=server.base_url,
        site="bench",
        email=EMAIL,
        password=PASSWORD,
        visitors=args.visitors,
        warm_visitors=args.warm_visitors,
        operators=args.operators,
        messages=args.messages,
        warmup_messages=args.warmup,
        rates=args.rate,
        concurrency=args.concurrency,
        drain_timeout=args.drain_timeout,
        fanout=1 if server.name == "relay" else args.operators,
    )
    client = ClientProcess(config)
    spy = None
    phases: list[dict[str, Any]] = []
    try:
        client.expect("ready_for_baseline", 600)
        rss_base = rss_reading(server, args.settle)
        print(f"  {label}: opening {args.visitors} visitor sockets ...", flush=True)
        client.send("open")
        idle = client.expect("idle", 600)
        rss_idle = rss_reading(server, args.settle)
        if profile is not None:
            spy = start_py_spy(server, profile)
        client.send("load")
        per_phase = 60 + args.drain_timeout + 2 * args.messages / min(args.rate)
        warm_timeout = 60 + args.drain_timeout + 2 * args.warmup / args.rate[0]
        for n, rate in enumerate(args.rate):
            got = client.expect("phase", warm_timeout if n == 0 else per_phase)
            assert got == rate
            print(f"  {label}: {args.messages} messages at {rate:g}/s ...", flush=True)
            cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
            machine_before = busy_seconds()
            client.send("go")
            done = client.expect("phase_done", per_phase)
            cpu_used, wall = server.cpu_seconds() - cpu_before, time.monotonic() - wall_before
            machine_used = busy_seconds() - machine_before
            others = machine_used - cpu_used - done["client_cpu_seconds"]
            phases.append(phase_figures(done, 100 * cpu_used / wall, 100 * others / wall))
        client.expect("done", 60)
        rss_after = server.rss()
    finally:
        if spy is not None:
            stop_py_spy(spy)
        client.stop()
    return {
        "visitors": idle["visitors"],
        "open_seconds": idle["open_seconds"],
        "connect_ms": summary_ms(idle["connect_ns"]),
        "rss_base_mib": rss_base / 2**20,
        "rss_idle_mib": rss_idle / 2**20,
        "rss_after_load_mib": rss_after / 2**20,
        "kib_per_socket": (rss_idle - rss_base) / 1024 / max(1, idle["visitors"]),
        "rates": phases,
    }


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy, over all cores."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0))


def phase_figures(
    done: dict[str, Any], server_cpu_percent: float, others_cpu_percent: float
) -> dict[str, Any]:
    return {
        "rate": done["rate"],
        "sent": done["sent"],
        "throughput": done["throughput"],
        "deliver_first_ms": summary_ms(done["first_ns"]),
        "deliver_all_ms": summary_ms(done["all_ns"]),
        "ack_ms": summary_ms(done["ack_ns"]),
        "send_lag_ms": summary_ms(done["lag_ns"]),
        "lost_first": done["sent"] - len(done["first_ns"]),
        "lost_all": done["sent"] - len(done["all_ns"]),
        "lost_ack": done["sent"] - len(done["ack_ns"]),
        "seconds": done["seconds"],
        "server_cpu_percent": server_cpu_percent,
        # Everything else on the machine (other users' work: this machine is shared), in % of
        # one core; large values mean the run was disturbed.
        "others_cpu_percent": max(0.0, others_cpu_percent),
        "client_cpu_percent": 100 * done["client_cpu_seconds"] / max(1e-9, done["seconds"]),
        "errors": done["errors"],
        "error_count": done["error_count"],
    }


def start_py_spy(server: Server, directory: Path) -> Any:
    import subprocess

    directory.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = directory / f"doorstep-{server.port}.folded.txt"
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(server.proc.pid),
            "--format",
            "raw",
            "-o",
            str(out),
            "--rate",
            "200",
            "--nonblocking",
            "--threads",
            "--gil",  # samples only the thread holding the GIL: where Python CPU goes
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_py_spy(spy: Any) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(timeout=30)
    except Exception:
        spy.kill()


# ---------------------------------------------------------------- the run


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in (
        "uvicorn",
        "websockets",
        "starlette",
        "httptools",
        "uvloop",
        "sqlalchemy",
        "aiosqlite",
        "asyncpg",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
    }


def run_database(
    database: str, args: argparse.Namespace, work: Path, cleanup: list[Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"[{database}] relay", flush=True)
    relay_dir = work / f"relay-{database}"
    relay_dir.mkdir()
    relay = start_relay(relay_dir, args.log_level)
    cleanup.append(relay.stop)
    try:
        out["relay"] = drive("relay", relay, args)
    except Exception:
        print(f"relay log, last lines:\n{relay.tail()}", file=sys.stderr)
        raise
    finally:
        relay.stop()

    data_dir = work / f"doorstep-{database}"
    data_dir.mkdir()
    url = None
    drop = None
    if database == "postgresql":
        name = _floor.create_pg_database(args.postgres)

        def drop() -> None:
            _floor.drop_pg_database(args.postgres, name)

        cleanup.append(drop)
        url = _floor.with_database(args.postgres, name)
        out["postgresql_synchronous_commit"] = _floor.pg_setting(url, "synchronous_commit")
        out["postgresql_version"] = _floor.pg_setting(url, "server_version")

        def commits(count: int, interval: float) -> list[int]:
            return _floor.pg_commits(url, count, interval)
    else:

        def commits(count: int, interval: float) -> list[int]:
            return _floor.sqlite_commits(data_dir / "floor.db", count, interval=interval)

    print(f"[{database}] commit floor ({args.commits} commits back to back)", flush=True)
    out["commit_ms"] = summary_ms(commits(args.commits, 0.0))
    # The floor at each rate: commits paced like the messages, as the relay's half is.
    out["commit_at_rate_ms"] = {}
    for rate in args.rate:
        count = paced_commits(args, rate)
        print(f"[{database}] commit floor ({count} commits at {rate:g}/s)", flush=True)
        out["commit_at_rate_ms"][str(rate)] = summary_ms(commits(count, 1 / rate))

    print(f"[{database}] doorstep", flush=True)
    server = start_doorstep(data_dir, url, args.log_level, email=EMAIL, password=PASSWORD)
    cleanup.append(server.stop)
    try:
        profile = Path(args.profile) / database if args.profile else None
        out["doorstep"] = drive("doorstep", server, args, profile)
    except Exception:
        print(f"doorstep server log, last lines:\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
        if drop is not None:  # drop the database now, not at exit
            cleanup.remove(drop)
            drop()
    out["verdict"] = verdict(out)
    return out


def paced_commits(args: argparse.Namespace, rate: float) -> int:
    """How many commits the floor makes at `rate`: as many as the messages measured there,
    unless --floor-seconds says otherwise. A p99 of 200 samples is their second largest, so
    the floor's own p99 would move more from run to run than Doorstep's."""
    if args.floor_seconds is None:
        return args.messages
    return max(50, round(rate * args.floor_seconds))


def verdict(out: dict[str, Any]) -> dict[str, Any]:
    """Ratios against the floor at each rate, and the memory ratio."""
    relay, door = out["relay"], out["doorstep"]

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    def added(relay_ms: dict[str, Any], commit: dict[str, Any]) -> dict[str, float]:
        return {q: relay_ms[q] + commit[q] for q in ("p50", "p99") if relay_ms[q] is not None}

    rates = []
    for r, d in zip(relay["rates"], door["rates"], strict=True):
        commit = out["commit_at_rate_ms"][str(d["rate"])]
        floor, ack_floor = added(r["deliver_first_ms"], commit), added(r["ack_ms"], commit)
        tight_floor = added(r["deliver_first_ms"], out["commit_ms"])
        p99_ratio = ratio(d["deliver_first_ms"]["p99"], floor.get("p99"))
        lost = max(d["lost_first"], d["lost_all"], d["lost_ack"])
        rates.append(
            {
                "rate": d["rate"],
                "commit_ms": commit,
                "floor_ms": floor,
                "ack_floor_ms": ack_floor,
                "back_to_back_floor_ms": tight_floor,
                "back_to_back_p99_ratio": ratio(
                    d["deliver_first_ms"]["p99"], tight_floor.get("p99")
                ),
                "p50_ratio": ratio(d["deliver_first_ms"]["p50"], floor.get("p50")),
                "p99_ratio": p99_ratio,
                "ack_p99_ratio": ratio(d["ack_ms"]["p99"], ack_floor.get("p99")),
                "latency_ok": p99_ratio is not None and p99_ratio <= P99_TARGET and not lost,
            }
        )
    mem_ratio = ratio(door["kib_per_socket"], relay["kib_per_socket"])
    return {
        "rates": rates,
        "memory_ratio": mem_ratio,
        "memory_ok": mem_ratio is not None and mem_ratio <= MEMORY_TARGET,
    }


def widget_size() -> dict[str, Any]:
    if not WIDGET_JS.exists():
        return {"path": str(WIDGET_JS.relative_to(ROOT)), "exists": False}
    raw = WIDGET_JS.read_bytes()
    return {
        "path": str(WIDGET_JS.relative_to(ROOT)),
        "exists": True,
        "bytes": len(raw),
        "gzip9_bytes": len(gzip.compress(raw, compresslevel=9, mtime=0)),
    }


# ---------------------------------------------------------------- output


def f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(result: dict[str, Any]) -> str:
    cfg = result["config"]
    rates = ", ".join(f"{rate:g}/s" for rate in cfg["rate"])
    out = [
        f"Doorstep sockets benchmark, {result['date']}: {cfg['visitors']} visitors, "
        f"{cfg['operators']} operators, {cfg['messages']} messages at each of {rates} "
        f"(+{cfg['warmup']} warm-up); {result['machine']['cores']} cores, "
        f"{result['machine']['cpu']}" + (f"; nice {cfg['nice']}" if cfg["nice"] else ""),
        "",
        "Latency, ms: send -> first operator socket has message.created / all operator sockets",
        "have it / the visitor has message.ack (the relay forwards to one operator socket).",
        "done/s: messages fully delivered per second; below the rate, the server fell behind.",
        "CPU% of one core: the server, the client, and everything else on this shared machine.",
    ]
    rows = [
        [
            "run",
            "rate",
            "done/s",
            "first p50",
            "p99",
            "max",
            "all p50",
            "p99",
            "ack p50",
            "p99",
            "lost",
            "srv CPU%",
            "cli CPU%",
            "others%",
        ]
    ]
    for db, runs in result["databases"].items():
        for name in ("relay", "doorstep"):
            for r in runs[name]["rates"]:
                rows.append(
                    [
                        f"{name} ({db})",
                        f"{r['rate']:g}/s",
                        f(r["throughput"], 0),
                        f(r["deliver_first_ms"]["p50"], 2),
                        f(r["deliver_first_ms"]["p99"], 2),
                        f(r["deliver_first_ms"]["max"], 1),
                        f(r["deliver_all_ms"]["p50"], 2),
                        f(r["deliver_all_ms"]["p99"], 2),
                        f(r["ack_ms"]["p50"], 2),
                        f(r["ack_ms"]["p99"], 2),
                        str(max(r["lost_first"], r["lost_all"], r["lost_ack"])),
                        f(r["server_cpu_percent"], 0),
                        f(r["client_cpu_percent"], 0),
                        f(r["others_cpu_percent"], 0),
                    ]
                )
    out += [table(rows), "", "Memory (server RSS) and connecting"]
    rows = [["run", "base MiB", "idle MiB", "KiB/socket", "open s", "conn p50", "conn p99"]]
    for db, runs in result["databases"].items():
        for name in ("relay", "doorstep"):
            r = runs[name]
            rows.append(
                [
                    f"{name} ({db})",
                    f(r["rss_base_mib"]),
                    f(r["rss_idle_mib"]),
                    f(r["kib_per_socket"]),
                    f(r["open_seconds"], 2),
                    f(r["connect_ms"]["p50"], 1),
                    f(r["connect_ms"]["p99"], 1),
                ]
            )
    out += [
        table(rows),
        "",
        "Against the floor: floor = relay first-delivery + one durable commit made at the same",
        "rate (b2b: the same with the commits made back to back, for comparison)",
    ]
    rows = [
        [
            "database",
            "rate",
            "commit p50",
            "p99",
            "floor p50",
            "p99",
            "doorstep p50",
            "p99",
            "p99/floor",
            "b2b commit p99",
            "p99/b2b floor",
            "mem ratio",
        ]
    ]
    for db, runs in result["databases"].items():
        v, b2b = runs["verdict"], runs["commit_ms"]
        for n, (vr, d) in enumerate(zip(v["rates"], runs["doorstep"]["rates"], strict=True)):
            c = vr["commit_ms"]
            rows.append(
                [
                    db,
                    f"{vr['rate']:g}/s",
                    f(c["p50"], 2),
                    f(c["p99"], 2),
                    f(vr["floor_ms"].get("p50"), 2),
                    f(vr["floor_ms"].get("p99"), 2),
                    f(d["deliver_first_ms"]["p50"], 2),
                    f(d["deliver_first_ms"]["p99"], 2),
                    f(vr["p99_ratio"], 2) + (" ok" if vr["latency_ok"] else " MISS"),
                    f(b2b["p99"], 2),
                    f(vr["back_to_back_p99_ratio"], 2),
                    (f(v["memory_ratio"], 2) + (" ok" if v["memory_ok"] else " MISS"))
                    if n == 0
                    else "",
                ]
            )
    out += [table(rows)]
    out.append(
        f"targets: p99/floor <= {P99_TARGET} with nothing lost; memory per idle socket <= "
        f"{MEMORY_TARGET} x relay"
    )
    w = result["widget"]
    if w["exists"]:
        out.append(f"widget: {w['path']} {w['bytes']} bytes, {w['gzip9_bytes']} bytes gzip -9")
    else:
        out.append(f"widget: {w['path']} does not exist yet")
    for db, runs in result["databases"].items():
        for name in ("relay", "doorstep"):
            for r in runs[name]["rates"]:
                if r["error_count"]:
                    out.append(
                        f"{name} ({db}) at {r['rate']:g}/s: {r['error_count']} errors, first ones:"
                    )
                    out += [f"  {e}" for e in r["errors"][:3]]
    return "\n".join(out)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A `kill` ends the run like Ctrl-C does: servers stopped, database dropped, files removed.
    signal.signal(signal.SIGTERM, _interrupt)
    raise_fd_limit()
    if args.nice:
        os.nice(args.nice)  # servers and client inherit it
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    work = Path(tempfile.mkdtemp(prefix="doorstep-bench-", dir=args.tmp_dir))
    cleanup: list[Any] = []
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {
            k: getattr(args, k)
            for k in (
                "nice",
                "visitors",
                "operators",
                "messages",
                "rate",
                "warmup",
                "commits",
                "floor_seconds",
                "concurrency",
                "warm_visitors",
                "log_level",
            )
        },
        "databases": {},
    }
    started = time.monotonic()
    try:
        for database in databases:
            result["databases"][database] = run_database(database, args, work, cleanup)
    except KeyboardInterrupt:
        print("interrupted; stopping servers", file=sys.stderr)
        return 130
    finally:
        for undo in reversed(cleanup):
            with contextlib.suppress(Exception):
                undo()
        if args.keep:
            print(f"data and logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["widget"] = widget_size()
    result["seconds"] = time.monotonic() - started
    print()
    print(report(result))
    print(f"({result['seconds']:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
