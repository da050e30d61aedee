"""Run directories that no failing command can damage: a lock, a staging directory and one swap.

``fcnet train --out DIR`` writes a new DIR directly.  When DIR already holds a run
(``--overwrite`` or ``--resume``), the new state is written to a staging sibling
(``.DIR.new-*``, a copy of DIR for ``--resume``) and swapped in with two renames only when the
command succeeds; on any failure the staging directory is deleted and DIR is left byte for byte
as it was.  One exception keeps long work: when ``--resume`` continues an *interrupted* run (no
model.json yet), Ctrl-C and divergence swap in the newer checkpoint, as an interrupted fresh run
would keep it.  A lock on the sibling file ``.DIR.lock`` (``fcntl.flock``, released by the
kernel if the process dies) refuses a second writer of DIR while the first runs.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from fcnet.errors import ConfigError, DivergenceError

__all__ = ["RunWriter", "is_run"]


RUN_FILES = ("config.toml", "model.json", "checkpoint")


def is_run(path: Path) -> bool:
    """Whether ``path`` holds a run written by ``fcnet train``."""
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


class RunWriter:
    """Context manager: ``with RunWriter(DIR, mode) as w: train into w.work_dir``.

    ``mode`` is "new" (DIR must not hold a run), "overwrite" or "resume".
    """

    def __init__(self, final: str | Path, mode: str = "new") -> None:
        self.final, self.mode = Path(final), mode
        self.work_dir = self.final
        self.staging: Path | None = None
        self._lock_fd: int | None = None

    def __enter__(self) -> RunWriter:
        final = self.final
        if final.exists() and not final.is_dir():
            raise ConfigError(f"--out {final} is a file, not a directory: choose another --out")
        parent, name = final.absolute().parent, final.absolute().name
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the run directory {final}: {exc.strerror or exc}") from None
        self._lock(parent / f".{name}.lock")
        try:
            if final.is_dir() and not is_run(final) and any(final.iterdir()):
                # never swap away (and delete) a directory that fcnet did not write, e.g. `--out .`
                raise ConfigError(f"--out {final} is a directory holding other files, not an fcnet run: "
                                  "choose a new or empty directory")
            if self.mode == "new" and is_run(final):
                raise ConfigError(f"--out {final} already holds a run: add --overwrite to replace it, "
                                  f"--resume {final} to continue it, or choose another --out")
            if self.mode in ("overwrite", "resume") and is_run(final):
                self.staging = Path(tempfile.mkdtemp(prefix=f".{name}.new-", dir=parent))
                if self.mode == "resume":
                    shutil.copytree(final, self.staging, symlinks=True, dirs_exist_ok=True)
                self.work_dir = self.staging
        except BaseException:
            self._unlock()
            raise
        return self

    def _lock(self, path: Path) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock on this platform: no protection
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ConfigError(f"another fcnet train is writing {self.final} (lock {path} is held): wait for it "
                              "to finish or choose another --out") from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def keeps_progress(self, exc: BaseException) -> bool:
        """Whether a failed ``--resume`` of an interrupted run still swaps in its newer checkpoint."""
        return (self.mode == "resume" and isinstance(exc, KeyboardInterrupt | DivergenceError)
                and not (self.final / "model.json").exists())

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.staging is None:
                return
            if exc is None or self.keeps_progress(exc):
                self._swap()
                return
            shutil.rmtree(self.staging, ignore_errors=True)
            if isinstance(exc, DivergenceError):
                raise self._unchanged(exc) from None
        finally:
            self._unlock()

    def _swap(self) -> None:
        assert self.staging is not None
        old = Path(tempfile.mkdtemp(prefix=f".{self.final.absolute().name}.old-", dir=self.staging.parent))
        os.replace(self.final, old)  # both renames are atomic; between them DIR is briefly absent
        os.replace(self.staging, self.final)
        shutil.rmtree(old, ignore_errors=True)

    def _unchanged(self, exc: DivergenceError) -> DivergenceError:
        """The divergence message, telling that DIR was left as it was (not the discarded staging)."""
        clause = f"{self.final} is unchanged"
        ckpt = self.final / "checkpoint"
        if (ckpt / "state.json").is_file():
            import json

            try:
                epoch = json.loads((ckpt / "state.json").read_text())["epoch"]
                clause += f" (its checkpoint, epoch {epoch}, is {ckpt})"
            except (ValueError, KeyError):
                pass
        msg = re.sub(r"; (the last good checkpoint \(epoch \d+\) is .+?|no checkpoint was saved yet);",
                     f"; {clause};", str(exc), count=1)
        return DivergenceError(msg)
