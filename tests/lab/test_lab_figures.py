"""Every lab run once per language with the figures watched: what the labs leave behind (no global
random state), what their figures show (no colliding texts, no figure taller than a screen) and, in
Chinese, that no English is left in the figures or the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib
import pytest

from fcnet.lab import LABS
from tests.lab.labruns import Drawn, EnglishLabs, LabRuns, Watcher


@dataclass
class Run:
    """Every lab's result in one language, the figures as drawn, and the global random state after."""

    lang: str
    results: dict[str, Any]
    figures: dict[str, list[Drawn]]
    np_state_kept: bool
    fcnet_generator_kept: bool
    cjk: bool


@pytest.fixture(scope="module", params=["en", "zh"])
def run(request, english_labs: EnglishLabs, chinese_labs: LabRuns) -> Run:
    """All labs in one language (seed 0), every figure watched while it is drawn, and whether each lab left
    the global random state as it found it: in English the labs of `fcnet lab all`, in Chinese each lab as
    `fcnet lab NAME --lang zh` runs it.  test_labs, test_training_labs and test_lab_cli assert on the same
    runs (tests/lab/labruns.py)."""
    lang = request.param
    if lang == "en":
        english_labs.cli  # every lab at once: `fcnet lab all` (which test_lab_cli checks) rather than one by one
    labs = english_labs if lang == "en" else chinese_labs
    runs = {name: labs(name) for name in LABS}
    return Run(lang, {name: r.result for name, r in runs.items()},
               {name: r.figures for name, r in runs.items() if r.figures},
               all(r.np_state_kept for r in runs.values()), all(r.fcnet_generator_kept for r in runs.values()),
               lang == "zh" and all(r.cjk for r in runs.values()))


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
        del fig, ax
        for k in range(2):  # closed figures whose id() may be reused: each keeps its own record
            other, ax = plt.subplots(figsize=(3, 2))
            ax.set_title(f"other {k}")
            save_figure(other, tmp_path / f"g{k}.png")
            del other, ax
    drawn, *others = w.drawn()["made up"]
    assert [o.title for o in others] == ["other 0", "other 1"]
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


# Latin-letter words a Chinese text may hold: names the Chinese lecture itself writes in Latin letters
# (ReLU, tanh, Sigmoid, Softmax, Dropout, Adam, RMSProp, Xavier, He, KL, one-hot), other method and
# product names, data-set names (digits, xor, CIFAR), names of functions in formulas, notation (ax, Wx)
# and non-words (inf, nan, UTC).  Single letters (variables), differentials (dx, dw), function
# notation (summary(), deep(x)), LaTeX commands and tokens with digits or underscores (W_l, float64) are
# notation, not English.
ALLOWED = {"fcnet", "ReLU", "Leaky", "tanh", "sigmoid", "Sigmoid", "Softmax", "softmax", "Dropout", "Adam",
           "RMSProp", "AdaGrad", "SGD", "Xavier", "He", "KL", "one-hot", "PyTorch", "CIFAR", "digits", "xor",
           "MNIST", "UTC", "inf", "nan", "max", "min", "log", "ln", "exp", "Var", "ax", "Wx", "W'x"}


