"""Every lab run once per test process and language (seed 0, not ``--full``), its figures watched.

A run of all labs takes minutes, and four modules assert on it: ``test_labs`` and ``test_training_labs``
on the English numbers and claims, ``test_lab_figures`` on the figures as drawn and the global random
state, in both languages, and ``tests/cli/test_lab_cli.py`` on the report of ``fcnet lab all``.  They share
one run per language (the session fixtures ``english_labs`` and ``chinese_labs`` of ``tests/conftest.py``),
and each of their assertions holds on the numbers a lone ``run_lab(name, out, 0, False)`` gives:

* English: ``fcnet lab all --out lab`` itself, in a subprocess (:class:`EnglishLabs`).  The subprocess
  starts as ``python -m tests.lab.labruns RECORD lab all --out lab``, which runs ``fcnet/__main__.py``
  as ``python -m fcnet lab all --out lab`` does, with the figure watcher on and each lab's result, figures
  and random state recorded into the file RECORD (a pickle) for the tests;
* Chinese: each lab in this process as ``fcnet lab NAME --lang zh`` runs it (:class:`LabRuns`).

Under pytest-xdist the modules go to one worker together (``LAB_RUN_MODULES`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.figure
import matplotlib.text
import numpy as np

import fcnet


@dataclass
class Drawn:
    """One saved figure: the texts drawn in it with their window extents (pixels), its title."""

    title: str
    texts: list[tuple[str, Any]] = field(default_factory=list)


class Watcher:
    """While active, every figure drawn is kept (under the lab named last by :meth:`begin`) with the texts
    it drew and their extents in pixels.  A figure drawn again (save_figure saves again, smaller, when a
    figure is too large) keeps its last drawing, the one saved.  Tick labels outside the view never draw.
    """

    def __init__(self) -> None:
        self.figures: dict[str, list[Drawn]] = {}
        self._lab = ""
        self._drawing: list[Drawn] = []

    def begin(self, lab: str) -> None:
        self._lab = lab

    def drawn(self) -> dict[str, list[Drawn]]:
        return {k: list(v) for k, v in self.figures.items()}

    @contextmanager
    def active(self) -> Iterator[Watcher]:
        fig_draw, text_draw = matplotlib.figure.Figure.draw, matplotlib.text.Text.draw
        watcher = self

        def draw_figure(self: matplotlib.figure.Figure, renderer: Any) -> None:
            title = self._suptitle.get_text() if self._suptitle else next(
                (ax.get_title() for ax in self.axes if ax.get_title()), "")
            watcher._drawing.append(Drawn(title))
            try:
                fig_draw(self, renderer)
            finally:
                drawn = watcher._drawing.pop()
                # a figure remembers where its record is (an id() may be reused once a figure is closed)
                if getattr(self, "_fcnet_watched", None) is None:
                    figs = watcher.figures.setdefault(watcher._lab, [])
                    self._fcnet_watched = (figs, len(figs))
                    figs.append(drawn)
                else:
                    figs, i = self._fcnet_watched
                    figs[i] = drawn

        def draw_text(self: matplotlib.text.Text, renderer: Any) -> None:
            text_draw(self, renderer)
            if watcher._drawing and self.get_visible() and self.get_text().strip():
                watcher._drawing[-1].texts.append((self.get_text(), self.get_window_extent(renderer)))

        matplotlib.figure.Figure.draw, matplotlib.text.Text.draw = draw_figure, draw_text  # type: ignore[method-assign]
        try:
            yield self
        finally:
            matplotlib.figure.Figure.draw, matplotlib.text.Text.draw = fig_draw, text_draw  # type: ignore[method-assign]


@dataclass
class LabRun:
    """One lab in one language: its result, the figures as drawn, whether the global random state was left
    as it was found (np.random's and fcnet's default generator), and whether a CJK font drew the figures.
    """

    result: Any
    figures: list[Drawn]
    np_state_kept: bool
    fcnet_generator_kept: bool
    cjk: bool


def _same_np_state(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(a, b, strict=True))


@contextmanager
def _random_state_watch() -> Iterator[Callable[[], tuple[bool, bool]]]:
    """Yields a function that says whether np.random's state and fcnet's default generator are as they were."""
    np_state = np.random.get_state()
    gen = fcnet.backend.default_generator()
    gen_state = gen.bit_generator.state

    def kept() -> tuple[bool, bool]:
        return (_same_np_state(np_state, np.random.get_state()),
                fcnet.backend.default_generator() is gen and gen.bit_generator.state == gen_state)
    yield kept


class LabRuns:
    """``runs(name)``: the lab ``name`` run in ``lang`` in this process as ``fcnet lab NAME --lang LANG``
    runs it (``choose_language``, then ``run_lab(name, out, 0, False)``), once; later calls return that run.
    """

    def __init__(self, lang: str, out: Path) -> None:
        self.lang, self.out = lang, out
        self._runs: dict[str, LabRun] = {}

    def __call__(self, name: str) -> LabRun:
        if name not in self._runs:
            self._runs[name] = self._run(name)
        return self._runs[name]

    def _run(self, name: str) -> LabRun:
        from fcnet.cli.lab import choose_language, run_lab
        from fcnet.lab.common import figures_in_english, set_figures_in_english, set_lang

        watcher = Watcher()
        watcher.begin(name)
        with _random_state_watch() as kept, matplotlib.rc_context(), watcher.active():
            try:
                choose_language(self.lang)
                cjk = not figures_in_english()
                result = run_lab(name, self.out, 0, False)
            finally:
                set_lang("en")
                set_figures_in_english(False)
            np_kept, gen_kept = kept()
        return LabRun(result, watcher.drawn().get(name, []), np_kept, gen_kept, self.lang == "zh" and cjk)


ROOT = Path(__file__).resolve().parents[2]
CLI_ARGS = ["lab", "all", "--out", "lab"]


@dataclass
class CliRun:
    """``fcnet lab all --out lab`` run in ``cwd``: its exit code, output, and each lab's record."""

    cwd: Path
    returncode: int
    stdout: str
    stderr: str
    labs: dict[str, LabRun]


