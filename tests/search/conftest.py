"""PostgreSQL servers on 127.0.0.1 (a free port; trust auth, but one role that must give a password).

``postgres`` is one server for the whole session; ``pg_server`` is a server of the test's own,
which the test may stop and start again (``stop()``, ``start()``) to play a database restart.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

AUTH_USER, AUTH_PASSWORD = "fcauth", "s3cret-pw"  # the server's password-checked role (database fcauth)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A throw-away PostgreSQL cluster (initdb, pg_ctl start/stop) with database ``fcnet``."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            pytest.skip("PostgreSQL server binaries are not installed (Debian: apt-get install postgresql)")
        pytest.importorskip("psycopg")
        self.bin = Path(bins[-1])
        self.as_user: list[str] = []
        self.dir = Path(tempfile.mkdtemp(prefix="fcnet-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.data = self.dir / "data"
        subprocess.run([*self.as_user, str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U",
                        "postgres"], check=True, capture_output=True)
        hba = self.data / "pg_hba.conf"  # one role that must give a password; everything else trusted
        hba.write_text(f"host all {AUTH_USER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        self.start()
        subprocess.run([*self.as_user, str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "postgres", "fcnet"], check=True, capture_output=True)
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/fcnet", autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {AUTH_USER} LOGIN PASSWORD '{AUTH_PASSWORD}'")
            conn.execute(f"CREATE DATABASE fcauth OWNER {AUTH_USER}")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/fcnet"

    def start(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                        "-w", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                       capture_output=True)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    server = PgServer()
    yield server.url
    server.close()


@pytest.fixture
def pg_server():
    server = PgServer()
    yield server
    server.close()
