"""Where a study lives: a journal file (one machine, many processes) or PostgreSQL (many machines).

``journal:PATH`` is Optuna's journal-file storage: no server, safe for parallel processes
that share a file system.  ``postgresql://user@host:port/db`` (or any SQLAlchemy URL such as
``sqlite:///file.db``) is Optuna's RDB storage, with heartbeats: a worker that dies stops
beating, and after the grace period its trial is marked failed (the planner queues it again).

Secrets: a URL is parsed by ``parse_url`` (the last ``@`` ends the user and password, the first
``:`` in them ends the user, percent-escapes are decoded), and only ever shown through
``mask_url`` (the password replaced by ``***``).  The password need not be in the URL at all:
``FCNET_STORAGE_PASSWORD`` fills in a URL that has none, and otherwise libpq reads
``PGPASSWORD`` or the ``.pgpass`` file (``PGPASSFILE``) itself, as every PostgreSQL client does.

Faults: on PostgreSQL every storage call goes through ``ResilientStorage``, which retries a
call that failed for want of a connection with bounded exponential backoff (0.2 s doubling up
to 5 s), reconnecting each time, for up to ``FCNET_STORAGE_OUTAGE`` seconds (default 120) of
outage; after that it raises ``StorageUnavailable`` (exit code 2).  Connections get a connect
timeout, a statement timeout and TCP keepalives unless the URL sets its own
(``?connect_timeout=S``, ``?statement_timeout=S``, ``?keepalives_idle=S``...).
"""

from __future__ import annotations

import math
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from fcnet.errors import ConfigError, FcnetError

__all__ = ["GRACE_PERIOD", "HEARTBEAT_INTERVAL", "MAX_RETRY", "OUTAGE", "PASSWORD_ENV", "ResilientStorage",
           "StorageURL", "StorageUnavailable", "grace_period", "make_storage", "mask_text", "mask_url",
           "outage_seconds", "outage_tolerance", "parse_url", "scrub", "split_password", "uses_heartbeat"]

HEARTBEAT_INTERVAL = 2  # seconds between a running trial's heartbeats
GRACE_PERIOD = 8  # seconds without a heartbeat before a trial (or a worker) counts as dead
MAX_RETRY = 3  # a dead worker's trial is queued again at most this often
OUTAGE = 120  # seconds of storage outage survived by default
PASSWORD_ENV = "FCNET_STORAGE_PASSWORD"
GRACE_ENV = "FCNET_SEARCH_GRACE_PERIOD"
OUTAGE_ENV = "FCNET_STORAGE_OUTAGE"
# connection settings fcnet adds to a PostgreSQL URL that does not set them (libpq's names)
PG_DEFAULTS = {"connect_timeout": "10", "keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
               "keepalives_count": "3"}
STATEMENT_TIMEOUT = 60  # seconds; ``?statement_timeout=S`` in the URL overrides it (0: none)

_JITTER = random.Random()  # the retry delays' own generator: never the process-wide one


class StorageUnavailable(FcnetError):
    """The storage stayed unreachable longer than the outage tolerance (exit code 2)."""


def _seconds_env(name: str, default: float, minimum: float) -> float:
    text = os.environ.get(name)
    if not text:
        return float(default)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= minimum or value == float("inf"):
        raise ConfigError(f"{name}={text!r}: give seconds, at least {minimum:g}")
    return value


def grace_period() -> float:
    """The grace period in seconds: ``FCNET_SEARCH_GRACE_PERIOD`` or 8 (at least the heartbeat interval)."""
    return _seconds_env(GRACE_ENV, GRACE_PERIOD, HEARTBEAT_INTERVAL)


def outage_tolerance() -> float:
    """How long a storage outage is survived, in seconds: ``FCNET_STORAGE_OUTAGE`` or 120."""
    return _seconds_env(OUTAGE_ENV, OUTAGE, 1)


def uses_heartbeat(url: str) -> bool:
    """Whether the storage marks dead workers' trials (RDB storages do)."""
    return not url.startswith("journal:")


