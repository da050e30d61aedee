"""Playground speed: training steps per second and boundary frames per second the pages receive.

Starts ``fcnet playground`` in a subprocess (as a user would), connects ``--clients`` WebSocket
clients (asyncio, one process; each parses every frame's JSON as the page does), sets up a net,
presses play on all of them and counts for ``--seconds``: the steps the server ran (from the
frames' step counter) and the frames each client received, each with its 100×100 boundary.
Also measures the session's steps per second in-process without the server, for reference.

Usage: python benchmarks/playground_speed.py [--seconds 10] [--hidden 16,16,16,16,16,16]
       [--points 2000] [--clients 1] [--batch-size 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from fcnet.playground.session import Session
from fcnet.playground.setup import validate


async def _client(url: str, setup: dict, seconds: float, out: list) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps({"type": "setup", "setup": setup}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        await ws.send(json.dumps({"type": "play"}))
        frames, first, last, t0 = 0, None, None, time.perf_counter()
        while time.perf_counter() - t0 < seconds or first is None:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if msg["type"] != "frame" or msg["step"] == 0:
                continue
            if first is None:
                first, t0 = msg["step"], time.perf_counter()
                continue
            assert msg["boundary"]
            frames, last = frames + 1, msg["step"]
        secs = time.perf_counter() - t0
        await ws.send(json.dumps({"type": "pause"}))
    out.append(((last - first) / secs, frames / secs))


def measure_server(setup: dict, seconds: float, clients: int) -> list[tuple[float, float]]:
    """(steps/s, frames/s) per client."""
    proc = subprocess.Popen([sys.executable, "-m", "fcnet", "playground", "--no-browser", "--port", "0",
                             "--max-sessions", str(max(clients, 1)),
                             "--export-dir", tempfile.mkdtemp(prefix="fcnet-playground-")],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split(" on ")[1].split()[0].replace("http://", "ws://") + "ws"
        out: list = []

        async def run() -> None:
            await asyncio.gather(*(_client(url, {**setup, "seed": k}, seconds, out) for k in range(clients)))

        asyncio.run(run())
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def measure_session(setup: dict, seconds: float) -> float:
    session = Session(validate(setup))
    session.advance(0.0, max_steps=50)  # warm-up
    t0, n = time.perf_counter(), session.steps
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            session.step()
    return (session.steps - n) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--hidden", default="8,8", help="hidden widths, e.g. 16,16,16,16,16,16")
    ap.add_argument("--points", type=int, default=400)
    ap.add_argument("--clients", type=int, default=1)
    args = ap.parse_args()
    hidden = [int(h) for h in args.hidden.split(",")]
    setup = {"dataset": "circles", "features": ["x1", "x2"], "hidden": hidden, "activation": "tanh",
             "optimizer": "adam", "lr": 0.03, "batch_size": args.batch_size, "points": args.points}
    load0 = os.getloadavg()
    per = measure_server(setup, args.seconds, args.clients)
    alone = measure_session(setup, min(args.seconds, 5.0))
    load1 = os.getloadavg()
    fps = sorted(f for _, f in per)
    steps = sorted(s for s, _ in per)
    net = "-".join(str(n) for n in [2, *hidden, 2])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"load average before {load0[0]:.2f}, after {load1[0]:.2f} (1 min)")
    print(f"{net} net, circles, {args.points} points, batch {args.batch_size}, Adam, {args.clients} client(s) "
          f"playing for {args.seconds:.0f} s:")
    print(f"  server: training steps/s per client min {steps[0]:.0f} median {steps[len(steps) // 2]:.0f}; "
          f"boundary frames/s per client min {fps[0]:.1f} median {fps[len(fps) // 2]:.1f} max {fps[-1]:.1f}")
    print(f"  session alone (no server, no frames): {alone:.0f} training steps/s")


if __name__ == "__main__":
    main()
