"""Invariant (f): the exit-code contract.

Divergence at any epoch, the last included, exits 3 in one line; any hand-edited field of
``model.json``, ``checkpoint/state.json`` or ``config.toml`` exits 2 in one line naming the file and
the field (or is a valid value, accepted); every JSON file fcnet writes is strict JSON.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fcnet.train.options import OPTIONS, validate
from fcnet.train.trainer import Trainer
from tests.invariants.harness import fcnet, strict_json, write_toml
from tests.invariants.options_space import HARNESS, configs, count, examples

BAD = st.sampled_from([-5, -1.5, 0, 10**12, "bogus", "", True, [1, "x"], {"a": 1}, None, 1e300])


def _one_line(code: int, log: str, want: int, *needles: str) -> None:
    lines = [ln for ln in log.strip().splitlines() if ln.strip() and not ln.startswith(("note:", "warning"))]
    assert code == want and len(lines) == 1 and "internal error" not in log, (code, log)
    for n in needles:
        assert n in lines[0], (n, lines[0])


@functools.cache
def _base() -> Path:
    d = Path(tempfile.mkdtemp(prefix="fcnet-invariant-"))
    code, log = fcnet(["train", "--data", "digits", "--subset", "60", "--hidden", "4", "--dropout", "0.2",
                       "--epochs", "2", "--early-stopping", "3", "--quiet", "--out", "run"], d)
    assert code == 0, log
    return d / "run"


@settings(max_examples=examples(4, 100), suppress_health_check=list(HealthCheck))
@given(cfg=configs(), at=st.integers(1, 4))
def test_divergence_at_any_epoch_exits_3(tmp_path_factory, cfg, at):
    try:
        validate(cfg)
    except Exception:
        assume(False)
    at = min(at, cfg["epochs"])
    original = Trainer._epoch_steps

    def poisoned(self, *a, **k):
        out = original(self, *a, **k)
        if self.epoch + 1 == at:
            self.params[0].data[...] = float("nan")
        return out

    d = tmp_path_factory.mktemp("diverge")
    toml = write_toml(d / "cfg.toml", cfg)
    with mock.patch.object(Trainer, "_epoch_steps", poisoned):
        code, log = fcnet(["train", "--config", toml, "--out", "run", "--quiet"], d)
    if code == 0:  # early stopping ended the run before epoch `at`
        assert "early stopping" in log and at > json.loads((d / "run" / "summary.json").read_text())["epochs"]
        return
    count("(f) divergence at any epoch exits 3")
    _one_line(code, log, 3, "diverged")
    assert not (d / "run" / "summary.json").exists()
    for p in (d / "run").rglob("*.json"):
        strict_json(p)


def _fields() -> list[tuple[str, str]]:
    model = ["in_features", "hidden", "classes", "activation", "batchnorm", "dropout", "init", "std",
             "negative_slope", "dtype"]
    state = ["epoch", "step_count", "rng", "optimizer", "history", "dropout_rngs", "callbacks", "callback_types"]
    toml = [n for n in OPTIONS if n not in HARNESS]
    return [("model.json", f) for f in model] + [("state.json", f) for f in state] + [("config.toml", f) for f in toml]


@settings(max_examples=examples(10, 300), suppress_health_check=list(HealthCheck))
@given(where=st.sampled_from(_fields()), value=BAD)
def test_a_hand_edited_field_exits_2_naming_file_and_field(tmp_path_factory, where, value):
    count("(f) hand-edited model.json / state.json / config.toml")
    file, field = where
    d = tmp_path_factory.mktemp("edit")
    run = d / "run"
    shutil.copytree(_base(), run)
    if file == "model.json":
        meta = json.loads((run / "model.json").read_text())
        meta["config"][field] = value
        (run / "model.json").write_text(json.dumps(meta))
        np_path = d / "x.npy"
        import numpy as np

        np.save(np_path, np.zeros((1, 64)))
        code, log = fcnet(["predict", "run", "x.npy"], d)
    elif file == "state.json":
        path = run / "checkpoint" / "state.json"
        state = json.loads(path.read_text())
        state[field] = value
        path.write_text(json.dumps(state))
        code, log = fcnet(["train", "--resume", "run", "--epochs", "3", "--quiet"], d)
    else:
        from fcnet.train.options import read_toml

        cfg = read_toml(run / "config.toml")
        if value is None:
            cfg.pop(field, None)
        else:
            cfg[field] = value
        write_toml(run / "config.toml", cfg)
        code, log = fcnet(["train", "--resume", "run", "--epochs", "3", "--quiet"], d)
    if code == 0:  # the value happens to be valid (or, in config.toml, a default put back)
        assert file != "state.json" or value is None, log
        return
    _one_line(code, log, 2, file)
    assert field.replace("_", "-") in log or field in log, log
