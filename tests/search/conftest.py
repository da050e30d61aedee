"""A PostgreSQL server on 127.0.0.1 (a free port; trust auth, but one role that must give a password)."""

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


@pytest.fixture(scope="session")
def postgres():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.skip("PostgreSQL server binaries are not installed (Debian: apt-get install postgresql)")
    pytest.importorskip("psycopg")
    b = Path(bins[-1])
    root = os.geteuid() == 0
    d = Path(tempfile.mkdtemp(prefix="fcnet-pg-"))
    as_user = []
    if root:
        shutil.chown(d, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = d / "data"
    subprocess.run([*as_user, str(b / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"], check=True,
                   capture_output=True)
    hba = data / "pg_hba.conf"  # one role that must give a password; everything else trusted
    hba.write_text(f"host all {AUTH_USER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    subprocess.run([*as_user, str(b / "pg_ctl"), "-D", str(data), "-l", str(d / "log"), "-w", "-o",
                    f"-p {port} -k {d} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    subprocess.run([*as_user, str(b / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "fcnet"],
                   check=True, capture_output=True)
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/fcnet", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {AUTH_USER} LOGIN PASSWORD '{AUTH_PASSWORD}'")
        conn.execute(f"CREATE DATABASE fcauth OWNER {AUTH_USER}")
    yield f"postgresql://postgres@127.0.0.1:{port}/fcnet"
    subprocess.run([*as_user, str(b / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)
