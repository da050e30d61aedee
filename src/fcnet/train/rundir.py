"""Run directories that no failing command can damage: a lock, in-place checkpoints and one swap.

``fcnet train --out DIR`` writes a new DIR directly; if it fails before its first checkpoint,
what it wrote is removed again (the same ``--out`` can be used at once).  ``--overwrite``
writes the new run to a staging sibling (``.DIR.new-*``) swapped in with two renames only when
the command succeeds; on any failure the staging directory is deleted and DIR is left byte for
byte as it was.  ``--resume`` trains in DIR itself: its checkpoint is replaced atomically at
each epoch boundary, so an interrupt of any kind (Ctrl-C, SIGTERM, SIGHUP, even SIGKILL) leaves
DIR either as it was or advanced to a later complete epoch, and no completed epoch is lost.

Every path is resolved first, so a run reached through a symbolic link is locked, swapped and
written where it really lies.  A lock on ``DIR/.fcnet.lock`` (``fcntl.flock``, released by the
kernel if the process dies; the file is removed on exit) refuses a second writer of DIR.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType

from fcnet.errors import ConfigError, DivergenceError

__all__ = ["Interrupted", "RunWriter", "is_run", "signals_interrupt"]


RUN_FILES = ("config.toml", "model.json", "checkpoint")
LOCK_NAME = ".fcnet.lock"


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
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None

    def __enter__(self) -> RunWriter:
        final, real = self.final, self.real
        if real.exists() and not real.is_dir():
            raise ConfigError(f"--out {final} is a file, not a directory: choose another --out")
        try:
            self._made_dir = not real.exists()
            real.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the run directory {final}: {exc.strerror or exc}") from None
        self._lock(real / LOCK_NAME)
        try:
            self._clean_leftovers()
            others = [p for p in real.iterdir() if p.name != LOCK_NAME]
            if others and not is_run(real):
                # never swap away (and delete) a directory that fcnet did not write, e.g. `--out .`
                raise ConfigError(f"--out {final} is a directory holding other files, not an fcnet run: "
                                  "choose a new or empty directory")
            self._created = not others
            if self.mode == "new" and is_run(real):
                raise ConfigError(f"--out {final} already holds a run: add --overwrite to replace it, "
                                  f"--resume {final} to continue it, or choose another --out")
            if self.mode == "overwrite" and is_run(real):
                self.staging = Path(tempfile.mkdtemp(prefix=f".{real.name}.new-", dir=real.parent))
                self.work_dir = self.staging
            if self.mode == "resume":
                self.start_epoch = checkpoint_epoch(real)
        except BaseException:
            self._unlock()
            raise
        return self

    def _clean_leftovers(self) -> None:
        """Remove what a killed command (SIGKILL, power loss) left: staging copies and temporary files."""
        real = self.real
        for p in real.parent.glob(f".{glob_escape(real.name)}.*-*"):
            if re.fullmatch(rf"\.{re.escape(real.name)}\.(new|old)-\w+", p.name) and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
        for p in real.glob(".checkpoint.*"):  # a checkpoint save cut off before its swap
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
        if (real / "checkpoint.old").is_dir() and (real / "checkpoint" / "state.json").is_file():
            shutil.rmtree(real / "checkpoint.old", ignore_errors=True)

    def _lock(self, path: Path) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock on this platform: no protection
            return
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ConfigError(f"cannot write in {self.final}: {exc.strerror or exc}; choose a writable --out"
                                  ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise ConfigError(f"another fcnet train is writing {self.final} (lock {path} is held): wait for "
                                  "it to finish or choose another --out") from None
            # the holder before us may have removed the file after we opened it: lock the file that is there
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self._lock_fd, self._lock_path = fd, path

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            if self._lock_path is not None:
                self._lock_path.unlink(missing_ok=True)  # removed while still held: no second writer slips in
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

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
            self._unlock()
            if discard:
                if self._made_dir:
                    shutil.rmtree(self.real, ignore_errors=True)
                else:
                    for p in self.real.iterdir():
                        shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink()

    def _swap(self) -> None:
        assert self.staging is not None
        (self.staging / LOCK_NAME).unlink(missing_ok=True)
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
