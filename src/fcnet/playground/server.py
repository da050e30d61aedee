"""The playground's web server: a Starlette app with the static page and one WebSocket per tab.

Messages from the page (JSON objects, at most ``MAX_MESSAGE`` bytes):
``{"type": "setup", "setup": {...}}`` (checked by ``setup.validate``; a new session), ``play``,
``pause``, ``step``, ``reset``, ``export`` and ``{"type": "speed", "steps_per_second": s}`` (s from
``MIN_SPEED`` up, or null for full speed).  Replies: ``ready``, ``points``, ``frame``, ``exported``
and ``error`` (with a one-line ``message``; the session goes on).

Training runs in worker threads (``asyncio.to_thread``) so the event loop keeps serving other
tabs.  Playing sessions take turns through one first-come-first-served ``Scheduler`` (as many
turns at once as the machine has cores), and each turn trains for ``FRAME_SECONDS / playing``,
so N students on one machine get the same share each.  A session ends when its socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
from collections import deque
from collections.abc import AsyncIterator
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
from fcnet.playground.setup import DATASETS, FEATURES, LIMITS, REGRESSIONS, default_setup, validate

__all__ = ["EXPORT_SECONDS", "FRAME_SECONDS", "LOCAL_NAMES", "MAX_MESSAGE", "MIN_SPEED", "WS_MAX_SIZE", "Scheduler",
           "create_app"]

FRAME_SECONDS = 1 / 20  # time between two frames while playing (training plus drawing)
MAX_MESSAGE = 64 * 1024  # bytes of one message from the page; longer ones are refused with a message
WS_MAX_SIZE = 1024 * 1024  # the WebSocket layer closes the connection above this (memory bound per message)
MIN_SPEED = 0.5  # steps per second, the slowest pace the page offers
EXPORT_SECONDS = 2.0  # one export per page in this many seconds
EXPORTS_PER_MINUTE = 30  # and this many for the whole server
LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
HEADERS = [(b"content-security-policy", b"frame-ancestors 'self'"), (b"x-frame-options", b"SAMEORIGIN"),
           (b"x-content-type-options", b"nosniff")]


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


class Scheduler:
    """Fair shares of the CPU for the playing sessions: turns granted first come, first served.

    At most ``slots`` turns run at once (one per core); a session queues again after each turn,
    so with N sessions playing each gets one turn in N.  A turn trains for ``slice()`` seconds.
    """

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self.gate = asyncio.Semaphore(self.slots)
        self.playing = 0
        self.exports: deque[float] = deque()

    def slice(self, overhead: float) -> float:
        """Training seconds of one turn: this session's share of FRAME_SECONDS less the rest of its cycle
        (drawing the frame, sending it, waiting for threads), as measured on its last turns.
        """
        share = FRAME_SECONDS * min(1.0, self.slots / max(1, self.playing))
        return max(share / 4, share - overhead)  # a slow machine still leaves a quarter of the turn to train

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self.gate:
            yield

    def allow_export(self) -> bool:
        now = time.monotonic()
        while self.exports and now - self.exports[0] > 60:
            self.exports.popleft()
        if len(self.exports) >= EXPORTS_PER_MINUTE:
            return False
        self.exports.append(now)
        return True


class _SecurityHeaders:
    """Adds HEADERS to every HTTP response: no other site may frame the page."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(export_dir: str | Path, max_sessions: int = LIMITS["sessions"],
               allowed_hosts: tuple[str, ...] = LOCAL_NAMES, cores: int | None = None) -> Starlette:
    """The ASGI app: ``/`` the page, ``/static/*`` its files, ``/api/info`` presets and bounds, ``/ws`` sessions.

    Requests must name one of ``allowed_hosts`` in their Host header (so a web site that
    re-points its own name at 127.0.0.1 reaches nothing), a WebSocket opened by a page
    must come from the server's own origin (so another site open in the browser cannot drive
    the playground), and no other site may frame the page (``frame-ancestors 'self'``).
    """
    export_dir = Path(export_dir)
    registry = _Registry(max_sessions)
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    scheduler: Scheduler | None = None  # made on the event loop, at the first session
    static = resources.files("fcnet.playground") / "static"

    async def info(request: Any) -> JSONResponse:
        return JSONResponse({"presets": PRESETS, "limits": LIMITS, "features": list(FEATURES),
                             "datasets": list(DATASETS), "regressions": list(REGRESSIONS),
                             "default": default_setup(), "min_speed": MIN_SPEED})

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    async def ws_endpoint(ws: WebSocket) -> None:
        nonlocal scheduler
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
        if scheduler is None:
            scheduler = Scheduler(cores)
        try:
            await _Connection(ws, export_dir, scheduler).serve()
        finally:
            registry.release()

    routes = [Route("/", index), Route("/api/info", info), WebSocketRoute("/ws", ws_endpoint),
              Mount("/static", StaticFiles(directory=str(static)), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders),
                                               Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))])
    app.state.registry = registry
    return app


