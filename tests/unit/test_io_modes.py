"""Files written atomically get the mode a plain open() would give them (0666 less the umask)."""

from __future__ import annotations

import os

from fcnet.train.io import atomic_write, write_json


def test_atomic_write_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        p = atomic_write(tmp_path / "a.bin", b"x")
        q = write_json(tmp_path / "b.json", {"a": 1})
        assert oct(p.stat().st_mode & 0o777) == oct(0o644)
        assert oct(q.stat().st_mode & 0o777) == oct(0o644)
        os.umask(0o077)
        r = atomic_write(tmp_path / "c.bin", b"y")
        assert oct(r.stat().st_mode & 0o777) == oct(0o600)
    finally:
        os.umask(old)