def english_words(text: str) -> list[str]:
    """The words of ``text`` written in Latin letters that are neither notation nor in :data:`ALLOWED`."""
    import re

    text = re.sub(r"\\[A-Za-z]+", " ", text)  # LaTeX commands of mathtext ($\\mathdefault{10^{-1}}$)
    found = []
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9_'’-]*[A-Za-z0-9_]|[A-Za-z]", text):
        w = m.group()
        if (len(w) > 1 and not re.search(r"[\d_]", w) and not re.fullmatch(r"d[a-z]", w) and w not in ALLOWED
                and not text.startswith("(", m.end())):
            found.append(w)
    return found


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page as prose: the head (styles; the title repeats the first heading),
    tags, MathML, code and images removed.
    """
    import html
    import re

    page = re.sub(r"<(head|script|math|code)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def test_english_words_finds_english_and_passes_notation():
    assert english_words("第38页：W'x + b' 与 float64, dx, ReLU 和 Adam") == []
    assert english_words("relu (He 初始化), layer 3") == ["relu", "layer"]
    assert english_words("$\\mathdefault{10^{-1}}$ summary() deep(x) −log(q)") == []
    assert visible_text("<p>值 <code>--lr</code><math><mi>sin</mi></math> and</p>").split() == ["值", "and"]


def test_chinese_report_has_no_english_words(run, tmp_path):
    if run.lang != "zh":
        pytest.skip("the Chinese report")
    from fcnet.i18n import set_lang
    from fcnet.lab.report import Code, write_html

    set_lang("zh")
    try:
        page = write_html(list(run.results.values()), tmp_path / "index.html",
                          meta={"命令": Code("fcnet lab all --lang zh")}).read_text(encoding="utf-8")
    finally:
        set_lang("en")
    lines = [line.strip() for line in visible_text(page).splitlines() if english_words(line)]
    assert not lines, "\n".join(f"{english_words(line)}: {line[:120]}" for line in lines)


def test_chinese_figures_have_no_english_words(run):
    if run.lang != "zh":
        pytest.skip("the Chinese figures")
    if not run.cjk:
        pytest.skip("no CJK font: the figures are drawn in English")
    found = sorted({f"{name}: {english_words(t)} in {t!r}" for name, figs in run.figures.items() for fig in figs
                    for t, _ in fig.texts if english_words(t)})
    assert not found, "\n".join(found)


def test_prose_inside_formulas_is_chinese(run):
    """Text groups of the formulas (\\text{...}, shown as MathML prose) are translated where they are shown."""
    import re

    if run.lang != "zh":
        pytest.skip("the Chinese formulas")
    from fcnet.i18n import math_text, set_lang

    set_lang("zh")
    try:
        texts = [t for r in run.results.values() for f in r.formulas for t in re.findall(r"\\text\{([^{}]*)\}",
                                                                                        math_text(f))]
    finally:
        set_lang("en")
    assert texts
    assert not [t for t in texts if english_words(t)]


def test_chinese_terminal_names_the_report_in_chinese(tmp_path, monkeypatch, capsys):
    import argparse

    import fcnet.cli.lab as cli
    from fcnet.i18n import set_lang

    monkeypatch.setattr(cli, "LABS", {"naming": LABS["naming"]})
    args = argparse.Namespace(lab="all", out=str(tmp_path), seed=0, full=False, lang="zh", notebook=False,
                              notebooks=None)
    try:
        with matplotlib.rc_context():
            assert cli.run(args) == 0
    finally:
        set_lang("en")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"报告: {tmp_path / 'index.html'}"


def test_summary_line_is_code_in_english_and_translated_in_chinese():
    from fcnet import nn
    from fcnet.i18n import set_lang
    from fcnet.lab.naming import shown_summary
    from fcnet.lab.report import Code

    heads = [nn.FullyConnectedNet(4, h, 3, rng=0).summary().splitlines()[0] for h in ([], [5, 6])]
    assert all(isinstance(shown_summary(h), Code) and shown_summary(h) == h for h in heads)
    set_lang("zh")
    try:
        assert [shown_summary(h) for h in heads] == ["1层网络，0个隐层（线性分类器 f = Wx + b）：4 → 3",
                                                     "3层网络，2个隐层：4 → 5 → 6 → 3"]
    finally:
        set_lang("en")


def test_report_shows_code_cells_and_backticked_spans_as_code(tmp_path):
    from fcnet.lab.report import Code, LabResult, Table, write_html

    res = LabResult("x", "1", "t", "see `fcnet datasets`.",
                    [Table("`--lr` sets ε", ["a", "b"], [[Code("--hidden 64 <b>"), "x `y` z"], [1.5, "plain"]])])
    page = write_html([res], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<p class='claim'>see <code>fcnet datasets</code>.</p>" in page
    assert "<caption><code>--lr</code> sets ε</caption>" in page
    assert "<td><code>--hidden 64 &lt;b&gt;</code></td><td>x <code>y</code> z</td>" in page
    assert "<td>1.5000</td><td>plain</td>" in page
