"""``benchmarks/adam_floor.py`` runs and reports positive times; bad counts are refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "adam_floor.py"


def _module():
    spec = importlib.util.spec_from_file_location("adam_floor", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_each_part(capsys):
    out = _module().main(["--calls", "2", "--repeats", "1"])
    assert set(out) == {"matmuls_ms", "fcnet_adam_ms", "torch_fused_adam_ms", "copy_gb_s"}
    assert all(v > 0 for v in out.values())
    text = capsys.readouterr().out
    assert "floor (matmuls + fcnet Adam) / matmuls = " in text


def test_zero_calls_is_refused():
    with pytest.raises(SystemExit) as exc:
        _module().main(["--calls", "0"])
    assert exc.value.code == 2
