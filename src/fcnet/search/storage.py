"""Where a study lives: a journal file (one machine, many processes) or PostgreSQL (many machines).

``journal:PATH`` is Optuna's journal-file storage: no server, safe for parallel processes
that share a file system.  ``postgresql://user@host:port/db`` (or any SQLAlchemy URL such as
``sqlite:///file.db``) is Optuna's RDB storage, with heartbeats: a worker that dies stops
beating, and after the grace period its trial is marked failed (the planner queues it again).

Secrets: a URL is only ever shown through ``mask_url`` (the password replaced by ``***``).
The password need not be in the URL at all: ``FCNET_STORAGE_PASSWORD`` fills in a URL that
has none, and otherwise the URL goes to SQLAlchemy and psycopg unchanged, so libpq reads
``PGPASSWORD`` or the ``.pgpass`` file (``PGPASSFILE``) itself, as every PostgreSQL client does.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from fcnet.errors import ConfigError

__all__ = ["GRACE_PERIOD", "HEARTBEAT_INTERVAL", "MAX_RETRY", "PASSWORD_ENV", "grace_period", "make_storage",
           "mask_url", "scrub", "split_password", "uses_heartbeat"]

HEARTBEAT_INTERVAL = 2  # seconds between a running trial's heartbeats
GRACE_PERIOD = 8  # seconds without a heartbeat before a trial (or a worker) counts as dead
MAX_RETRY = 3  # a dead worker's trial is queued again at most this often
PASSWORD_ENV = "FCNET_STORAGE_PASSWORD"
GRACE_ENV = "FCNET_SEARCH_GRACE_PERIOD"


def grace_period() -> float:
    """The grace period in seconds: ``FCNET_SEARCH_GRACE_PERIOD`` or 8."""
    text = os.environ.get(GRACE_ENV)
    if not text:
        return float(GRACE_PERIOD)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= HEARTBEAT_INTERVAL or value == float("inf"):
        raise ConfigError(f"{GRACE_ENV}={text!r}: give seconds, at least the heartbeat interval "
                          f"({HEARTBEAT_INTERVAL})")
    return value


def uses_heartbeat(url: str) -> bool:
    """Whether the storage marks dead workers' trials (RDB storages do)."""
    return not url.startswith("journal:")


def _parse(url: str) -> Any:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url)
    except Exception:
        return None


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: the only form in which a URL is shown."""
    if url.startswith("journal:"):
        return url
    parsed = _parse(url)
    if parsed is not None:
        return str(parsed.render_as_string(hide_password=True))
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)  # not a SQLAlchemy URL: mask what looks like one


def split_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password (None if it had none)."""
    parsed = None if url.startswith("journal:") else _parse(url)
    if parsed is None or parsed.password is None:
        return url, None
    return parsed._replace(password=None).render_as_string(hide_password=False), str(parsed.password)


def scrub(text: str, url: str) -> str:
    """``text`` with ``url`` and its password masked (driver messages may quote either)."""
    _, password = split_password(url)
    text = text.replace(url, mask_url(url))
    return text.replace(password, "***") if password else text


def _with_env_password(url: str) -> str:
    password = os.environ.get(PASSWORD_ENV)
    parsed = None if url.startswith("journal:") else _parse(url)
    if not password or parsed is None or parsed.password is not None:
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def make_storage(url: str) -> Any:
    """An Optuna storage for ``url`` (errors show the URL masked)."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ConfigError("fcnet search needs Optuna: pip install 'fcnet[search]'") from None
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(url[len("journal:"):]))
    if "://" not in url:
        raise ConfigError(f"unknown storage {mask_url(url)!r}: use journal:PATH or postgresql://user@host:port/db")
    import warnings

    full = _with_env_password(url)
    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna
        warnings.simplefilter("ignore")
        try:
            return _rdb(full, url)
        except ConfigError:
            raise
        except ImportError as exc:
            cause = exc.__cause__ or exc
            raise ConfigError(f"storage {url.split(':')[0]} needs a database driver ({cause}); for PostgreSQL: "
                              "pip install 'psycopg[binary]'") from None
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(scrub(scrub(f"cannot open storage {url}: {first}", full), url)) from None


def _rdb(full: str, url: str) -> Any:
    import optuna
    import sqlalchemy.exc

    for attempt in range(5):
        try:
            # no stale-trial callback: the planner alone queues a dead worker's trial again, so
            # two processes noticing one death cannot queue it twice
            return optuna.storages.RDBStorage(
                full, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=round(grace_period()),
                engine_kwargs={"pool_pre_ping": True} if url.startswith("postgresql") else None,
            )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # processes that open a fresh database at once race to create Optuna's tables: the
            # loser finds them half made, and the next try finds them complete
            if attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")
