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


def test_run_and_checkpoint_directories_get_a_plain_mkdir_mode_after_new_overwrite_and_resume(tmp_path):
    from tests.invariants.harness import fcnet

    common = ["--data", "digits", "--subset", "60", "--hidden", "4", "--epochs", "1", "--quiet", "--monitor", "false"]
    old = os.umask(0o022)
    try:
        for args in (["train", *common, "--out", "run"], ["train", *common, "--out", "run", "--overwrite"],
                     ["train", "--resume", "run", "--epochs", "2", "--quiet"]):
            code, log = fcnet(args, tmp_path)
            assert code == 0, log
            modes = {p: oct((tmp_path / p).stat().st_mode & 0o777) for p in ("run", "run/checkpoint")}
            assert modes == {"run": oct(0o755), "run/checkpoint": oct(0o755)}, (args[1:3], modes)
    finally:
        os.umask(old)