class EnglishLabs:
    """``runs.cli``: ``fcnet lab all --out lab`` (English, seed 0), run once, on first use, in a subprocess in
    ``cwd``.  ``runs(name)``: the lab ``name`` as that command ran it; before the command has run (a test
    of one lab run alone), the lab run in this process as :class:`LabRuns` runs it, once.
    """

    lang = "en"

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._cli: CliRun | None = None
        self._here = LabRuns("en", cwd / "in-process")

    @property
    def cli(self) -> CliRun:
        if self._cli is None:
            record = self.cwd / "labs.pickle"
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get(
                "PYTHONPATH")])])}
            res = subprocess.run([sys.executable, "-m", "tests.lab.labruns", str(record), *CLI_ARGS], cwd=self.cwd,
                                 capture_output=True, text=True, timeout=900, env=env)
            labs: dict[str, LabRun] = {}
            if record.exists():
                from fcnet.viz.plots import FONT_PT

                saved = pickle.loads(record.read_bytes())
                labs = saved["labs"]
                FONT_PT.update(saved["font_pt"])  # the smallest font of each figure, as save_figure noted it
            self._cli = CliRun(self.cwd, res.returncode, res.stdout, res.stderr, labs)
        return self._cli

    def __call__(self, name: str) -> LabRun:
        if self._cli is None:
            return self._here(name)
        run = self._cli
        if name not in run.labs:
            raise AssertionError(f"`fcnet {' '.join(CLI_ARGS)}` did not run the lab {name!r} (exit code "
                                 f"{run.returncode}):\n{run.stderr}")
        return run.labs[name]


def _record_cli(record: Path, args: list[str]) -> None:
    """Run ``python -m fcnet ARGS`` in this process with every ``run_lab`` watched; write the records to
    ``record`` (each lab's result with its figures' paths made absolute, and ``FONT_PT`` likewise) and exit
    with fcnet's exit code.
    """
    import runpy

    import fcnet.cli.lab as cli_lab
    from fcnet.lab.common import figures_in_english, get_lang
    from fcnet.viz.plots import FONT_PT

    labs: dict[str, LabRun] = {}
    watcher = Watcher()
    run_lab = cli_lab.run_lab

    def watched_run_lab(name: str, out: Path, seed: int, full: bool) -> Any:
        watcher.begin(name)
        try:
            with _random_state_watch() as kept:
                result = run_lab(name, out, seed, full)
                np_kept, gen_kept = kept()
        finally:
            watcher.begin("")  # what is drawn between labs is no lab's
        labs[name] = LabRun(result, [], np_kept, gen_kept, get_lang() == "zh" and not figures_in_english())
        return result

    cli_lab.run_lab = watched_run_lab
    sys.argv = [sys.argv[0], *args]
    code: Any = 0
    try:
        with watcher.active():
            runpy.run_module("fcnet", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        cwd = Path.cwd()
        drawn = watcher.drawn()
        for name, run in labs.items():
            run.figures = drawn.get(name, [])
            run.result.figures = [cwd / p for p in run.result.figures]
        font_pt = {str(cwd / k): v for k, v in FONT_PT.items()}
        record.write_bytes(pickle.dumps({"labs": labs, "font_pt": font_pt}))
    sys.exit(code)


if __name__ == "__main__":
    from tests.lab import labruns  # the classes pickled must be tests.lab.labruns's, not __main__'s

    labruns._record_cli(Path(sys.argv[1]), sys.argv[2:])
