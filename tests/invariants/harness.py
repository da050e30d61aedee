"""Running fcnet as a user would, in-process or killed by a real signal at the end of a chosen epoch."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import tomli_w

from fcnet.cli import main as cli_main

ENV = {**os.environ, "FCNET_OFFLINE": "1"}

# The killed runs are real processes forked from a server that imported fcnet once (multiprocessing's
# forkserver): a kill costs a fork, not an interpreter start and fcnet's imports.  The server never
# trains, so no BLAS or Numba thread exists when it forks.
_PRELOAD = ["fcnet.cli.main", "fcnet.train.callbacks", "tests.invariants._warm"]
_CONTEXT: Any = None


def _forkserver() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        import multiprocessing

        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(_PRELOAD)
    return _CONTEXT


def _killed_child(epoch: int, sig: str, args: list[str], cwd: str, log: str) -> None:
    """In the forked process: fcnet ARGS in ``cwd``, which sends itself ``sig`` at the end of ``epoch``."""
    import signal

    from fcnet.train import callbacks

    os.chdir(cwd)
    os.environ["FCNET_OFFLINE"] = "1"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    signum = getattr(signal, sig)
    original = callbacks.CSVLogger.on_epoch_end

    def on_epoch_end(self: Any, trainer: Any, e: int, logs: Any) -> None:  # after its checkpoint and history line
        original(self, trainer, e, logs)
        if e == epoch:
            os.kill(os.getpid(), signum)
            while signum != signal.SIGKILL:  # the handler raises at the next bytecode
                pass

    callbacks.CSVLogger.on_epoch_end = on_epoch_end  # type: ignore[method-assign]
    sys.exit(cli_main.main(args))


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
    """``fcnet ARGS`` in a new process that receives ``sig`` at the end of ``epoch``: (exit code, its output).

    The exit code is the shell's view: 128 + signal for a handled signal (130, 143, 129), -9 for SIGKILL.
    """
    fd, name = tempfile.mkstemp(prefix="fcnet-killed-", suffix=".log")
    os.close(fd)
    log = Path(name)
    proc = _forkserver().Process(target=_killed_child, args=(epoch, sig, [str(a) for a in args], str(cwd), str(log)))
    proc.start()
    proc.join(timeout=300)
    if proc.exitcode is None:
        proc.kill()
        proc.join()
        raise AssertionError(f"fcnet {' '.join(map(str, args))} did not end within 300 s")
    text = log.read_text(errors="replace") if log.is_file() else ""
    log.unlink(missing_ok=True)
    return proc.exitcode, text


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
