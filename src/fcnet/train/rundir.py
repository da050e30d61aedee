"""Run directories that no failing command can damage: a lock, in-place checkpoints and one swap.

``fcnet train --out DIR`` writes a new DIR directly; if it fails before its first checkpoint,
what it wrote is removed again (the same ``--out`` can be used at once).  ``--overwrite``
writes the new run to a staging sibling (``.DIR.new-*``) swapped in with one atomic exchange
only when the command succeeds; on any failure the staging directory is deleted and DIR is left
byte for byte as it was.  ``--resume`` trains in DIR itself: its checkpoint is replaced
atomically at each epoch boundary, so an interrupt of any kind (Ctrl-C, SIGTERM, SIGHUP, even
SIGKILL) leaves DIR either as it was or advanced to a later complete epoch, and no completed
epoch is lost.

SIGKILL runs no cleanup, so a guard process (``fcnet.train._guard``) removes what a killed
command leaves: the staging directory, a checkpoint save cut off, and a new run that had not
completed its first epoch (so the same command works again).  A run directory holding only what
is written before the first epoch ends (config.toml, history.csv) has not started: ``--out``
reuses it.

Every path is resolved first, so a run reached through a symbolic link is locked, swapped and
written where it really lies.  The lock is an ``fcntl.flock`` on the run directory itself (no
lock file; the kernel releases it when the process dies) and refuses a second writer of DIR.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType

from fcnet.errors import ConfigError, DivergenceError
from fcnet.train import _guard
from fcnet.train._guard import clean_leftovers, clear_unstarted, lock_dir, unstarted_files
from fcnet.train.io import umask

__all__ = ["Interrupted", "RunWriter", "is_run", "signals_interrupt"]


RUN_FILES = ("config.toml", "model.json", "checkpoint")


def is_run(path: Path) -> bool:
    """Whether ``path`` holds a run written by ``fcnet train``."""
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP turned into the same orderly stop as Ctrl-C (``signum`` tells which)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``Interrupted`` (as SIGINT raises KeyboardInterrupt).

    ``kill``, a closed terminal or a batch scheduler then stop training at once and keep the
    last complete epoch, as Ctrl-C does.  Outside the main thread this does nothing.
    """
    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    old = {}
    try:
        for s in wanted:
            old[s] = signal.signal(s, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def checkpoint_epoch(run: Path) -> int | None:
    """The epoch of ``run``'s checkpoint, or None when it has none (or an unreadable one)."""
    try:
        return int(json.loads((run / "checkpoint" / "state.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunWriter:
    """Context manager: ``with RunWriter(DIR, mode) as w: train into w.work_dir``.

    ``mode`` is "new" (DIR must not hold a run), "overwrite" or "resume".
    """

    LOCK_WAIT = 2.0  # seconds a lock held by the guard of a command just killed may take to free

    def __init__(self, final: str | Path, mode: str = "new") -> None:
        if str(final) == "":
            raise ConfigError("--out is empty: give the run directory to write")
        self.final, self.mode = Path(final), mode
        self.real = self.final.resolve()  # through symbolic links: where the files really are
        self.work_dir = self.real
        self.staging: Path | None = None
        self.start_epoch: int | None = None
        self._created = False  # DIR was absent or empty: a failure before any checkpoint leaves it so
        self._made_dir = False
        self._locks: list[int] = []
        self._guard: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RunWriter:
        final, real = self.final, self.real
        if real.exists() and not real.is_dir():
            raise ConfigError(f"--out {final} is a file, not a directory: choose another --out")
        outer = next((p for p in real.parents if is_run(p)), None)
        if outer is not None:  # `--overwrite OUTER` would delete it with OUTER's files
            raise ConfigError(f"--out {final} is inside the run directory {outer}: a run inside another is lost "
                              "when that one is overwritten; choose a path outside every run")
        self._made_dir = not real.exists()
        self._lock()
        try:
            clean_leftovers(real)
            if self.mode != "resume" and unstarted_files(real) is not None:
                clear_unstarted(real, remove_dir=False)  # killed before its first epoch: not yet started
            others = list(real.iterdir())
            if others and not is_run(real):
                # never swap away (and delete) a directory that fcnet did not write, e.g. `--out .`
                raise ConfigError(f"--out {final} is a directory holding other files, not an fcnet run: "
                                  "choose a new or empty directory")
            self._created = not others
            if self.mode == "new" and is_run(real):
                raise ConfigError(f"--out {final} already holds a run: add --overwrite to replace it, "
                                  f"--resume {final} to continue it, or choose another --out")
            inner = next((p for p in others if p.is_dir() and not p.is_symlink() and is_run(p)), None)
            if self.mode == "overwrite" and inner is not None:
                raise ConfigError(f"--out {final} holds another run ({inner}) that --overwrite would delete: "
                                  "move it out of the run first")
            if self.mode == "overwrite" and is_run(real):
                self.staging = Path(tempfile.mkdtemp(prefix=f".{real.name}.new-", dir=real.parent))
                os.chmod(self.staging, 0o777 & ~umask())  # it becomes DIR: a plain mkdir's mode, not 0700
                self.work_dir = self.staging
                fd = lock_dir(self.staging)  # after the swap DIR is this directory: still ours
                if fd is not None:
                    self._locks.append(fd)
            if self.mode == "resume":
                self.start_epoch = checkpoint_epoch(real)
            self._start_guard()
        except BaseException:
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
            self._unlock()
            raise
        return self

    def _lock(self) -> None:
        """Create DIR if needed and lock it; a second writer is refused (after LOCK_WAIT)."""
        try:
            import fcntl  # noqa: F401
        except ImportError:  # pragma: no cover - no flock on this platform: no protection
            self.real.mkdir(parents=True, exist_ok=True)
            return
        deadline = time.monotonic() + self.LOCK_WAIT
        while True:
            try:
                self.real.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create the run directory {self.final}: {exc.strerror or exc}; "
                                  "choose a writable --out") from None
            if not os.access(self.real, os.W_OK | os.X_OK):
                raise ConfigError(f"cannot write in {self.final}: permission denied; choose a writable --out")
            fd = lock_dir(self.real)
            if fd is not None:
                try:  # the directory locked is still the one at the path (not swapped away meanwhile)
                    st = os.stat(self.real)
                    same = (st.st_ino, st.st_dev) == (os.fstat(fd).st_ino, os.fstat(fd).st_dev)
                except FileNotFoundError:
                    same = False
                if same:
                    self._locks.append(fd)
                    return
                os.close(fd)
            elif time.monotonic() > deadline:
                raise ConfigError(f"another fcnet train is writing {self.final} (its lock is held): wait for "
                                  "it to finish or choose another --out")
            time.sleep(0.02)

    def _unlock(self) -> None:
        for fd in self._locks:
            os.close(fd)  # closing the descriptor releases the flock
        self._locks = []

    def _start_guard(self) -> None:
        """The guard process that cleans up if this one is killed (``fcnet.train._guard``)."""
        fresh = "made" if self._made_dir else "empty" if self._created else "kept"
        try:
            self._guard = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(_guard.__file__)), str(self.real), str(self.staging or ""),
                 fresh], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
        except OSError:  # no guard: the next command on the run removes what a kill leaves
            self._guard = None

    def _stop_guard(self) -> None:
        if self._guard is not None and self._guard.stdin is not None:
            try:
                self._guard.stdin.write(b"done")
                self._guard.stdin.close()
                self._guard.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._guard = None

    def keeps_progress(self, exc: BaseException) -> bool:
        """Whether a failed command leaves DIR with epochs it trained (a resumable checkpoint)."""
        if self.staging is not None:
            return False
        return (self.real / "checkpoint" / "state.json").is_file()

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        discard = False
        try:
            if exc is None:
                if self.staging is not None:
                    self._swap()
                return
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
                if isinstance(exc, DivergenceError):
                    raise self._unchanged(exc) from None
                return
            if self.mode == "resume":
                if isinstance(exc, DivergenceError) and checkpoint_epoch(self.real) == self.start_epoch:
                    raise self._unchanged(exc) from None
                return
            # a new run that failed before its first checkpoint: nothing worth keeping, --out stays free
            discard = self._created and not self.keeps_progress(exc)
        finally:
            if discard:
                if self._made_dir:
                    shutil.rmtree(self.real, ignore_errors=True)
                else:
                    for p in self.real.iterdir():
                        shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink()
            self._unlock()
            self._stop_guard()

    def _swap(self) -> None:
        """Make the staging directory DIR: one atomic exchange (two renames where the system lacks it)."""
        assert self.staging is not None
        if _guard.exchange(self.staging, self.real):
            shutil.rmtree(self.staging, ignore_errors=True)  # it holds the old run now
            return
        old = Path(tempfile.mkdtemp(prefix=f".{self.real.name}.old-", dir=self.staging.parent))
        os.replace(self.real, old)  # both renames are atomic; between them DIR is briefly absent
        os.replace(self.staging, self.real)
        shutil.rmtree(old, ignore_errors=True)

    def _unchanged(self, exc: DivergenceError) -> DivergenceError:
        """The divergence message, telling that DIR was left as it was (not the discarded staging)."""
        clause = f"{self.final} is unchanged"
        epoch = checkpoint_epoch(self.real)
        if epoch is not None:
            clause += f" (its checkpoint, epoch {epoch}, is {self.final / 'checkpoint'})"
        msg = re.sub(r"; (the last good checkpoint \(epoch \d+\) is .+?|no checkpoint was saved yet);",
                     f"; {clause};", str(exc), count=1)
        return DivergenceError(msg)


def glob_escape(name: str) -> str:
    """``name`` with the glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def is_disk_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the disk refusing a write (full, read-only, no permission, quota)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM,
                                                      errno.EDQUOT, errno.EFBIG)
