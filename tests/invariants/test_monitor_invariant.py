"""Invariant (d): --monitor on and off give bit-identical weights (watching never changes training)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from safetensors.numpy import load_file

from fcnet.errors import ConfigError, DivergenceError
from fcnet.train.options import validate
from fcnet.train.recipe import run
from tests.invariants.options_space import configs, count, examples


@settings(max_examples=examples(6, 200), suppress_health_check=list(HealthCheck))
@given(cfg=configs())
def test_monitor_on_and_off_give_bit_identical_weights(cfg):
    try:
        validate(cfg)
    except ConfigError:
        assume(False)
    results = []
    with tempfile.TemporaryDirectory() as d:
        for monitor in (True, False):
            out = Path(d) / str(monitor)
            try:
                run({**cfg, "monitor": monitor}, out, progress=False, log=lambda m: None, plots=False)
            except DivergenceError:
                results.append("diverged")
                continue
            results.append({k: v.tobytes() for k, v in load_file(str(out / "model.safetensors")).items()})
    assume(results[0] != "diverged" or results[1] != "diverged")
    count("(d) --monitor on/off: identical weights")
    assert results[0] == results[1]