async def _receive(ws: WebSocket, queue: asyncio.Queue[Any]) -> None:
    """Put each message from the page on ``queue`` (a refusal for a bad one; None when the socket closes).

    The queue is bounded: a page that sends faster than its session answers waits.
    """
    try:
        while True:
            raw = await ws.receive()
            if raw["type"] == "websocket.disconnect":
                break
            text = raw.get("text")
            if text is None:
                await queue.put(FcnetError("a message must be JSON text, not binary"))
                continue
            if len(text) > MAX_MESSAGE:
                await queue.put(FcnetError(f"message of {len(text)} characters refused: at most {MAX_MESSAGE}"))
                continue
            try:
                msg = json.loads(text)
            except RecursionError:
                msg = FcnetError("a message nested too deeply refused: send a flat JSON object")
            except ValueError:
                msg = FcnetError("a message must be a JSON object")
            await queue.put(msg)
    except (WebSocketDisconnect, RuntimeError, KeyError):
        pass
    finally:
        await queue.put(None)


class _Connection:
    """One page: its session, whether it plays and at what pace, and its messages."""

    def __init__(self, ws: WebSocket, export_dir: Path, scheduler: Scheduler) -> None:
        self.ws, self.export_dir, self.scheduler = ws, export_dir, scheduler
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=32)
        self.playing = False
        self.speed: float | None = None  # steps per second; None: as fast as the turns allow
        self.tokens = 0.0  # steps owed at this speed
        self.clock = 0.0
        self.last_export = -math.inf
        self.sending: asyncio.Task[None] | None = None
        self.overhead = 0.0  # seconds of a playing cycle not spent training (see Scheduler.slice)

    def set_playing(self, playing: bool) -> None:
        if playing != self.playing:
            self.scheduler.playing += 1 if playing else -1
            self.playing = playing
            self.tokens, self.clock = 0.0, time.monotonic()

    async def serve(self) -> None:
        reader = asyncio.create_task(_receive(self.ws, self.queue))
        getter: asyncio.Task[Any] | None = None
        # validate makes the toy's points to count them (in a thread, as the session: off the event loop)
        self.session = await asyncio.to_thread(lambda: Session(validate({})))
        await self.ws.send_json({"type": "ready", "setup": self.session.setup})
        await self.ws.send_json(self.session.points())
        await self.ws.send_json(await asyncio.to_thread(self.session.frame))
        try:
            while True:
                wait = self._due_in() if self.playing else None
                if getter is None:
                    getter = asyncio.create_task(self.queue.get())
                if wait is not None and wait <= 0 and not getter.done():
                    try:
                        await self._play_turn()
                    except (WebSocketDisconnect, RuntimeError):
                        raise
                    except Exception as exc:  # the session pauses and stays, as for a message it could not do
                        self.set_playing(False)
                        await self._flush()
                        await self.ws.send_json({"type": "error", "message": "training stopped: the server could "
                                                 f"not go on ({type(exc).__name__}); the session is paused"})
                    continue
                done, _ = await asyncio.wait({getter}, timeout=wait)
                if not done:
                    continue
                msg, getter = getter.result(), None
                if msg is None:
                    return
                try:
                    replies = await self._handle(msg)
                except FcnetError as exc:
                    replies = [{"type": "error", "message": str(exc)}]
                except Exception as exc:
                    replies = [{"type": "error", "message": f"the server could not do that ({type(exc).__name__}); "
                                "the session goes on"}]
                await self._flush()
                for reply in replies:
                    await self.ws.send_json(reply)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            self.set_playing(False)
            for task in (reader, getter, self.sending):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):  # a send to a closed socket
                        await task

    def _due_in(self) -> float:
        """Seconds until the next frame is due (0: now).  At a set speed, steps are owed as time passes."""
        if self.speed is None:
            return 0.0
        now = time.monotonic()
        quota = max(1.0, self.speed * FRAME_SECONDS)  # steps per frame: one frame per step when slow
        self.tokens = min(self.tokens + self.speed * (now - self.clock), 2 * quota)  # no backlog when behind
        self.clock = now
        return 0.0 if self.tokens >= quota else (quota - self.tokens) / self.speed

    async def _play_turn(self) -> None:
        start = time.perf_counter()
        async with self.scheduler.turn():
            seconds = self.scheduler.slice(self.overhead)
            trained = time.perf_counter()
            if self.speed is None:
                frame = await asyncio.to_thread(self.session.advance, seconds)
            else:
                before = self.session.steps
                frame = await asyncio.to_thread(self.session.advance, seconds, int(self.tokens))
                self.tokens -= self.session.steps - before
            trained = time.perf_counter() - trained - self.session.frame_seconds  # the training part of the turn
        if frame["diverged"]:
            self.set_playing(False)
        await self._flush()
        # sent while the next turn trains: encoding and writing overlap the training
        self.sending = asyncio.create_task(self.ws.send_json(frame))
        if self.speed is None:  # what a cycle costs besides training, smoothed over the last few turns
            self.overhead = 0.7 * self.overhead + 0.3 * max(0.0, time.perf_counter() - start - trained)

    async def _flush(self) -> None:
        """Wait for the frame in flight (so that replies keep their order)."""
        if self.sending is not None:
            sending, self.sending = self.sending, None
            await sending

    async def _handle(self, msg: Any) -> list[dict[str, Any]]:
        """Apply one message; returns the replies."""
        if isinstance(msg, FcnetError):
            raise msg
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind in ("setup", "reset"):
            setup = await asyncio.to_thread(validate, msg.get("setup")) if kind == "setup" else self.session.setup
            self.session = await asyncio.to_thread(Session, setup)
            self.set_playing(False)
            return [{"type": "ready", "setup": setup}, self.session.points(),
                    await asyncio.to_thread(self.session.frame)]
        if kind == "play":
            self.set_playing(True)
            return []
        if kind == "pause":
            self.set_playing(False)
            return [await asyncio.to_thread(self.session.frame)]
        if kind == "step":
            self.set_playing(False)
            return [await asyncio.to_thread(self.session.advance, 0.0, 1)]
        if kind == "speed":
            value = msg.get("steps_per_second")
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not MIN_SPEED <= value <= 1e6):
                raise FcnetError(f"steps_per_second must be a number from {MIN_SPEED} to 1e6, or null for full "
                                 f"speed; got {str(value)[:40]}")
            self.speed = None if value is None else float(value)
            self.tokens, self.clock = 0.0, time.monotonic()
            return [{"type": "speed", "steps_per_second": self.speed}]
        if kind == "export":
            now = time.monotonic()
            if now - self.last_export < EXPORT_SECONDS:
                raise FcnetError(f"one export every {EXPORT_SECONDS:g} s per page: wait a moment and export again")
            if not self.scheduler.allow_export():
                raise FcnetError(f"the server writes at most {EXPORTS_PER_MINUTE} exports a minute: "
                                 "try again in a minute")
            self.last_export = now
            return [await asyncio.to_thread(export, self.session, self.export_dir)]
        raise FcnetError(f"unknown message type {str(kind)[:40]!r}: send setup, play, pause, step, speed, reset "
                         "or export")
