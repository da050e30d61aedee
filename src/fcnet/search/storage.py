"""Where a study lives: a journal file (one machine, many processes) or PostgreSQL (many machines).

``journal:PATH`` is Optuna's journal-file storage: no server, safe for parallel processes
that share a file system.  ``postgresql://user@host:port/db`` (or any SQLAlchemy URL such as
``sqlite:///file.db``) is Optuna's RDB storage, with heartbeats: a worker that dies stops
beating, and after the grace period its trial is marked failed and queued again.
"""

from __future__ import annotations

from typing import Any

from fcnet.errors import ConfigError

__all__ = ["GRACE_PERIOD", "HEARTBEAT_INTERVAL", "MAX_RETRY", "make_storage", "uses_heartbeat"]

HEARTBEAT_INTERVAL = 2  # seconds between a running trial's heartbeats
GRACE_PERIOD = 8  # seconds without a heartbeat before a trial counts as dead
MAX_RETRY = 3  # a dead worker's trial is queued again at most this often


def uses_heartbeat(url: str) -> bool:
    """Whether the storage marks dead workers' trials (RDB storages do)."""
    return not url.startswith("journal:")


def make_storage(url: str) -> Any:
    """An Optuna storage for ``url``."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("fcnet search needs Optuna: pip install 'fcnet[search]'") from None
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(url[len("journal:"):]))
    if "://" not in url:
        raise ConfigError(f"unknown storage {url!r}: use journal:PATH or postgresql://user@host:port/db")
    import warnings

    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna
        warnings.simplefilter("ignore")
        try:
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
                engine_kwargs={"pool_pre_ping": True} if url.startswith("postgresql") else None,
            )
        except ImportError as exc:
            cause = exc.__cause__ or exc
            raise ConfigError(f"storage {url.split(':')[0]} needs a database driver ({cause}); for PostgreSQL: "
                              "pip install 'psycopg[binary]'") from None
        except Exception as exc:
            raise ConfigError(f"cannot open storage {url}: {str(exc).splitlines()[0]}") from None
