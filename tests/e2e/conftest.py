"""Browser tests: a real `doorstep demo` process, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

# CI machines are shared and small: give live updates time rather than failing on a slow tick.
expect.set_options(timeout=15_000)

CHROMIUM = os.environ.get("DOORSTEP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class DemoServer:
    """`doorstep demo` in its own process, restartable on the same port and data."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self.credentials: dict[str, str] = {}
        self.log = data_dir / "server.log"

    def start(self) -> None:
        log = self.log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "doorstep.cli", "demo", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        for _ in range(4):
            line = self.process.stdout.readline()
            key, _, value = line.strip().partition(": ")
            self.credentials[key] = value
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.process is not None and self.process.poll() is None, self.log.read_text()
            time.sleep(0.05)
        raise TimeoutError("demo server did not become ready")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_demo(folder: Path, **settings: str) -> Iterator[DemoServer]:
    """`doorstep demo` with its data in `folder` and DOORSTEP_* `settings`, stopped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    env.update(DOORSTEP_DATA_DIR=str(folder / "data"), DOORSTEP_LOG_LEVEL="warning", **settings)
    server = DemoServer(folder, _free_port(), env)
    env["DOORSTEP_PUBLIC_URL"] = server.url
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    with running_demo(tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; scripts/test installs it with apt")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def credentials(demo: DemoServer) -> tuple[str, str]:
    return demo.credentials["Email"], demo.credentials["Password"]


URL_RE = re.compile(r"^https?://")


def api_client(demo: DemoServer) -> httpx.Client:
    """The REST API as the demo's admin, with a token made by `doorstep create-token`."""
    token = subprocess.run(
        [sys.executable, "-m", "doorstep.cli", "create-token", "--email", credentials(demo)[0]],
        env=demo.env,
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    ).stdout.strip()
    return httpx.Client(
        base_url=f"{demo.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def set_autoreply_rules(demo: DemoServer, *rules: dict) -> None:
    """Replace the demo site's automatic-reply rules: the defaults depend on the time of day,
    and a browser test must not."""
    with api_client(demo) as api:
        (site,) = api.get("/sites").json()["data"]
        for rule in api.get("/autoreply-rules", params={"site_id": site["id"]}).json()["data"]:
            api.delete(f"/autoreply-rules/{rule['id']}").raise_for_status()
        for rule in rules:
            api.post("/autoreply-rules", json={"site_id": site["id"], **rule}).raise_for_status()