# --- URLs ------------------------------------------------------------------------------------------

_HOST = re.compile(r"[A-Za-z0-9.\-_\[\]:%,]*(?:[/?]|$)")


@dataclass(frozen=True)
class StorageURL:
    """A database URL's parts, the user and password percent-decoded."""

    scheme: str
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: dict[str, str] = field(default_factory=dict)

    def sqlalchemy(self, password: bool = True) -> Any:
        """The same URL as a SQLAlchemy ``URL`` (which escapes every part itself)."""
        from sqlalchemy.engine import URL

        host = self.host[1:-1] if self.host and self.host.startswith("[") else self.host
        return URL.create(self.scheme, username=self.user, password=self.password if password else None,
                          host=host, port=self.port, database=self.database, query=self.query)

    def render(self, password: str | None = "***") -> str:
        """The URL as text; ``password`` stands in for the password (None: leave it out)."""
        scheme = f"{self.scheme}://" if self.scheme else ""
        user = quote(self.user, safe="") if self.user is not None else ""
        if self.password is not None and password is not None:
            user += ":" + (password if password == "***" else quote(password, safe=""))
        netloc = (user + "@" if user else "") + (self.host or "") + (f":{self.port}" if self.port else "")
        db = "/" + self.database if self.database is not None else ""
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in self.query.items())
        return scheme + netloc + db + ("?" + query if query else "")


def parse_url(url: str) -> StorageURL:
    """Split a database URL (``scheme://user:password@host:port/db?k=v``) into its parts.

    Tolerant where SQLAlchemy's parser is not: an unescaped ``@`` or ``:`` in the password
    stays in the password (the last ``@`` followed by a host ends it), and a URL without a
    scheme is parsed too, so its password can still be masked.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    at = -1
    for i in range(len(rest) - 1, -1, -1):
        if rest[i] == "@" and _HOST.match(rest, i + 1):
            at = i
            break
    user = password = None
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1:]
        u, colon, p = userinfo.partition(":")
        user = unquote(u) or None
        password = unquote(p) if colon else None
    netloc = re.match(r"[^/?]*", rest).group(0)  # type: ignore[union-attr]
    tail = rest[len(netloc):]
    database = None
    if tail.startswith("/"):
        database, _, q = tail[1:].partition("?")
        database = unquote(database)
    else:
        q = tail[1:] if tail.startswith("?") else ""
    host, port = netloc or None, None
    m = re.fullmatch(r"(.*):(\d+)", netloc)
    if m and "," not in netloc:
        host, port = m.group(1) or None, int(m.group(2))
    return StorageURL(scheme, user, password, host, port, database, dict(parse_qsl(q, keep_blank_values=True)))


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: the only form in which a URL is shown."""
    if url.startswith("journal:"):
        return url
    parsed = parse_url(url)
    if parsed.password is None:
        return url
    return parsed.render("***")


def split_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password (None if it had none)."""
    if url.startswith("journal:"):
        return url, None
    parsed = parse_url(url)
    if parsed.password is None:
        return url, None
    return parsed.render(None), parsed.password


def _hide(text: str, secret: str) -> str:
    if len(secret) >= 6:
        return text.replace(secret, "***")
    # a short password is masked only where it stands alone, so "p" does not eat every p of a message
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)


def scrub(text: str, url: str) -> str:
    """``text`` with ``url`` and its password masked (driver messages may quote either)."""
    _, password = split_password(url)
    text = text.replace(url, mask_url(url))
    if password:
        for form in {password, quote(password, safe=""), quote(password)}:
            text = _hide(text, form)
    return mask_text(text)


_URL_WITH_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(\S*)@(?=[A-Za-z0-9.\-_\[\]]+(?:[:/?]|\s|$))")


def mask_text(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` in it masked."""
    return _URL_WITH_PASSWORD.sub(r"\1***@", text)


