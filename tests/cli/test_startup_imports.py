"""What `fcnet` imports: the heavy libraries only where a command uses them.

scikit-learn costs about 1.7 s of CPU to import (it brings SciPy's statistics), tqdm and
``urllib.request`` a few tens of milliseconds each; every command pays for what it imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# runs `fcnet ARGS...` in a fresh interpreter, then writes the names of the modules it imported to a file
PROBE = """
import json, sys
from fcnet.cli.main import main
out, args = sys.argv[1], sys.argv[2:]
try:
    code = main(args)
except SystemExit as exc:  # --help exits once it has printed
    code = exc.code
with open(out, "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""

HEAVY = ("sklearn", "scipy", "matplotlib", "numba", "tqdm", "urllib.request", "torch", "optuna", "PIL")


def imported(args: list[str], cwd) -> set[str]:
    """The modules a fresh ``fcnet ARGS...`` has imported when it is done (it must succeed)."""
    out = cwd / "modules.json"
    res = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], cwd=cwd, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "FCNET_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr
    got = json.loads(out.read_text())
    assert got["code"] == 0, res.stderr
    return set(got["modules"])


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("args", [["--help"], ["datasets"], ["lab", "--help"], ["train", "--help"]],
                         ids=lambda a: "-".join(a).strip("-"))
def test_commands_that_train_nothing_import_no_heavy_library(args, tmp_path):
    modules = imported(args, tmp_path)
    assert "fcnet.cli.train" in modules  # the probe sees what the parser imported
    for package in HEAVY:
        assert not loaded(modules, package), f"`fcnet {' '.join(args)}` imported {loaded(modules, package)[:3]}"


def test_train_and_eval_on_the_digits_import_no_scikit_learn(tmp_path):
    modules = imported(["train", "--hidden", "16", "--epochs", "1", "--quiet", "--out", "r"], tmp_path)
    assert (tmp_path / "r" / "confusion.png").is_file()
    assert "matplotlib.pyplot" in modules and "fcnet.data.registry" in modules  # the probe sees lazy imports
    for package in ("sklearn", "scipy.stats", "tqdm", "urllib.request"):  # --quiet: no progress bars, no tqdm
        assert not loaded(modules, package), f"`fcnet train` imported {loaded(modules, package)[:3]}"
    modules = imported(["eval", "r"], tmp_path)
    assert not loaded(modules, "sklearn"), f"`fcnet eval` imported {loaded(modules, 'sklearn')[:3]}"
