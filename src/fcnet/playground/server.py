"""The playground's web server: a Starlette app with the static page and one WebSocket per tab.

Messages from the page (JSON objects, at most ``MAX_MESSAGE`` bytes):
``{"type": "setup", "setup": {...}}`` (checked by ``setup.validate``; a new session), ``play``,
``pause``, ``step``, ``reset``, ``export``.  Replies: ``ready``, ``points``, ``frame``, ``exported``
and ``error`` (with a one-line ``message``).  Training runs in a worker thread
(``asyncio.to_thread``) so the event loop keeps serving other tabs; the session ends when its
socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from fcnet.errors import FcnetError
from fcnet.playground.export import export
from fcnet.playground.presets import PRESETS
from fcnet.playground.session import Session
from fcnet.playground.setup import FEATURES, LIMITS, default_setup, validate

__all__ = ["FRAME_SECONDS", "LOCAL_NAMES", "MAX_MESSAGE", "create_app"]

FRAME_SECONDS = 1 / 20  # training time between two frames while playing
MAX_MESSAGE = 64 * 1024  # bytes of one message from the page
LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


class _Registry:
    """How many sessions are open; refuses more than ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit, self.open = limit, 0

    def acquire(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def release(self) -> None:
        self.open -= 1


def create_app(export_dir: str | Path, max_sessions: int = LIMITS["sessions"],
               allowed_hosts: tuple[str, ...] = LOCAL_NAMES) -> Starlette:
    """The ASGI app: ``/`` the page, ``/static/*`` its files, ``/api/info`` presets and bounds, ``/ws`` sessions.

    Requests must name one of ``allowed_hosts`` in their Host header (so a web site that
    re-points its own name at 127.0.0.1 reaches nothing), and a WebSocket opened by a page
    must come from the server's own origin (so another site open in the browser cannot drive
    the playground).
    """
    export_dir = Path(export_dir)
    registry = _Registry(max_sessions)
    static = resources.files("fcnet.playground") / "static"

    async def info(request: Any) -> JSONResponse:
        return JSONResponse({"presets": PRESETS, "limits": LIMITS, "features": list(FEATURES),
                             "default": default_setup()})

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    async def ws_endpoint(ws: WebSocket) -> None:
        origin = ws.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=1008)  # before accepting: the handshake is refused (HTTP 403)
            return
        await ws.accept()
        if not registry.acquire():
            await ws.send_json({"type": "error", "message": f"the server already runs {registry.limit} sessions; "
                                "close another playground tab and reload"})
            await ws.close(code=1013)
            return
        try:
            await _serve(ws, export_dir)
        finally:
            registry.release()

    routes = [Route("/", index), Route("/api/info", info), WebSocketRoute("/ws", ws_endpoint),
              Mount("/static", StaticFiles(directory=str(static)), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))])
    app.state.registry = registry
    return app


async def _receive(ws: WebSocket, queue: asyncio.Queue[Any]) -> None:
    """Put each message from the page on ``queue`` (None when the socket closes)."""
    try:
        while True:
            text = await ws.receive_text()
            if len(text) > MAX_MESSAGE:
                await queue.put(FcnetError(f"message of {len(text)} bytes refused: at most {MAX_MESSAGE}"))
                continue
            try:
                msg = json.loads(text)
            except json.JSONDecodeError:
                msg = FcnetError("a message must be a JSON object")
            await queue.put(msg)
    except (WebSocketDisconnect, RuntimeError, KeyError):
        pass
    finally:
        await queue.put(None)


async def _serve(ws: WebSocket, export_dir: Path) -> None:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    reader = asyncio.create_task(_receive(ws, queue))
    session = await asyncio.to_thread(Session, validate({}))
    playing = False
    await ws.send_json({"type": "ready", "setup": session.setup})
    await ws.send_json(session.points())
    await ws.send_json(await asyncio.to_thread(session.frame))
    try:
        while True:
            if playing and queue.empty():
                frame = await asyncio.to_thread(session.advance, FRAME_SECONDS)
                if frame["diverged"]:
                    playing = False
                await ws.send_json(frame)
                continue
            msg = await queue.get()
            if msg is None:
                return
            try:
                session, playing, replies = await _handle(msg, session, playing, export_dir)
            except FcnetError as exc:
                replies = [{"type": "error", "message": str(exc)}]
            for reply in replies:
                await ws.send_json(reply)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _handle(msg: Any, session: Session, playing: bool, export_dir: Path
                  ) -> tuple[Session, bool, list[dict[str, Any]]]:
    """Apply one message; returns the (maybe new) session, whether it plays, and the replies."""
    if isinstance(msg, FcnetError):
        raise msg
    kind = msg.get("type") if isinstance(msg, dict) else None
    if kind == "setup":
        setup = validate(msg.get("setup"))
        session = await asyncio.to_thread(Session, setup)
        return session, False, [{"type": "ready", "setup": setup}, session.points(),
                                await asyncio.to_thread(session.frame)]
    if kind == "reset":
        session = await asyncio.to_thread(Session, session.setup)
        return session, False, [{"type": "ready", "setup": session.setup}, session.points(),
                                await asyncio.to_thread(session.frame)]
    if kind == "play":
        return session, True, []
    if kind == "pause":
        return session, False, [await asyncio.to_thread(session.frame)]
    if kind == "step":
        return session, False, [await asyncio.to_thread(session.advance, 0.0, 1)]
    if kind == "export":
        return session, playing, [await asyncio.to_thread(export, session, export_dir)]
    raise FcnetError(f"unknown message type {str(kind)[:40]!r}: send setup, play, pause, step, reset or export")