def _with_env_password(url: str) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if url.startswith("journal:") or not password:
        return url
    parsed = parse_url(url)
    if parsed.password is not None or not parsed.scheme:
        return url
    return _replace(parsed, password=password).sqlalchemy().render_as_string(hide_password=False)


def _replace(parsed: StorageURL, **kw: Any) -> StorageURL:
    from dataclasses import replace

    return replace(parsed, **kw)


def connect_args(url: str) -> tuple[StorageURL, dict[str, str]]:
    """The parsed URL (password from the environment filled in) and libpq options with fcnet's defaults.

    ``statement_timeout`` (seconds) is fcnet's own key; it becomes ``options=-c statement_timeout=MS``.
    """
    parsed = parse_url(url)
    if parsed.password is None and os.environ.get(PASSWORD_ENV):
        parsed = _replace(parsed, password=os.environ[PASSWORD_ENV])
    query = dict(parsed.query)
    libpq = {**PG_DEFAULTS, **query}
    seconds = libpq.pop("statement_timeout", str(STATEMENT_TIMEOUT))
    try:
        ms = round(float(seconds) * 1000)
    except ValueError:
        raise ConfigError(f"statement_timeout={seconds!r} in the storage URL: give seconds, e.g. "
                          "statement_timeout=60") from None
    if "statement_timeout" not in libpq.get("options", ""):
        libpq["options"] = (libpq.get("options", "") + f" -c statement_timeout={ms}").strip()
    return parsed, libpq


# --- faults ----------------------------------------------------------------------------------------

_sleep = time.sleep  # replaced in tests to read the backoff
_state = threading.Lock()
_outage: dict[str, Any] = {"since": None, "total": 0.0, "dead": None, "said": False}


def _reset_outage() -> None:
    """Forget past outages (tests; a process otherwise lives through one search)."""
    with _state:
        _outage.update(since=None, total=0.0, dead=None, said=False)


def outage_seconds() -> float:
    """Seconds this process has spent waiting for an unreachable storage (liveness clocks skip them)."""
    with _state:
        extra = time.monotonic() - _outage["since"] if _outage["since"] is not None else 0.0
        return float(_outage["total"] + extra)


