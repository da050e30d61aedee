"""``fcnet lab NAME``: one of the lecture's experiments, printed as tables and drawn as PNG."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError
from fcnet.lab import LABS


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="run a lecture experiment (tables + figures); 'all' writes an HTML report",
                       description="Labs: " + ", ".join(LABS) + ". `fcnet lab all` runs every lab and writes "
                                   "one self-contained index.html.")
    p.add_argument("lab", choices=[*LABS, "all"])
    p.add_argument("--out", default="lab", help="output directory for figures and the report (default: lab)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full", action="store_true", help="the lecture's full-size version (slower)")
    p.add_argument("--lang", choices=["en", "zh"], default="en",
                   help="language of titles, labels, tables and claims; without a CJK font (e.g. fonts-noto-cjk) "
                        "zh text and report stay Chinese and only the figures are drawn in English")
    p.add_argument("--notebook", action="store_true",
                   help="also write each lab as a Jupyter notebook NAME.ipynb into --out (needs fcnet[notebook])")
    p.add_argument("--notebooks", metavar="DIR", default=None,
                   help="write each lab as a Jupyter notebook NAME.ipynb into DIR (needs fcnet[notebook])")
    p.set_defaults(func=run)


FIGURE_NOTE_ZH = ("本机没有找到中文字体（例如 Debian 的 fonts-noto-cjk），图中文字以英文绘制；"
                  "正文、公式与表格为中文。")


def choose_language(lang: str) -> str:
    """Switch the labs (and matplotlib's font) to ``lang``.

    Chinese without a CJK font stays Chinese for text, tables and the report (a browser or terminal
    renders them); only the figures fall back to English, with one warning.
    """
    from fcnet.lab.common import set_figures_in_english, set_lang
    from fcnet.viz.style import apply_style, find_cjk_font, use_cjk_font

    apply_style()
    set_figures_in_english(False)
    if lang == "zh":
        family = find_cjk_font()
        if family is None:
            print("warning: no CJK font found (install fonts-noto-cjk); the text stays Chinese, the figures are "
                  "drawn in English", file=sys.stderr)
            set_figures_in_english(True)
        else:
            use_cjk_font(family)
    set_lang(lang)
    return lang


def run_lab(name: str, out: Path, seed: int, full: bool) -> Any:
    """Run one lab; returns its LabResult.

    With Chinese text but English figures the lab runs twice on the same seed: once in English for the
    figures, once in Chinese (figures discarded) for the text; the numbers are the same.
    """
    from fcnet.lab.common import figures_in_english, set_lang
    from fcnet.viz.style import apply_style

    apply_style()
    Path(out).mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    module = importlib.import_module(LABS[name])
    if figures_in_english():
        set_lang("en")
        try:
            en = module.run(out, seed=seed, full=full)
        finally:
            set_lang("zh")
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing CJK glyphs in figures that are thrown away
            res = module.run(Path(tmp), seed=seed, full=full)
        res.figures = en.figures
    else:
        res = module.run(out, seed=seed, full=full)
    res.seconds = time.perf_counter() - t
    return res


def report_meta(args: argparse.Namespace) -> dict[str, str]:
    """What reproduces the report: fcnet's version, the seed, the date (UTC) and the command line."""
    import datetime
    import shlex

    import fcnet
    from fcnet.i18n import tr
    from fcnet.lab.report import Code

    return {tr("fcnet version", "fcnet 版本"): fcnet.__version__, tr("seed", "随机种子"): str(args.seed),
            tr("date", "日期"): datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            tr("command", "命令"): Code(shlex.join(["fcnet", *sys.argv[1:]]) if sys.argv[1:2] == ["lab"]
            else shlex.join(["fcnet", "lab", args.lab, "--out", str(args.out), "--seed", str(args.seed),
                             "--lang", args.lang] + (["--full"] if args.full else [])))}


def run(args: argparse.Namespace) -> int:
    from fcnet.lab.report import format_result, write_html
    from fcnet.train.recipe import blas_threads

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a directory: choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    nb_dir = Path(args.notebooks) if args.notebooks else (out if args.notebook else None)
    if nb_dir is not None:
        try:
            import nbformat  # noqa: F401
        except ImportError:
            raise ConfigError("--notebook needs nbformat: pip install 'fcnet[notebook]'") from None
        if nb_dir.exists() and not nb_dir.is_dir():
            raise ConfigError(f"--notebooks {nb_dir} is a file, not a directory: choose another directory")
        nb_dir.mkdir(parents=True, exist_ok=True)
    choose_language(args.lang)
    from fcnet.i18n import tr
    from fcnet.lab.common import figures_in_english
    from fcnet.lab.notebook import build_notebook, write_notebook

    note = FIGURE_NOTE_ZH if figures_in_english() else None
    names = list(LABS) if args.lab == "all" else [args.lab]
    results = []
    with blas_threads(None):
        for name in names:
            res = run_lab(name, out, args.seed, args.full)
            print(format_result(res), flush=True)
            print(f"({name}: {res.seconds:.1f} s)\n", flush=True)
            results.append(res)
            if nb_dir is not None:
                nb = build_notebook(name, res, args.seed, args.full, args.lang, out=str(out.resolve()))
                print(f"notebook: {write_notebook(nb_dir / f'{name}.ipynb', nb)}", flush=True)
    if args.lab == "all":
        page = write_html(results, out / "index.html", note=note, meta=report_meta(args))
        print(f"{tr('report', '报告')}: {page}")
    return 0
