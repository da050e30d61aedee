"""Shared test helpers."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import fcnet

# A suite started in the background of a non-interactive shell (`cmd &`) inherits SIGINT ignored, and so
# would every `fcnet` child process: Python then installs no KeyboardInterrupt handler and the Ctrl-C tests
# see a run that cannot be interrupted.  A handler here makes the disposition "caught", which exec resets
# to the default in each child, as under a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]

# CI runs the property tests on a fixed sequence of examples: a red CI always means a real bug
settings.register_profile("ci", derandomize=True, deadline=None)
# `pytest --hypothesis-profile=deep`: many more examples of every property and invariant (minutes to hours)
settings.register_profile("deep", max_examples=500, deadline=None)
# outside CI: fresh random examples, but no per-example deadline either (a loaded 2-core machine would turn
# every invariant that trains a net into a DeadlineExceeded, which says nothing about fcnet)
settings.register_profile("local", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "local")
os.environ.setdefault("MPLBACKEND", "Agg")


# --- pytest-xdist (`-n auto --dist loadfile`, pyproject.toml) -------------------------------------------------
# Each worker is a process of its own: a session fixture (the PostgreSQL server of tests/search) runs once per
# worker, on its own free port and temporary folder.  Work that tests share must stay in one process:
#  * the tests of one module share its module-scoped fixtures (a trained run, a server, a browser): each
#    module goes to one worker (`--dist loadfile`);
#  * the modules that assert on the one run of every lab per language (tests/lab/labruns.py) go to one
#    worker together, or each worker would run every lab again.
# (pytest-xdist's `xdist_group` marks would say the second, but `--dist loadgroup` ignores them under
# pytest >= 9.2: pytest-xdist issue #1386.)  The longest modules are handed out first, so that no worker
# is left with one of them while the other has finished; the rest go by number of tests, as xdist does.

LAB_RUN_MODULES = ("tests/cli/test_lab_cli.py", "tests/lab/test_labs.py", "tests/lab/test_training_labs.py",
                   "tests/lab/test_lab_figures.py")
LAB_RUNS = "+".join(LAB_RUN_MODULES)
# the units that take a minute or more on a 2-core machine (`--durations`), longest first; one not named here
# only starts later
LONGEST_FIRST = (LAB_RUNS, "tests/lab/test_notebooks.py", "tests/search/test_faults.py", "tests/cli/test_train_cli.py",
                 "tests/search/test_search.py", "tests/playground/test_class.py", "tests/search/test_promises.py",
                 "tests/cli/test_defects_everywhere.py", "tests/cli/test_sigkill_runs.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist given on the command line: xdist's own scheduler

    from xdist.scheduler import LoadFileScheduling

    class LoadFileWithLabRuns(LoadFileScheduling):
        """One work unit per test file, and one for all the modules of LAB_RUN_MODULES; LONGEST_FIRST first."""

        _ordered = False

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return LAB_RUNS if path in LAB_RUN_MODULES else path

        def _assign_work_unit(self, node: object) -> None:
            if not self._ordered:  # the queue is complete when the first unit is handed out
                self._ordered = True
                rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}
                order = sorted(self.workqueue, key=lambda unit: rank.get(unit, len(rank)))  # stable
                self.workqueue = type(self.workqueue)((unit, self.workqueue[unit]) for unit in order)
            super()._assign_work_unit(node)

    return LoadFileWithLabRuns(config, log)


# How many examples each invariant ran (tests/invariants/options_space.py counts them): printed at the end,
# so that the CI log records the coverage.  Under xdist the workers count and the controller prints the sum.


def _examples_run() -> dict[str, int]:
    from tests.invariants.options_space import EXAMPLES_RUN

    return EXAMPLES_RUN


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["invariant_examples"] = dict(_examples_run())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    counts = _examples_run()
    for name, n in getattr(node, "workeroutput", {}).get("invariant_examples", {}).items():
        counts[name] = counts.get(name, 0) + n


def pytest_terminal_summary(terminalreporter: object) -> None:
    counts = _examples_run()
    if counts:
        terminalreporter.write_sep("-", "invariants: examples run")  # type: ignore[attr-defined]
        for name, n in sorted(counts.items()):
            terminalreporter.write_line(f"{name}: {n} examples")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def english_labs(tmp_path_factory: pytest.TempPathFactory):
    """Every lab as `fcnet lab all --out lab` ran it, once per session (tests/lab/labruns.py)."""
    from tests.lab.labruns import EnglishLabs

    return EnglishLabs(tmp_path_factory.mktemp("labs_en"))


@pytest.fixture(scope="session")
def chinese_labs(tmp_path_factory: pytest.TempPathFactory):
    """Every lab as `fcnet lab NAME --lang zh` runs it, each once per session, in this process."""
    from tests.lab.labruns import LabRuns

    return LabRuns("zh", tmp_path_factory.mktemp("labs_zh"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def fcnet_cmd() -> list[str]:
    """The command that runs fcnet's CLI with this interpreter."""
    return [sys.executable, "-m", "fcnet"]


CUDA = "cuda" in fcnet.backend.available_devices()
# every backend the suites run on: the CuPy one only where CuPy and a GPU are present
DEVICES = [pytest.param("cpu", id="cpu"),
           pytest.param("cuda", id="cuda", marks=pytest.mark.skipif(not CUDA, reason="no GPU with CuPy here"))]
