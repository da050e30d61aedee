"""`fcnet lab`: the one-file HTML report (opened in a real Chromium), --lang, --out, file modes."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fcnet.lab import LABS
from tests.conftest import fcnet_cmd

CHROMIUM = Path("/usr/bin/chromium")
FAST_LABS = ["collapse", "activations", "losses", "gates"]


def _check_in_browser(page_path: Path) -> dict:
    """Open the page in headless Chromium; every <img> loaded, none blank, TOC links resolve, MathML present."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            page = browser.new_page()
            page.goto(page_path.resolve().as_uri())
            page.wait_for_load_state("load")
            imgs = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.getAttribute('src'), w: e.naturalWidth, ok: e.complete}))")
            toc = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
            missing = [h for h in toc if page.query_selector(h) is None]
            n_math = page.eval_on_selector_all("math", "els => els.length")
            requests = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        finally:
            browser.close()
    assert imgs, "no images in the report"
    for im in imgs:
        assert im["ok"] and im["w"] > 0, im["src"][:60]
        assert im["src"].startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(im["src"].split(",", 1)[1]))) as pil:
            assert np.asarray(pil.convert("L"), dtype=float).std() > 0
    assert toc and not missing, missing
    assert n_math > 0
    assert not [r for r in requests if not r.startswith("data:")]  # nothing fetched from outside the file
    return {"images": len(imgs), "toc": len(toc), "math": n_math}


