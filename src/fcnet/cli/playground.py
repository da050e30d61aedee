"""``fcnet playground``: serve the page that trains nets on the 2-D toys live (127.0.0.1 by default)."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
import threading
import webbrowser
from typing import Any

from fcnet.errors import ConfigError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="train nets on 2-D toys live in the browser (boundaries, gradients, presets)",
                       description="Serve the playground page on HOST:PORT and open it in the browser. "
                                   "Needs the playground extra: pip install 'fcnet[playground]'.")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: 127.0.0.1, this machine only; anything else is reachable "
                        "from other machines)")
    p.add_argument("--max-sessions", type=int, default=None,
                   help="how many pages (students) the server trains for at once, sharing the CPU fairly "
                        "(default: 8; 1 to 500)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument("--export-dir", default="playground-exports",
                   help="where the page's Export writes configs and models (default: playground-exports)")
    p.set_defaults(func=run)


def _import_server() -> Any:
    try:
        import uvicorn

        from fcnet.playground.server import create_app
    except ImportError as exc:
        raise ConfigError(f"fcnet playground needs {exc.name or 'its extra'}: "
                          "pip install 'fcnet[playground]'") from None
    return uvicorn, create_app


def _check_bindable(host: str, port: int) -> None:
    """Refuse in one line, before the server starts, an address this machine cannot listen on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--host {host} is not an address this machine can listen on ({exc}): "
                          "use 127.0.0.1 (the default), 0.0.0.0 or one of this machine's addresses") from None
    for family, kind, proto, _, addr in infos:
        try:
            with socket.socket(family, kind, proto) as sock:
                if sys.platform != "win32":  # as the server's own socket does
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(addr)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.EADDRINUSE:
                fix = "another program listens there: pick another --port (0 picks a free one)"
            elif exc.errno == errno.EADDRNOTAVAIL:
                fix = "it is not an address of this machine: use --host 127.0.0.1 (the default) or 0.0.0.0"
            elif exc.errno == errno.EACCES:
                fix = "ports below 1024 need privileges: pick a --port ≥ 1024 (0 picks a free one)"
            else:
                fix = "pick another --host or --port"
            raise ConfigError(f"cannot listen on --host {host} --port {port} ({reason}); {fix}") from None


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    if args.max_sessions is not None and not 1 <= args.max_sessions <= 500:
        raise ConfigError(f"--max-sessions must be between 1 and 500, got {args.max_sessions}")
    _check_bindable(args.host, args.port)
    uvicorn, create_app = _import_server()
    if args.host not in LOCAL_HOSTS:
        print(f"warning: --host {args.host} makes the playground reachable from other machines; anyone who can "
              "reach it can use this machine's CPU (use the default 127.0.0.1 to keep it local)", file=sys.stderr)
    from threadpoolctl import threadpool_limits

    from fcnet.playground.server import LOCAL_NAMES, WS_MAX_SIZE
    from fcnet.playground.setup import LIMITS

    # sessions are many small matrix products side by side: one BLAS thread each is fastest
    threadpool_limits(limits=1)
    hosts = LOCAL_NAMES if args.host in LOCAL_HOSTS else ("*",)  # elsewhere the user chose to be reachable
    sessions = args.max_sessions or LIMITS["sessions"]
    config = uvicorn.Config(create_app(args.export_dir, max_sessions=sessions, allowed_hosts=hosts), host=args.host,
                            port=args.port, log_level="warning", ws_max_size=WS_MAX_SIZE, ws="websockets-sansio",
                            lifespan="off")  # no startup/shutdown handlers: a second Ctrl-C has no task to cancel
    server = uvicorn.Server(config)

    def announce() -> None:  # once the socket is bound, so that --port 0 prints the port it got
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        port = server.servers[0].sockets[0].getsockname()[1] if server.servers else args.port
        host = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{host}:{port}/"
        print(f"fcnet playground on {url} for up to {sessions} pages at once (Ctrl-C stops it)", flush=True)
        if not args.no_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
    return 0