def _transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a lost or refused connection, not a bad request."""
    import sqlalchemy.exc

    try:
        import psycopg
        pg: tuple[type, ...] = (psycopg.OperationalError, psycopg.InterfaceError)
    except ImportError:  # pragma: no cover
        pg = ()
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 8:
        if isinstance(e, sqlalchemy.exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                          sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError, ConnectionError, *pg)):
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    return False


def _first_line(exc: BaseException) -> str:
    e: BaseException = exc
    while e.__cause__ is not None:
        e = e.__cause__
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def call_with_retry(fn: Any, url: str, what: str = "storage call") -> Any:
    """``fn()``, retried on connection errors with bounded exponential backoff for the outage tolerance."""
    tolerance = outage_tolerance()
    delay = 0.2
    while True:
        with _state:
            dead = _outage["dead"]
        if dead is not None:
            raise StorageUnavailable(dead)
        try:
            result = fn()
        except Exception as exc:
            if not _transient(exc):
                raise
            now = time.monotonic()
            with _state:
                if _outage["since"] is None:
                    _outage["since"] = now
                waited = now - _outage["since"]
                say = not _outage["said"]
                _outage["said"] = True
            line = scrub(_first_line(exc), url)
            if waited > tolerance:
                msg = (f"storage {mask_url(url)} unreachable for {waited:.0f} s (more than {OUTAGE_ENV}="
                       f"{tolerance:g}; last error: {line}): stopping; once it is back, run the same command "
                       "again (the planner with --resume)")
                with _state:
                    _outage["dead"] = msg
                raise StorageUnavailable(msg) from None
            if say:
                print(f"fcnet: storage {mask_url(url)} unreachable ({line}); retrying for up to {tolerance:g} s",
                      file=sys.stderr, flush=True)
            _sleep(delay * (0.75 + 0.5 * _JITTER.random()))
            delay = min(5.0, delay * 2)
            continue
        with _state:
            if _outage["since"] is not None:
                waited = time.monotonic() - _outage["since"]
                _outage["total"] += waited
                _outage["since"] = None
                _outage["said"] = False
                print(f"fcnet: storage {mask_url(url)} reachable again after {waited:.1f} s", file=sys.stderr,
                      flush=True)
        return result


def _storage_methods() -> list[str]:
    from optuna.storages import BaseStorage
    from optuna.storages._heartbeat import BaseHeartbeat

    names = {n for cls in (BaseStorage, BaseHeartbeat) for n, v in vars(cls).items()
             if callable(v) and not n.startswith("__")}
    return sorted(names | {"_get_stale_trial_ids"})


def _resilient_class() -> type:
    from optuna.storages import BaseStorage
    from optuna.storages._heartbeat import BaseHeartbeat

    def method(name: str) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            fn = getattr(self._inner, name)
            return call_with_retry(lambda: fn(*args, **kwargs), self._url)

        call.__name__ = name
        return call

    def init(self: Any, inner: Any, url: str) -> None:
        self._inner, self._url = inner, url

    def getattr_(self: Any, name: str) -> Any:
        if name in ("_inner", "_url"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    body = {n: method(n) for n in _storage_methods()}
    body.update(__init__=init, __getattr__=getattr_,
                __doc__="An Optuna storage whose every call survives a storage outage (see module docs).")
    return type("ResilientStorage", (BaseStorage, BaseHeartbeat), body)


_RESILIENT: type | None = None


def ResilientStorage(inner: Any, url: str) -> Any:
    """``inner`` (an Optuna storage) with every call retried through an outage (``call_with_retry``)."""
    global _RESILIENT
    if _RESILIENT is None:
        _RESILIENT = _resilient_class()
    return _RESILIENT(inner, url)


def require_optuna() -> None:
    """Refuse in one line, naming the extra to install, when Optuna (the ``search`` extra) is missing."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ConfigError("fcnet search needs Optuna: pip install 'fcnet[search]'") from None


def make_storage(url: str) -> Any:
    """An Optuna storage for ``url`` (errors show the URL masked; PostgreSQL calls survive outages)."""
    require_optuna()
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(url[len("journal:"):]))
    if "://" not in url:
        raise ConfigError(f"unknown storage {mask_url(url)!r}: use journal:PATH or postgresql://user@host:port/db")
    import warnings

    parsed = parse_url(url)
    postgres = parsed.scheme.split("+")[0] in ("postgresql", "postgres")
    if postgres:
        parsed, libpq = connect_args(url)
        parsed = _replace(parsed, query=libpq)
        full = parsed.sqlalchemy().render_as_string(hide_password=False)
    else:
        full = _with_env_password(url)
    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna
        warnings.simplefilter("ignore")
        try:
            storage = _rdb(full, postgres)
        except ConfigError:
            raise
        except ImportError as exc:
            cause = exc.__cause__ or exc
            raise ConfigError(f"storage {url.split(':')[0]} needs a database driver ({cause}); for PostgreSQL: "
                              "pip install 'psycopg[binary]'") from None
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(scrub(scrub(f"cannot open storage {mask_url(url)}: {first}", full), url)) from None
    if not postgres:
        return storage
    from optuna.storages._cached_storage import _CachedStorage

    return ResilientStorage(_CachedStorage(storage), url)


def _rdb(full: str, postgres: bool) -> Any:
    import optuna
    import sqlalchemy.exc

    for attempt in range(5):
        try:
            # no stale-trial callback: the planner alone queues a dead worker's trial again, so
            # two processes noticing one death cannot queue it twice
            return optuna.storages.RDBStorage(
                full, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=math.ceil(grace_period()),
                engine_kwargs={"pool_pre_ping": True} if postgres else None,
            )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # processes that open a fresh database at once race to create Optuna's tables: the
            # loser finds them half made, and the next try finds them complete
            if attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")
