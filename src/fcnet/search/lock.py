"""Exactly one live planner per study.

On PostgreSQL the planner holds a session-level advisory lock (``pg_try_advisory_lock``) keyed
by the study's name on a connection of its own: the server releases it when the planner's
connection ends, so a killed planner never leaves a stale lock.  After a server restart the
planner takes it again (within the outage tolerance); if another planner took it meanwhile,
this one stops.  On a journal file (or SQLite) the planner holds an exclusive ``flock`` on
``FILE.planner.lock``, released by the kernel when the process ends.  Either way the holder's
host and pid are recorded (in the study, and in the lock file), so a second planner is
refused with a message naming them.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError
from fcnet.search.storage import call_with_retry, connect_args, mask_url, parse_url, scrub

__all__ = ["PlannerLock", "PlannerRunning"]


class PlannerRunning(ConfigError):
    """Another planner holds the study (exit code 2)."""


def _me() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def _refusal(name: str, url: str, holder: dict[str, Any] | None) -> PlannerRunning:
    who = (f"host {holder.get('host')} pid {holder.get('pid')} (since {holder.get('since')})" if holder
           else "another process")
    return PlannerRunning(f"study {name!r} in {mask_url(url)} is being planned by {who}: one planner per study; "
                          "wait for it to finish (or stop it) and then --resume, or start workers instead: "
                          "fcnet search worker")


class PlannerLock:
    """Held by the planner for the whole search; ``check()`` renews it after a lost connection."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.conn: Any = None
        self.fh: Any = None
        self.key = int.from_bytes(hashlib.sha256(f"fcnet-planner:{name}".encode()).digest()[:8], "big", signed=True)
        self.next_check = 0.0

    @property
    def kind(self) -> str:
        if self.url.startswith("journal:"):
            return "file"
        scheme = parse_url(self.url).scheme.split("+")[0]
        if scheme in ("postgresql", "postgres"):
            return "postgres"
        return "file" if scheme == "sqlite" else "none"

    def _lock_path(self) -> Path | None:
        if self.url.startswith("journal:"):
            return Path(self.url[len("journal:"):] + ".planner.lock")
        db = parse_url(self.url).database
        return Path(db + ".planner.lock") if db and db != ":memory:" else None

    def acquire(self, study: Any) -> None:
        """Take the lock or raise ``PlannerRunning`` naming the holder; record this planner in the study."""
        if self.kind == "postgres":
            if not self._pg_take():
                holder = study.user_attrs.get("planner")
                raise _refusal(self.name, self.url, holder if isinstance(holder, dict) else None)
        elif self.kind == "file" and (path := self._lock_path()) is not None:
            import fcntl

            fh = open(path, "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                text = fh.read().split()
                fh.close()
                holder = {"host": text[0], "pid": text[1], "since": " ".join(text[2:])} if len(text) >= 2 else None
                raise _refusal(self.name, self.url, holder) from None
            me = _me()
            fh.seek(0)
            fh.truncate()
            fh.write(f"{me['host']} {me['pid']} {me['since']}\n")
            fh.flush()
            self.fh = fh
        study.set_user_attr("planner", _me())

    def _pg_connect(self) -> Any:
        import psycopg

        parsed, libpq = connect_args(self.url)
        me = _me()
        kw = {k: v for k, v in {"host": parsed.host, "port": parsed.port, "user": parsed.user,
                                "password": parsed.password, "dbname": parsed.database}.items() if v is not None}
        if kw.get("host", "").startswith("["):
            kw["host"] = kw["host"][1:-1]
        return psycopg.connect(autocommit=True, application_name=f"fcnet planner {me['host']}:{me['pid']}",
                               **kw, **libpq)

    def _pg_take(self) -> bool:
        def take() -> bool:
            if self.conn is None or self.conn.closed:
                self.conn = self._pg_connect()
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            return bool(row and row[0])

        try:
            return bool(call_with_retry(take, self.url))
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(scrub(f"cannot lock study {self.name!r} in {mask_url(self.url)}: {exc}", self.url)
                              ) from None

    def check(self) -> None:
        """Every few seconds: after a lost connection (a server restart), take the lock again or stop."""
        if self.kind != "postgres" or time.monotonic() < self.next_check:
            return
        self.next_check = time.monotonic() + 2.0

        def alive() -> bool:
            try:
                self.conn.execute("SELECT 1")
                return True
            except Exception:
                try:
                    self.conn.close()
                except Exception:
                    pass
                self.conn = None
                return False

        if self.conn is not None and alive():
            return
        if not self._pg_take():
            raise PlannerRunning(f"study {self.name!r} in {mask_url(self.url)}: another planner took the study "
                                 "while the storage was unreachable: this one stops")

    def release(self) -> None:
        """Give the lock back (closing the connection or file releases it too)."""
        for handle in (self.conn, self.fh):
            if handle is not None:
                try:
                    handle.close()
                except Exception:
                    pass
        self.conn = self.fh = None
