"""Running fcnet as a user would, in-process or killed by a real signal at the end of a chosen epoch."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomli_w

from fcnet.cli import main as cli_main

ENV = {**os.environ, "FCNET_OFFLINE": "1"}

# kill this process with SIGNAL at the end of epoch EPOCH (after its checkpoint and history line)
_KILLER = """
import os, signal, sys
from fcnet.train import callbacks
epoch, sig = int(sys.argv[1]), getattr(signal, sys.argv[2])
original = callbacks.CSVLogger.on_epoch_end
def on_epoch_end(self, trainer, e, logs):
    original(self, trainer, e, logs)
    if e == epoch:
        os.kill(os.getpid(), sig)
        while sig != signal.SIGKILL:  # the handler raises at the next bytecode
            pass
callbacks.CSVLogger.on_epoch_end = on_epoch_end
from fcnet.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def fcnet(args: list[Any], cwd: Path) -> tuple[int, str]:
    """``fcnet ARGS`` in this process, in ``cwd``: (exit code, stderr + stdout)."""
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main.main([str(a) for a in args])
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return code, err.getvalue() + out.getvalue()


def killed_at(epoch: int, sig: str, args: list[Any], cwd: Path) -> tuple[int, str]:
    """``fcnet ARGS`` in a new process that receives ``sig`` at the end of ``epoch``."""
    r = subprocess.run([sys.executable, "-c", _KILLER, str(epoch), sig, *map(str, args)], cwd=cwd, env=ENV,
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stderr + r.stdout


def write_toml(path: Path, cfg: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(cfg))
    return path


def sha(d: Path) -> dict[str, str]:
    """sha256 of every file under ``d`` (and of ``d`` itself when it is a file)."""
    files = [d] if d.is_file() else sorted(p for p in d.rglob("*") if p.is_file())
    return {str(p.relative_to(d.parent)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def strict_json(path: Path) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{path} is not strict JSON: it holds {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


TIMING = {"time", "samples_per_s", "seconds", "seconds_per_epoch", "time_used"}


def without_timing(obj: Any) -> Any:
    """``obj`` with wall-clock fields removed (they differ between any two runs)."""
    if isinstance(obj, dict):
        return {k: without_timing(v) for k, v in obj.items() if k not in TIMING}
    if isinstance(obj, list):
        return [without_timing(v) for v in obj]
    return obj


def history_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as fh:
        return [without_timing(r) for r in csv.DictReader(fh)]
