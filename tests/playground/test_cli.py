"""``fcnet playground``: binds 127.0.0.1 unless told otherwise, warns when told, says how to get the extra."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest


def start(*args: str) -> tuple[subprocess.Popen, str, str]:
    """Start the command; return it with its announced URL and what stderr said before it."""
    pytest.importorskip("uvicorn", reason="needs the playground extra: pip install 'fcnet[playground]'")
    proc = subprocess.Popen([sys.executable, "-m", "fcnet", "playground", "--no-browser", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    if "playground on" not in line or "pages at once" not in line:
        proc.kill()
        raise AssertionError(f"no URL announced: {line!r} {proc.stderr.read()}")
    return proc, line.split(" on ")[1].split()[0], ""


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def test_default_binds_loopback_without_warning():
    proc, url, _ = start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert b"fcnet playground" in urllib.request.urlopen(url, timeout=10).read()
    finally:
        err = stop(proc)
    assert "warning" not in err


def test_other_host_warns():
    proc, url, _ = start("--host", "127.0.0.2")  # another address, still only on this machine
    try:
        assert url.startswith("http://127.0.0.2:")
        time.sleep(0.2)
    finally:
        err = stop(proc)
    assert "warning: --host 127.0.0.2 makes the playground reachable from other machines" in err


def test_a_second_ctrl_c_during_shutdown_prints_no_traceback():
    """An impatient second Ctrl-C (uvicorn's force quit) while the server shuts down: one line, no traceback."""
    proc, url, _ = start()
    try:
        assert b"fcnet playground" in urllib.request.urlopen(url, timeout=10).read()
        proc.send_signal(signal.SIGINT)
        time.sleep(0.03)  # the first is being handled: the server is closing its connections
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err and "ERROR" not in err, err
    assert err.strip().splitlines() == ["fcnet: interrupted"], err


def test_missing_extra_is_one_line_with_the_pip_command():
    code = ("import sys; sys.modules['uvicorn'] = None\n"
            "from fcnet.cli.main import main; sys.exit(main(['playground', '--no-browser']))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "pip install 'fcnet[playground]'" in run.stderr


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_bad_port(port):
    run = subprocess.run([sys.executable, "-m", "fcnet", "playground", "--no-browser", "--port", port],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--port must be between 0 and 65535" in run.stderr


def test_max_sessions_is_announced_and_enforced():
    from websockets.sync.client import connect

    proc, url, _ = start("--max-sessions", "1")
    try:
        ws_url = url.replace("http://", "ws://") + "ws"
        with connect(ws_url) as a:
            assert json.loads(a.recv(timeout=30))["type"] == "ready"
            with connect(ws_url) as b:
                assert "already runs 1 sessions" in json.loads(b.recv(timeout=30))["message"]
    finally:
        stop(proc)


@pytest.mark.parametrize("n", ["0", "501"])
def test_bad_max_sessions(n):
    run = subprocess.run([sys.executable, "-m", "fcnet", "playground", "--no-browser", "--max-sessions", n],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--max-sessions must be between 1 and 500" in run.stderr
