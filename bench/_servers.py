"""Server subprocesses for bench/sockets.py: Doorstep (`doorstep serve`) and the bare relay.

Each server runs in its own session (so a Ctrl-C at the terminal reaches only the benchmark,
which then stops the server itself) with a raised open-files limit, logging to a file.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = Path(sys.executable).parent
NOFILE = 65536


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raise_nofile() -> None:  # runs in the child between fork and exec
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def doorstep_bin() -> str:
    path = VENV_BIN / "doorstep"
    return str(path) if path.exists() else "doorstep"


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(
        [doorstep_bin(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"doorstep {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Server:
    """One server process on a loopback port; `stop()` is safe to call more than once."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path):
        self.name = name
        self.port = port
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_raise_nofile,
            start_new_session=True,
            cwd=ROOT,
        )
        self.ps = psutil.Process(self.proc.pid)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz in {timeout} s:\n{self.tail()}")

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


# Every client of a benchmark comes from one loopback address. The abuse limits stay on, so
# their cost is part of what is measured, but far above anything a benchmark sends.
BENCH_LIMITS = {
    name: "1000000/1s"
    for name in (
        "DOORSTEP_LIMIT_SESSIONS",
        "DOORSTEP_LIMIT_CONVERSATIONS",
        "DOORSTEP_LIMIT_MESSAGES",
        "DOORSTEP_LIMIT_ADDRESS_MESSAGES",
        "DOORSTEP_LIMIT_TRACKING",
        "DOORSTEP_LIMIT_ADDRESS_TRACKING",
    )
} | {"DOORSTEP_LIMIT_SOCKETS": "1000000"}


def base_env(data_dir: Path, database_url: str | None, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    env.update(BENCH_LIMITS)
    env["DOORSTEP_DATA_DIR"] = str(data_dir)
    env["DOORSTEP_LOG_LEVEL"] = log_level
    if database_url:
        env["DOORSTEP_DATABASE_URL"] = database_url
    return env


def start_doorstep(
    data_dir: Path,
    database_url: str | None,
    log_level: str,
    *,
    email: str,
    password: str,
    settings: dict[str, str] | None = None,
) -> Server:
    """Seed a site and an admin operator with the CLI, then `doorstep serve`; `settings` are
    DOORSTEP_* variables for both."""
    port = free_port()
    env = {**base_env(data_dir, database_url, log_level), **(settings or {})}
    env["DOORSTEP_PORT"] = str(port)
    env["DOORSTEP_HOST"] = "127.0.0.1"
    run_cli(["create-site", "--name", "Bench", "--key", "bench"], env)
    run_cli(
        [
            "create-operator",
            "--email",
            email,
            "--name",
            "Op",
            "--role",
            "admin",
            "--site",
            "bench",
            "--password-stdin",
        ],
        env,
        stdin=password + "\n",
    )
    server = Server(
        "doorstep",
        [doorstep_bin(), "serve", "--port", str(port), "--host", "127.0.0.1"],
        env,
        port,
        data_dir / "server.log",
    )
    try:
        server.wait_healthy()
    except BaseException:
        server.stop()
        raise
    return server


def start_relay(work_dir: Path, log_level: str) -> Server:
    port = free_port()
    server = Server(
        "relay",
        [sys.executable, str(BENCH / "relay.py"), "--port", str(port), "--log-level", log_level],
        base_env(work_dir, None, log_level),
        port,
        work_dir / "relay.log",
    )
    try:
        server.wait_healthy()
    except BaseException:
        server.stop()
        raise
    return server
