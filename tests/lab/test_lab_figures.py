"""Every lab run once per language with the figures watched: what the labs leave behind (no global
random state), what their figures show (no colliding texts, no figure taller than a screen) and, in
Chinese, that no English is left in the figures or the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import matplotlib.figure
import matplotlib.text
import numpy as np
import pytest

import fcnet
from fcnet.lab import LABS


@dataclass
class Drawn:
    """One saved figure: the texts drawn in it with their window extents (pixels), its title."""

    title: str
    texts: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    """Every lab's result in one language, the figures as drawn, and the global random state after."""

    lang: str
    results: dict[str, Any]
    figures: dict[str, list[Drawn]]
    np_state_kept: bool
    fcnet_generator_kept: bool
    cjk: bool


class Watcher:
    """While active, every figure drawn is kept (under the lab named last by :meth:`begin`) with the texts
    it drew and their extents in pixels.  A figure drawn again (save_figure saves again, smaller, when a
    figure is too large) keeps its last drawing, the one saved.  Tick labels outside the view never draw.
    """

    def __init__(self) -> None:
        self.figures: dict[str, dict[int, Drawn]] = {}
        self._lab = ""
        self._drawing: list[Drawn] = []

    def begin(self, lab: str) -> None:
        self._lab = lab

    def drawn(self) -> dict[str, list[Drawn]]:
        return {k: list(v.values()) for k, v in self.figures.items()}

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
                watcher.figures.setdefault(watcher._lab, {})[id(self)] = watcher._drawing.pop()

        def draw_text(self: matplotlib.text.Text, renderer: Any) -> None:
            text_draw(self, renderer)
            if watcher._drawing and self.get_visible() and self.get_text().strip():
                watcher._drawing[-1].texts.append((self.get_text(), self.get_window_extent(renderer)))

        matplotlib.figure.Figure.draw, matplotlib.text.Text.draw = draw_figure, draw_text  # type: ignore[method-assign]
        try:
            yield self
        finally:
            matplotlib.figure.Figure.draw, matplotlib.text.Text.draw = fig_draw, text_draw  # type: ignore[method-assign]


@pytest.fixture(scope="module", params=["en", "zh"])
def run(request, tmp_path_factory) -> Run:
    """All labs in one language (seed 0), every figure watched while it is drawn."""
    from fcnet.cli.lab import choose_language, run_lab
    from fcnet.lab.common import figures_in_english, set_figures_in_english, set_lang

    lang = request.param
    out = tmp_path_factory.mktemp(f"figures_{lang}")
    np_state = np.random.get_state()
    gen = fcnet.backend.default_generator()
    gen_state = gen.bit_generator.state
    results = {}
    with matplotlib.rc_context(), Watcher().active() as watcher:
        try:
            choose_language(lang)
            cjk = not figures_in_english()
            for name in LABS:
                watcher.begin(name)
                results[name] = run_lab(name, out, 0, False)
        finally:
            set_lang("en")
            set_figures_in_english(False)
    after = np.random.get_state()
    np_kept = all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
                  for a, b in zip(np_state, after, strict=True))
    gen_kept = fcnet.backend.default_generator() is gen and gen.bit_generator.state == gen_state
    return Run(lang, results, watcher.drawn(), np_kept, gen_kept, lang == "zh" and cjk)


def test_labs_leave_the_global_random_state_untouched(run):
    assert run.np_state_kept, "a lab drew from or reseeded np.random's global generator"
    assert run.fcnet_generator_kept, "a lab drew from or reseeded fcnet's default generator (fcnet.manual_seed)"


def _overlap(a: Any, b: Any, tol: float = 0.5) -> bool:
    """Whether two extents share more than a sliver (``tol`` pixels) in both directions."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tol and min(a.y1, b.y1) - max(a.y0, b.y0) > tol


def collisions(figures: dict[str, list[Drawn]]) -> list[str]:
    """"lab [figure title]: 'text' × 'text'" for every two texts of one figure whose extents overlap."""
    found = []
    for name, figs in figures.items():
        for fig in figs:
            for i, (ta, ea) in enumerate(fig.texts):
                found += [f"{name} [{fig.title[:50]}]: {ta!r} × {tb!r}" for tb, eb in fig.texts[i + 1:]
                          if _overlap(ea, eb)]
    return found


def test_the_watch_sees_a_collision_and_skips_ticks_out_of_view(tmp_path):
    import matplotlib.pyplot as plt

    from fcnet.viz.plots import save_figure

    with Watcher().active() as w:
        w.begin("made up")
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xticks([0.0, 0.5, 1.0, 5.0])
        ax.set_xticklabels(["0", "half", "1", "five"])
        ax.set_xlim(0, 1)  # 5 is outside the view: its label never draws
        ax.set_title("a title")
        ax.text(0.5, 0.5, "here", transform=ax.transAxes)
        ax.text(0.5, 0.5, "and here", transform=ax.transAxes)
        save_figure(fig, tmp_path / "f.png")
    (drawn,) = w.drawn()["made up"]
    texts = [t for t, _ in drawn.texts]
    assert "half" in texts and "five" not in texts and drawn.title == "a title"
    assert collisions(w.drawn()) == ["made up [a title]: 'here' × 'and here'"]


def test_no_two_texts_of_a_figure_overlap(run):
    assert run.figures
    found = collisions(run.figures)
    assert not found, "\n".join(found)


def test_no_figure_is_taller_than_a_screen(run):
    from PIL import Image

    from fcnet.viz.style import MAX_HEIGHT_PX

    sizes = {str(p): Image.open(p).size for r in run.results.values() for p in r.figures}
    assert sizes
    assert not {p: s for p, s in sizes.items() if s[1] > MAX_HEIGHT_PX}
