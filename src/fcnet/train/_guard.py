"""What a killed ``fcnet train`` leaves, and the guard process that removes it (standard library only).

SIGKILL runs no cleanup code in the process it kills, so ``RunWriter`` starts this file as a
small guard process (``python -I -S _guard.py RUN STAGING FRESH``) holding the read end of a
pipe.  A command that ends in any orderly way writes ``done`` and the guard exits at once; when
the pipe closes without it (the command was killed), the guard removes the staging directory of
``--overwrite``, the temporary files of a checkpoint save that was cut off, and a fresh run that
had not completed its first epoch, so nothing is left beside the run.  The guard ignores SIGINT,
SIGTERM and SIGHUP and runs in its own session, so the signals that stop the command do not stop
it.  Only a power loss (or a kill of the guard as well) can leave these files: the next command on
the run then removes them (``clean_leftovers``, ``clear_unstarted``).

Directories are swapped with ``renameat2(RENAME_EXCHANGE)`` where the system has it (Linux):
one atomic step, so there is no moment at which the run is absent.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

# every name fcnet train writes in a run directory
RUN_WRITES = ("config.toml", "model.json", "model.safetensors", "checkpoint", "history.csv", "summary.json",
              "loss.png", "accuracy.png", "grad_norms.png", "confusion.png")
# written before the first complete epoch (a run killed before it holds only these)
BEFORE_FIRST_EPOCH = ("config.toml", "history.csv", "checkpoint")
_TEMP = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_]{8}")  # tempfile.mkstemp / mkdtemp(prefix=".NAME.")


def started(run: Path) -> bool:
    """Whether ``run`` completed an epoch (a checkpoint, possibly mid-swap) or finished (model.json)."""
    return any((run / p).is_file() for p in ("checkpoint/state.json", "checkpoint.old/state.json", "model.json"))


def is_temporary(p: Path) -> bool:
    """Whether ``p`` is a temporary file or directory of an atomic write in a run (``.NAME.xxxxxxxx``)."""
    m = _TEMP.fullmatch(p.name)
    return bool(m) and m.group("name") in RUN_WRITES


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def clean_leftovers(run: Path) -> None:
    """Remove what a killed command left in and beside ``run``: staging copies and temporary files.

    A checkpoint swap cut off between its two renames (systems without RENAME_EXCHANGE) is undone:
    ``checkpoint.old`` becomes ``checkpoint`` again.  Call it holding the run's lock.
    """
    pattern = re.compile(rf"\.{re.escape(run.name)}\.(new|old)-\w+")
    if run.parent.is_dir():
        for p in run.parent.iterdir():
            if pattern.fullmatch(p.name) and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
    if not run.is_dir():
        return
    for p in run.iterdir():
        if is_temporary(p):
            _remove(p)
    old, ckpt = run / "checkpoint.old", run / "checkpoint"
    if old.is_dir():
        if (ckpt / "state.json").is_file():
            shutil.rmtree(old, ignore_errors=True)
        elif (old / "state.json").is_file():
            if ckpt.exists():
                shutil.rmtree(ckpt, ignore_errors=True)
            os.replace(old, ckpt)


def unstarted_files(run: Path, need_config: bool = True) -> list[Path] | None:
    """The files of a run killed before its first complete epoch, or None when ``run`` is not one.

    Such a run holds only what is written before the first epoch ends (config.toml, history.csv,
    a checkpoint save cut off) and temporary files: it is treated as not yet started.
    """
    if not run.is_dir() or started(run) or (need_config and not (run / "config.toml").is_file()):
        return None
    files, own = list(run.iterdir()), own_logs(run)
    if not all(p.name in BEFORE_FIRST_EPOCH or is_temporary(p) or p.resolve() in own for p in files):
        return None
    return files


def own_logs(run: Path) -> set[Path]:
    """The run's own ``--tensorboard`` directory when its config.toml puts it inside the run (resolved), else none.

    Its event files are written before the first epoch ends, so they belong to a run killed before then.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli, which the guard (python -S) may not see
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            return set()
    try:
        tb = tomllib.loads((run / "config.toml").read_text(encoding="utf-8")).get("tensorboard")
    except (OSError, ValueError, UnicodeDecodeError):
        return set()
    if not isinstance(tb, str) or not tb:
        return set()
    path = Path(tb).resolve()
    return {path} if path.parent == run.resolve() else set()


def clear_unstarted(run: Path, remove_dir: bool) -> None:
    """Remove the files of a run that had not completed an epoch (and ``run`` itself if ``remove_dir``)."""
    own = own_logs(run) if run.is_dir() else set()
    for p in list(run.iterdir()) if run.is_dir() else []:
        if p.name in BEFORE_FIRST_EPOCH or is_temporary(p) or p.resolve() in own:
            _remove(p)
    if remove_dir:
        try:
            run.rmdir()
        except OSError:  # something else is in it now: leave it
            pass


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap the directories ``a`` and ``b`` (renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):  # a file system without it
        return False
    raise OSError(err, os.strerror(err), str(a))


def lock_dir(path: Path, blocking: bool = False) -> int | None:
    """An ``flock`` on the directory ``path`` itself (no lock file); its descriptor, or None if held or absent."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        os.close(fd)
        return None
    return fd


def guard(run: Path, staging: Path | None, fresh: str) -> None:
    """Wait for the command to end; if it was killed, remove what it left (see the module docstring)."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    if sys.stdin.buffer.read() == b"done":
        return
    if staging is not None:  # a name no other command uses: removed without the lock
        shutil.rmtree(staging, ignore_errors=True)
    # the dying command may still hold the lock for a moment (its descriptors close one by one)
    deadline = time.monotonic() + 2.0
    while (fd := lock_dir(run)) is None:
        if not run.is_dir() or time.monotonic() > deadline:  # absent, or another command holds it:
            return  # that command cleans on its start
        time.sleep(0.01)
    try:
        if fresh in ("made", "empty") and unstarted_files(run, need_config=False) is not None:
            clear_unstarted(run, remove_dir=fresh == "made")
        else:
            clean_leftovers(run)
    finally:
        os.close(fd)


if __name__ == "__main__":
    guard(Path(sys.argv[1]), Path(sys.argv[2]) if sys.argv[2] else None, sys.argv[3])
