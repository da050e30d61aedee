"""Where data set files come from, in order.

1. an explicit directory (``--data-dir``); 2. ``$FCNET_DATA``; 3. the user cache
(``~/.cache/fcnet``, or ``$XDG_CACHE_HOME/fcnet``); 4. known system locations (Debian's
``dataset-fashion-mnist``); 5. a download from the official address into the cache through
``pooch`` (MD5 verification; a file is moved into the cache only when its checksum is right).
``$FCNET_MIRROR`` replaces the official base address (an internal mirror, or a ``file://``
directory).  With ``$FCNET_OFFLINE=1`` or no network, the error
says which files to place where.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fcnet.errors import DataError

__all__ = ["RemoteFile", "Source", "cache_dir", "candidate_dirs", "find_local", "locate"]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name, official address and MD5."""

    name: str
    url: str
    md5: str


@dataclass(frozen=True)
class Source:
    """How to find a data set: the folder name under a data root, its files, system folders."""

    folder: str
    files: Sequence[RemoteFile]
    system_dirs: Sequence[str] = field(default_factory=tuple)
    # names that also count when found (e.g. a raw .ubyte beside the .gz)
    alternatives: dict[str, Sequence[str]] = field(default_factory=dict)


def cache_dir() -> Path:
    """The user cache: ``$XDG_CACHE_HOME/fcnet`` or ``~/.cache/fcnet``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fcnet"


def candidate_dirs(source: Source, data_dir: str | Path | None = None) -> list[Path]:
    """The directories searched, in order."""
    dirs: list[Path] = []
    if data_dir:
        dirs += [Path(data_dir) / source.folder, Path(data_dir)]
    env = os.environ.get("FCNET_DATA")
    if env:
        dirs += [Path(env) / source.folder, Path(env)]
    dirs.append(cache_dir() / source.folder)
    dirs += [Path(d) for d in source.system_dirs]
    return dirs


def _find(directory: Path, f: RemoteFile, source: Source) -> Path | None:
    for name in (f.name, *source.alternatives.get(f.name, ())):
        p = directory / name
        if p.is_file():
            return p
    return None


def find_local(source: Source, data_dir: str | Path | None = None) -> dict[str, Path] | None:
    """Paths of every file of ``source`` from the first directory that holds them all, or None."""
    for d in candidate_dirs(source, data_dir):
        found = {f.name: _find(d, f, source) for f in source.files}
        if all(found.values()):
            return found  # type: ignore[return-value]
    return None


def locate(source: Source, data_dir: str | Path | None = None, download: bool = True,
           dataset: str = "") -> dict[str, Path]:
    """Paths of every file of ``source``: from the first directory holding all, else downloaded."""
    found = find_local(source, data_dir)
    if found is not None:
        return found
    dirs = candidate_dirs(source, data_dir)
    offline = os.environ.get("FCNET_OFFLINE", "") not in ("", "0")
    if download and not offline:
        try:
            return _download(source, dataset)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DataError(_missing_message(source, dataset, dirs, f"download failed: {exc}")) from None
    raise DataError(_missing_message(source, dataset, dirs, "offline"))


def _missing_message(source: Source, dataset: str, dirs: list[Path], why: str) -> str:
    names = ", ".join(f.name for f in source.files)
    return (f"data set {dataset or source.folder!r} not found ({why}): place {names} in "
            f"{cache_dir() / source.folder} (or pass --data-dir DIR, or set FCNET_DATA); "
            f"searched {', '.join(str(d) for d in dirs)}")


def _download(source: Source, dataset: str) -> dict[str, Path]:
    """Fetch the missing files into the cache with pooch: MD5-verified, moved into place only when right."""
    import pooch

    target = cache_dir() / source.folder
    target.mkdir(parents=True, exist_ok=True)
    mirror = os.environ.get("FCNET_MIRROR")
    out: dict[str, Path] = {}
    for f in source.files:
        url = f"{mirror.rstrip('/')}/{f.name}" if mirror else f.url
        # pooch has no file:// downloader; a local mirror is copied, and checked the same way
        downloader = _copy_file if url.startswith("file:") else pooch.HTTPDownloader(progressbar=sys.stderr.isatty())
        logger = pooch.get_logger()
        level = logger.level
        logger.setLevel("WARNING")  # its "Downloading data from ..." line would precede a one-line error
        try:
            got = pooch.retrieve(url, known_hash=f"md5:{f.md5}", fname=f.name, path=target,
                                 downloader=downloader)
        except ValueError as exc:  # pooch's hash mismatch; the bad file was not kept
            if "hash" not in str(exc):
                raise
            raise DataError(
                f"checksum mismatch for {f.name} from {url}: the MD5 differs from the expected {f.md5}; "
                "the download is corrupted or the mirror serves another file: try again, or "
                f"place the official file in {target}"
            ) from None
        finally:
            logger.setLevel(level)
        out[f.name] = Path(got)
    return out


def _copy_file(url: str, output_file: str | IO[bytes], _pooch: object) -> None:
    """A pooch downloader for ``file://`` addresses (a mirror directory)."""
    import urllib.request  # http.client, ssl and email come with it: not on every command's start

    src = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    with src.open("rb") as fh:
        data = fh.read()
    if isinstance(output_file, str):
        Path(output_file).write_bytes(data)
    else:
        output_file.write(data)
