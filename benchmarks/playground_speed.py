"""Playground speed: training steps per second and boundary frames per second a page receives.

Starts ``fcnet playground`` in a subprocess (as a user would), connects one WebSocket client,
sets up a 2-8-8-2 net (features x₁, x₂; two hidden layers of 8; the two-class circles), presses
play and counts for ``--seconds``: the steps the server ran (from the frames' step counter) and
the frames the client received, each with its boundary heatmap.  Also measures the session's
steps per second in-process without the server, for reference.

Usage: .venv/bin/python benchmarks/playground_speed.py [--seconds 10] [--batch-size 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from websockets.sync.client import connect

from fcnet.playground.session import Session
from fcnet.playground.setup import validate


def measure_server(setup: dict, seconds: float) -> tuple[float, float, float]:
    proc = subprocess.Popen([sys.executable, "-m", "fcnet", "playground", "--no-browser", "--port", "0",
                             "--export-dir", tempfile.mkdtemp(prefix="fcnet-playground-")],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split(" on ")[1].split()[0]
        with connect(url.replace("http://", "ws://") + "ws", max_size=2**24) as ws:
            ws.send(json.dumps({"type": "setup", "setup": setup}))
            while json.loads(ws.recv())["type"] != "ready":
                pass
            ws.send(json.dumps({"type": "play"}))
            frames, first, last, t0 = 0, None, None, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                msg = json.loads(ws.recv(timeout=30))
                if msg["type"] != "frame" or msg["step"] == 0:
                    continue
                if first is None:
                    first, t0 = msg["step"], time.perf_counter()
                    continue
                assert msg["boundary"]
                frames, last = frames + 1, msg["step"]
            secs = time.perf_counter() - t0
            ws.send(json.dumps({"type": "pause"}))
        return (last - first) / secs, frames / secs, secs
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
    args = ap.parse_args()
    setup = {"dataset": "circles", "features": ["x1", "x2"], "hidden": [8, 8], "activation": "tanh",
             "optimizer": "adam", "lr": 0.03, "batch_size": args.batch_size, "points": 400}
    load0 = os.getloadavg()
    steps, frames, secs = measure_server(setup, args.seconds)
    alone = measure_session(setup, min(args.seconds, 5.0))
    load1 = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"load average before {load0[0]:.2f}, after {load1[0]:.2f} (1 min)")
    print(f"2-8-8-2 net, circles, batch {args.batch_size}, Adam, playing for {secs:.1f} s:")
    print(f"  server: {steps:.0f} training steps/s, client received {frames:.1f} boundary frames/s")
    print(f"  session alone (no server, no frames): {alone:.0f} training steps/s")


if __name__ == "__main__":
    main()
