"""A command whose optional extra is not installed says which one to install, in one line, exit 2."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import fcnet_cmd

NO_OPTUNA = "raise ModuleNotFoundError(\"No module named 'optuna'\", name=\"optuna\")\n"


@pytest.mark.parametrize("args", [
    ["search", "--data", "digits", "--trials", "2", "--epochs", "1", "--space", "lr=loguniform:1e-4:1e-1"],
    ["search", "worker", "--storage", "journal:journal.log", "--study", "s1"],
], ids=["planner", "worker"])
def test_search_without_optuna_names_the_extra(tmp_path, args):
    fake = tmp_path / "hide" / "optuna"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(NO_OPTUNA)  # stands in for an environment without Optuna
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(fake.parent), env.get("PYTHONPATH")) if p)
    r = subprocess.run([*fcnet_cmd(), *args], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == ["fcnet: error: fcnet search needs Optuna: pip install 'fcnet[search]'"]
    assert not (tmp_path / "search").exists()