def _modes(folder: Path) -> set[str]:
    return {oct(p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    import argparse
    import warnings

    from fcnet.cli.lab import report_meta, run_lab
    from fcnet.lab.common import set_lang
    from fcnet.lab.report import write_html

    out = tmp_path_factory.mktemp("report")
    set_lang("en")
    old = os.umask(0o022)
    args = argparse.Namespace(lab="all", out=str(out), seed=0, full=False, lang="en")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = [run_lab(n, out, 0, False) for n in FAST_LABS]
        page = write_html(results, out / "index.html", meta=report_meta(args))
    finally:
        os.umask(old)
    return {"page": page, "caught": [str(w.message) for w in caught], "results": results}


@pytest.fixture(scope="module")
def subset_report(subset):
    return subset["page"]


def test_labs_print_no_warnings(subset):
    assert subset["caught"] == []


def test_report_names_version_seed_date_and_command(subset_report):
    import fcnet

    html = subset_report.read_text()
    assert f"fcnet version: {fcnet.__version__}" in html and "seed: 0" in html
    assert re.search(r"date: \d{4}-\d\d-\d\d \d\d:\d\d UTC", html) and "command: <code>fcnet lab all" in html


def test_report_claims_are_short_with_every_condition_folded(subset):
    from fcnet.lab.report import CLAIM_WORDS, split_claim

    html = subset["page"].read_text()
    for r in subset["results"]:
        head, rest = split_claim(r.claim)
        assert len(head.split()) <= CLAIM_WORDS and head
        assert f"{head} {rest}".strip() == r.claim.strip()  # nothing dropped
        if rest:
            assert "<details>" in html
    shown = re.findall(r"<p class='claim'>(.*?)</p>", html)
    assert shown and all(len(c.split()) <= CLAIM_WORDS for c in shown)


def test_figures_fonts_at_least_10_px_as_the_report_shows_them(subset):
    from fcnet.viz.plots import FONT_PT
    from fcnet.viz.style import DPI, MIN_FONT_PX

    html = subset["page"].read_text()
    assert "img{max-width:none" in html  # shown at natural size: 1 figure pixel is 1 CSS pixel
    figs = [str(p) for r in subset["results"] for p in r.figures if p.suffix == ".png"]
    for p in figs:
        if p in FONT_PT:  # matplotlib figures (Graphviz sets its own 11 pt)
            assert FONT_PT[p] * DPI / 72 >= MIN_FONT_PX, (p, FONT_PT[p])


def test_split_claim_chinese_and_english():
    from fcnet.lab.report import split_claim

    en = "One two three. " * 30
    head, rest = split_claim(en.strip(), 10)
    assert head == "One two three. One two three. One two three." and rest
    zh = "第2页：直接利用原始像素作为特征。" * 20
    head, rest = split_claim(zh, 60)
    assert head and rest and head + rest == zh and len(head) <= 130


def test_report_is_one_file_with_embedded_figures_toc_and_mathml(subset_report):
    html = subset_report.read_text()
    assert "<img src='data:image/png;base64," in html
    assert not re.search(r"<img src='(?!data:)", html)
    assert html.count("<math") >= len(FAST_LABS) and "<script" not in html
    for name in FAST_LABS:
        assert f"href='#{name}'" in html and f"id='{name}'" in html
    assert " s</small>" not in html  # no run times in the report
    assert "<th>slide (picture)</th>" in html and "<th>fcnet</th>" in html


def test_report_files_are_readable_by_a_web_server(subset_report):
    assert _modes(subset_report.parent) == {"0o644"}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (CI installs it)")
def test_report_opens_in_chromium(subset_report):
    seen = _check_in_browser(subset_report)
    assert seen["images"] == 1 + (2 if shutil.which("dot") else 0)  # activations 1, gates 2 (with Graphviz)
    assert seen["toc"] == len(FAST_LABS)


def test_lab_all_writes_one_self_contained_report(english_labs):
    # `fcnet lab all --out lab`, run once for this test and the tests of tests/lab (tests/lab/labruns.py)
    res = english_labs.cli
    assert res.returncode == 0, res.stderr
    page = res.cwd / "lab" / "index.html"
    html = page.read_text()
    for slides in ["2, 4, 12-17", "36-39", "50-64", "65-79", "124-136", "137-141", "170-178"]:
        assert f"{slides}" in html
    assert "1.467e-48" in html and "0.7311" in html
    assert "command: <code>fcnet lab all --out lab</code>" in html and "seed: 0" in html
    shown = re.findall(r"<p class='claim'>(.*?)</p>", html)
    assert len(shown) == len(LABS) and all(len(c.split()) <= 60 for c in shown)
    assert "Warning" not in res.stderr and "warning" not in res.stderr  # nothing printed but progress
    assert _modes(res.cwd / "lab") == {oct(0o666 & ~_umask())}
    if CHROMIUM.exists():
        _check_in_browser(page)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_lab_out_must_not_be_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    res = subprocess.run([*fcnet_cmd(), "lab", "collapse", "--out", "f"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "--out" in res.stderr


def test_lab_single_prints_table(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "lab", "collapse", "--out", "o"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0
    assert "no activations" in res.stdout and "W'x + b'" in res.stdout


def test_lang_zh_gives_chinese_titles_and_claims(tmp_path):
    from fcnet.viz.style import find_cjk_font

    res = subprocess.run([*fcnet_cmd(), "lab", "collapse", "--lang", "zh", "--out", "o"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    assert "为什么需要非线性操作" in res.stdout and "如果网络中缺少了激活函数" in res.stdout
    if find_cjk_font() is None:
        assert "no CJK font" in res.stderr
    else:
        assert "为什么需要非线性操作" in res.stdout and "如果网络中缺少了激活函数" in res.stdout
        assert res.stderr == ""


def test_lang_zh_figure_titles(tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    from fcnet.cli.lab import choose_language
    from fcnet.lab.common import get_lang, set_lang, slide_title
    from fcnet.viz.style import find_cjk_font

    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    saved = dict(matplotlib.rcParams)
    try:
        assert choose_language("zh") == "zh" and get_lang() == "zh"
        title = slide_title("41", "activations", "激活函数")
        assert title.startswith("第41页")
        fig, ax = plt.subplots()
        ax.set_title(title)
        fig.canvas.draw()  # a missing glyph would warn here
        plt.close(fig)
    finally:
        set_lang("en")
        matplotlib.rcParams.update(saved)


def test_lang_zh_without_cjk_font_keeps_chinese_text_and_draws_english_figures(monkeypatch, capsys, tmp_path):
    import matplotlib

    from fcnet.cli.lab import FIGURE_NOTE_ZH, choose_language, run_lab
    from fcnet.lab.common import figures_in_english, get_lang, set_figures_in_english, set_lang
    from fcnet.lab.report import format_result, write_html
    from fcnet.viz import style

    saved = dict(matplotlib.rcParams)
    try:
        set_lang("en")
        en = run_lab("activations", tmp_path / "en", 0, False)
        monkeypatch.setattr(style, "find_cjk_font", lambda: None)
        assert choose_language("zh") == "zh" and get_lang() == "zh" and figures_in_english()
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "CJK font" in err
        zh = run_lab("activations", tmp_path / "zh", 0, False)
        assert "激活函数" in zh.title and zh.claim != en.claim and "第" in format_result(zh)
        assert [p.name for p in zh.figures] == [p.name for p in en.figures]
        for a, b in zip(en.figures, zh.figures, strict=True):  # the figures are the English ones
            assert a.read_bytes() == b.read_bytes()
        page = write_html([zh], tmp_path / "zh" / "index.html", note=FIGURE_NOTE_ZH).read_text()
        assert "lang='zh-Hans'" in page and FIGURE_NOTE_ZH in page and "激活函数" in page
        assert capsys.readouterr().err == ""  # no further warning
    finally:
        set_lang("en")
        set_figures_in_english(False)
        matplotlib.rcParams.update(saved)
