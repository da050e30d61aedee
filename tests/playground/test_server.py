"""The server through its real HTTP and WebSocket API: refusals with messages, bounds, no file access."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from fcnet.train.options import load_config

ws_client = pytest.importorskip("websockets.sync.client")


def recv(ws, kind, limit=20):
    """The next message of type ``kind`` (frames and others before it are skipped)."""
    for _ in range(limit):
        msg = json.loads(ws.recv(timeout=20))
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind!r} message")


def test_page_and_info_are_served(server):
    html = urllib.request.urlopen(server.url, timeout=10).read().decode()
    assert "fcnet playground" in html and "/static/app.js" in html and "http" not in html.split("<body>")[1]
    info = json.loads(urllib.request.urlopen(server.url + "api/info", timeout=10).read())
    assert info["limits"]["layers"] == 6 and info["limits"]["units"] == 16
    assert {p["id"] for p in info["presets"]} >= {"width-3", "sigmoid-deep", "init-small", "lr-high"}
    assert all(p["claim"]["en"] and p["claim"]["zh"] for p in info["presets"])


@pytest.mark.parametrize("path", ["static/../server.py", "static/%2e%2e/server.py", "static/..%2fsetup.py",
                                  "etc/passwd", "static/../../../../etc/passwd"])
def test_no_file_outside_the_static_folder(server, path):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + path, timeout=10)
    assert err.value.code == 404


def test_bad_values_are_refused_and_the_session_goes_on(server):
    with ws_client.connect(server.ws_url) as ws:
        ready = recv(ws, "ready")
        assert ready["setup"]["dataset"] == "spirals"
        for setup, words in (({"activation": "softplus"}, "activation"), ({"hidden": [4] * 7}, "at most 6 layers"),
                             ({"hidden": [17]}, "1 to 16 units"), ({"points": 100000}, "points"),
                             ({"lr": "abc"}, "lr"), ({"dataset": "../../etc/passwd"}, "dataset")):
            ws.send(json.dumps({"type": "setup", "setup": setup}))
            err = recv(ws, "error")
            assert words in err["message"] and "\n" not in err["message"]
        ws.send("not json")
        assert "JSON" in recv(ws, "error")["message"]
        ws.send(json.dumps({"type": "eval", "code": "import os"}))
        assert "unknown message type" in recv(ws, "error")["message"]
        ws.send(json.dumps({"type": "setup", "setup": {"dataset": "xor", "hidden": [3]}}))
        assert recv(ws, "ready")["setup"]["hidden"] == [3]
        assert recv(ws, "frame")["step"] == 0
        ws.send(json.dumps({"type": "step"}))
        assert recv(ws, "frame")["step"] == 1


def test_malformed_messages_get_a_one_line_refusal_and_the_session_goes_on(server):
    with ws_client.connect(server.ws_url, max_size=2**24) as ws:
        recv(ws, "ready")
        for raw, words in (
            (json.dumps({"type": "setup", "setup": {"features": ["x1"] * 100000}}), "at most 65536"),  # > 64 KB
            ("[" * 30000 + "]" * 30000, "nested too deeply"),
            ('{"type": "setup", "setup": {"points": 1' + "0" * 400 + "}}", "points"),  # 10**400
            (json.dumps({"type": "setup", "setup": {"lr": 1e308 * 10}}).replace("Infinity", "1e999"), "lr"),
            (b"\x00\x01binary", "JSON text"),
            (json.dumps({"type": "speed", "steps_per_second": "fast"}), "steps_per_second"),
            (json.dumps(["setup"]), "unknown message type"),
        ):
            ws.send(raw)
            err = recv(ws, "error")
            assert words in err["message"] and "\n" not in err["message"], err
        ws.send(json.dumps({"type": "step"}))  # the same session, still there
        assert recv(ws, "frame")["step"] == 1


def test_sessions_are_bounded_and_freed_when_a_tab_closes(server):
    server.wait_until_no_session()  # the tabs of the tests before this one (module-scoped server)
    with ws_client.connect(server.ws_url) as a, ws_client.connect(server.ws_url) as b:
        recv(a, "ready")
        recv(b, "ready")
        with ws_client.connect(server.ws_url) as c:
            assert "already runs 2 sessions" in recv(c, "error")["message"]
    server.wait_until_no_session()  # the two closed tabs free their places (once their handlers end) ...
    with ws_client.connect(server.ws_url) as d:  # ... and a new tab gets one
        recv(d, "ready")


def test_play_streams_frames_and_pause_stops_them(server):
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready")
        recv(ws, "frame")
        ws.send(json.dumps({"type": "play"}))
        steps = [recv(ws, "frame")["step"] for _ in range(5)]
        assert steps == sorted(steps) and steps[-1] > steps[0]
        ws.send(json.dumps({"type": "pause"}))
        last = None
        for _ in range(50):  # frames already in flight, then the pause's own frame
            msg = json.loads(ws.recv(timeout=20))
            if msg["step"] == last:
                break
            last = msg["step"]
        ws.send(json.dumps({"type": "step"}))
        assert recv(ws, "frame")["step"] == last + 1


def test_export_is_a_config_that_fcnet_train_accepts(server, tmp_path):
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready")
        ws.send(json.dumps({"type": "setup", "setup": {"dataset": "moons", "features": ["x1", "x2", "sin(x1)"],
                                                       "optimizer": "momentum", "lr": 0.05, "l2": 0.001}}))
        recv(ws, "ready")
        recv(ws, "frame")
        ws.send(json.dumps({"type": "step"}))
        assert recv(ws, "frame")["step"] == 1
        ws.send(json.dumps({"type": "export", "path": "/tmp/elsewhere"}))
        out = recv(ws, "exported")
    directory = server.export_dir / out["directory"]
    assert directory.parent == server.export_dir  # the page chooses no path
    opts = load_config(directory / "config.toml")
    assert opts["optimizer"] == "momentum" and opts["lr"] == 0.05 and opts["hidden"] == [8, 8]
    assert (directory / "model" / "model.safetensors").is_file()
    run = subprocess.run([sys.executable, "-m", "fcnet", "train", "--config", str(directory / "config.toml"),
                          "--epochs", "2", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["architecture"].endswith("3 → 8 → 8 → 2")  # three features in, the moons' two classes out
    ev = subprocess.run([sys.executable, "-m", "fcnet", "eval", str(directory / "model")], capture_output=True,
                        text=True, timeout=120, cwd=tmp_path)
    assert ev.returncode == 0 and "test accuracy" in ev.stdout, ev.stderr
    from fcnet.train.io import load_model

    model, _, meta = load_model(directory / "model")
    assert model.config["in_features"] == 3 and meta["playground"]["dataset"] == "moons"


def test_other_sites_reach_nothing(server):
    from websockets.exceptions import InvalidStatus

    req = urllib.request.Request(server.url, headers={"Host": "rebound.example:80"})  # DNS rebinding
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400
    with pytest.raises(InvalidStatus) as refused:  # a page of another site opening the socket
        ws_client.connect(server.ws_url, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    with ws_client.connect(server.ws_url, origin=f"http://127.0.0.1:{server.port}") as ws:
        assert recv(ws, "ready")["setup"]


def test_training_does_not_block_the_server(server):
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready")
        ws.send(json.dumps({"type": "setup", "setup": {"hidden": [16] * 6, "points": 2000, "batch_size": 64}}))
        recv(ws, "ready")
        ws.send(json.dumps({"type": "play"}))
        recv(ws, "frame")
        waits = []
        for _ in range(3):
            t0 = time.perf_counter()
            urllib.request.urlopen(server.url + "api/info", timeout=10).read()
            waits.append(time.perf_counter() - t0)
        frames = [recv(ws, "frame")["step"] for _ in range(3)]
    assert min(waits) < 0.5 and frames[-1] > frames[0]  # answered while the other tab keeps training


def test_no_other_site_can_frame_the_page(server):
    with urllib.request.urlopen(server.url, timeout=10) as r:
        assert r.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_exports_are_rate_limited(server):
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready")
        ws.send(json.dumps({"type": "export"}))
        assert recv(ws, "exported")["directory"]
        ws.send(json.dumps({"type": "export"}))
        assert "one export every 2 s" in recv(ws, "error")["message"]
        ws.send(json.dumps({"type": "step"}))
        assert recv(ws, "frame")["step"] == 1


def test_a_read_only_export_directory_is_a_clear_message(tmp_path):
    import os

    from conftest import Server

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    target = ro / "exports"
    if os.access(ro, os.W_OK):  # root may write anywhere: a folder under a plain file is as unwritable
        (tmp_path / "plain").write_text("")
        target = tmp_path / "plain" / "exports"
    with Server(target, max_sessions=1) as srv, ws_client.connect(srv.ws_url) as ws:
        recv(ws, "ready")
        ws.send(json.dumps({"type": "export"}))
        msg = recv(ws, "error")["message"]
        assert "cannot write the export" in msg and "--export-dir" in msg and "\n" not in msg
        ws.send(json.dumps({"type": "step"}))
        assert recv(ws, "frame")["step"] == 1


def test_speed_control_paces_the_steps(server):
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready")
        recv(ws, "frame")
        ws.send(json.dumps({"type": "speed", "steps_per_second": 4}))
        assert recv(ws, "speed")["steps_per_second"] == 4
        ws.send(json.dumps({"type": "play"}))
        t0 = time.monotonic()
        steps = [recv(ws, "frame")["step"] for _ in range(6)]
        took = time.monotonic() - t0
        assert steps == list(range(1, 7))  # one frame per step when slow: every step can be watched
        assert 1.0 < took < 4.0  # six steps at 4 steps/s: about 1.5 s
        ws.send(json.dumps({"type": "speed", "steps_per_second": None}))
        recv(ws, "speed")
        fast = [recv(ws, "frame") for _ in range(3)]
        assert fast[-1]["step"] - fast[0]["step"] > 20  # full speed: many steps between frames
        assert fast[-1]["epoch"] == fast[-1]["step"] * 10 / 200  # the epoch counter: steps · B / N
        ws.send(json.dumps({"type": "pause"}))


def test_regression_task_through_the_socket(server):
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready")
        ws.send(json.dumps({"type": "setup", "setup": {"dataset": "reg-gauss"}}))
        assert recv(ws, "ready")["setup"]["loss"] == "mse"
        assert recv(ws, "points")["regression"]
        ws.send(json.dumps({"type": "step"}))
        f = recv(ws, "frame")
        assert f["regression"] and f["test_accuracy"] is None
        ws.send(json.dumps({"type": "export"}))
        assert "regression" in recv(ws, "error")["message"]


def test_a_failure_while_playing_is_a_message_and_the_session_goes_on(server, monkeypatch):
    from fcnet.playground.session import Session

    advance = Session.advance

    def failing(self, seconds, max_steps=None):
        if seconds > 0:  # the play turns only
            raise ValueError("no")
        return advance(self, seconds, max_steps)

    monkeypatch.setattr(Session, "advance", failing)
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready")
        ws.send(json.dumps({"type": "play"}))
        err = recv(ws, "error")
        assert "ValueError" in err["message"] and "\n" not in err["message"]
        ws.send(json.dumps({"type": "step"}))  # the session is still there, paused
        assert recv(ws, "frame")["step"] == 1


def test_checking_a_setup_does_not_block_the_server(server, monkeypatch):  # it makes the toy's points
    from fcnet.playground import server as module

    validate = module.validate

    def slow(raw):
        if raw:  # the setup message's, not the first session's
            time.sleep(1.0)
        return validate(raw)

    monkeypatch.setattr(module, "validate", slow)
    with ws_client.connect(server.ws_url) as ws:
        recv(ws, "ready", limit=50)
        ws.send(json.dumps({"type": "setup", "setup": {"dataset": "moons"}}))
        time.sleep(0.2)
        t0 = time.perf_counter()
        urllib.request.urlopen(server.url + "api/info", timeout=10).read()
        wait = time.perf_counter() - t0
        assert recv(ws, "ready")["setup"]["dataset"] == "moons"
    assert wait < 0.5  # answered while the other tab's setup is being checked
