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

# runs `fcnet ARGS...` in a fresh interpreter, then writes the names of the modules it imported to a file;
# "before" is what the interpreter had imported before fcnet (site, a sitecustomize or a .pth file may import more)
PROBE = """
import sys
before = sorted(sys.modules)
import json
from fcnet.cli.main import main
out, args = sys.argv[1], sys.argv[2:]
try:
    code = main(args)
except SystemExit as exc:  # --help exits once it has printed
    code = exc.code
with open(out, "w") as fh:
    json.dump({"code": code, "before": before, "modules": sorted(sys.modules)}, fh)
"""

HEAVY = ("sklearn", "scipy", "matplotlib", "numba", "tqdm", "urllib.request", "torch", "optuna", "PIL")


def probe(args: list[str], cwd, env: dict[str, str] | None = None) -> tuple[set[str], set[str]]:
    """The modules a fresh ``fcnet ARGS...`` imported (it must succeed), and those loaded before fcnet was."""
    out = cwd / "modules.json"
    res = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], cwd=cwd, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "FCNET_OFFLINE": "1", **(env or {})})
    assert res.returncode == 0, res.stderr
    got = json.loads(out.read_text())
    assert got["code"] == 0, res.stderr
    before = set(got["before"])
    return set(got["modules"]) - before, before


def imported(args: list[str], cwd, checked: tuple[str, ...], env: dict[str, str] | None = None) -> set[str]:
    """The modules ``fcnet ARGS...`` itself imported; skips the test where the interpreter had already loaded one
    of ``checked`` before fcnet (this environment's site imports it: what fcnet imports cannot be told apart).
    """
    modules, before = probe(args, cwd, env)
    preloaded = [package for package in checked if loaded(before, package)]
    if preloaded:
        pytest.skip(f"the interpreter imports {', '.join(preloaded)} before fcnet here (sitecustomize or a .pth file)")
    return modules


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("args", [["--help"], ["datasets"], ["lab", "--help"], ["train", "--help"]],
                         ids=lambda a: "-".join(a).strip("-"))
def test_commands_that_train_nothing_import_no_heavy_library(args, tmp_path):
    modules = imported(args, tmp_path, HEAVY)
    assert "fcnet.cli.train" in modules  # the probe sees what the parser imported
    for package in HEAVY:
        assert not loaded(modules, package), f"`fcnet {' '.join(args)}` imported {loaded(modules, package)[:3]}"


def test_train_and_eval_on_the_digits_import_no_scikit_learn(tmp_path):
    checked = ("sklearn", "scipy.stats", "tqdm", "urllib.request")
    modules = imported(["train", "--hidden", "16", "--epochs", "1", "--quiet", "--out", "r"], tmp_path, checked)
    assert (tmp_path / "r" / "confusion.png").is_file()
    assert "matplotlib.pyplot" in modules and "fcnet.data.registry" in modules  # the probe sees lazy imports
    for package in checked:  # --quiet: no progress bars, no tqdm
        assert not loaded(modules, package), f"`fcnet train` imported {loaded(modules, package)[:3]}"
    modules = imported(["eval", "r"], tmp_path, ("sklearn",))
    assert not loaded(modules, "sklearn"), f"`fcnet eval` imported {loaded(modules, 'sklearn')[:3]}"


def test_what_the_environment_imports_before_fcnet_is_not_counted_as_fcnets(tmp_path):
    # a sitecustomize that imports urllib.request (as some sites' do) is no import of fcnet's
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import urllib.request\n")
    path = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    modules, before = probe(["--help"], tmp_path, env={"PYTHONPATH": path})
    assert "urllib.request" in before and "fcnet.cli.train" in modules
    assert not loaded(modules, "urllib.request")
    # the startup test cannot tell there whether fcnet imports it too: it says so rather than fail or pass
    with pytest.raises(pytest.skip.Exception, match=r"imports urllib\.request before fcnet"):
        imported(["--help"], tmp_path, HEAVY, env={"PYTHONPATH": path})
