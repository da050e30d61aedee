"""A playground server on a free port, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, export_dir: Path, max_sessions: int) -> None:
        import uvicorn

        from fcnet.playground.server import WS_MAX_SIZE, create_app

        self.port = free_port()
        self.export_dir = export_dir
        self.app = create_app(export_dir, max_sessions=max_sessions)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                log_level="warning", ws_max_size=WS_MAX_SIZE, ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def wait_until_no_session(self, timeout: float = 20.0) -> None:
        """Wait until every session is closed.  A tab's place is freed when the server's handler for it
        ends, which is after the page has seen its socket close: on a busy machine (tests in parallel) a
        page that reconnects at once may still find the old places taken."""
        t0 = time.monotonic()
        while self.app.state.registry.open:
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"{self.app.state.registry.open} sessions still open {timeout:.0f} s after "
                                     "their pages closed")
            time.sleep(0.02)

    def __enter__(self) -> Server:
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            if time.monotonic() - t0 > 20:
                raise RuntimeError("the playground server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest.importorskip("starlette", reason="needs the playground extra: pip install 'fcnet[playground]'")
    pytest.importorskip("uvicorn", reason="needs the playground extra: pip install 'fcnet[playground]'")
    with Server(tmp_path_factory.mktemp("exports"), max_sessions=2) as s:
        yield s
