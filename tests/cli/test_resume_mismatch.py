"""`fcnet train --resume` with options whose callbacks do not fit the checkpoint: one line, exit 2, run untouched."""

from __future__ import annotations

from tests.cli.test_train_cli import assert_one_line_error, run


def test_resume_with_another_schedule_is_refused_and_the_run_is_untouched(tmp_path):
    res = run(["train", "--data", "digits", "--subset", "300", "--hidden", "16", "--epochs", "1",
               "--out", "r", "--quiet"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    files = {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()}
    # the checkpoint holds no schedule state; a cosine schedule now would start from nothing
    res = run(["train", "--resume", "r", "--epochs", "2", "--schedule", "cosine", "--quiet"], cwd=tmp_path)
    # refused up front by the options check (the trainer's own check is tested in test_trainer_state.py)
    assert_one_line_error(res, 2, "--schedule cosine differs from the run's none")
    assert {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()} == files
