"""A lab's result (tables, figures, numbers) and the one-file HTML report of ``fcnet lab all``."""

from __future__ import annotations

import base64
import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latex2mathml.converter import convert as latex_to_mathml

from fcnet.i18n import math_text, tr
from fcnet.train.io import atomic_write

__all__ = ["Code", "LabResult", "Table", "display_width", "format_result", "format_table", "mathml", "shown_claim",
           "split_claim", "write_html"]


class Code(str):
    """A table cell that is code (a flag, a search-space spec, a program's output): shown as such, never translated."""

    __slots__ = ()


@dataclass
class Table:
    """A captioned table of rows."""

    caption: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class LabResult:
    """What a lab shows: tables to print, PNG figures, and the numbers its claim rests on.

    ``formulas`` are the slides' formulas in LaTeX; the report shows them as MathML (no network needed).
    ``summary`` is the claim a reader sees first, in at most :data:`CLAIM_WORDS` words with every condition
    under which it holds; the full ``claim`` is then folded below it.  Without a summary the report shows the
    leading whole sentences of ``claim`` that fit.
    """

    name: str
    slides: str
    title: str
    claim: str
    tables: list[Table] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    formulas: list[str] = field(default_factory=list)
    summary: str = ""


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.4g}"
        return f"{v:.4f}"
    return str(v)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (W) and full-width (F) East Asian characters take two,
    combining marks none.
    """
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_table(t: Table) -> str:
    """Plain-text table, columns aligned by display width (a Chinese character takes two columns)."""
    cells = [t.headers] + [[_cell(v) for v in r] for r in t.rows]
    widths = [max(display_width(str(row[i])) for row in cells) for i in range(len(t.headers))]
    lines = [t.caption, "  ".join(_pad(h, w) for h, w in zip(t.headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(str(c), w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells[1:]]
    return "\n".join(lines)


def format_result(r: LabResult) -> str:
    """The lab's text output: heading, claim, formulas, tables, figure paths."""
    out = [f"== {r.title} ({tr('slides', '幻灯片')} {r.slides}) ==", *([r.summary, ""] if r.summary else []),
           r.claim, ""]
    out += [f"  {math_text(f)}" for f in r.formulas] + ([""] if r.formulas else [])
    for t in r.tables:
        out += [format_table(t), ""]
    out += [f"{tr('figure', '图')}: {p}" for p in r.figures]
    return "\n".join(out)


CLAIM_WORDS = 60  # the claim a reader sees first; the full text (every condition) is folded below it


def _words(text: str) -> int:
    """Words of English, or CJK characters / 2 (about a word each two characters) of Chinese."""
    cjk = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return len(text.split()) + (cjk + 1) // 2 - sum(1 for w in text.split() if any(
        unicodedata.east_asian_width(ch) in "WF" for ch in w))


def split_claim(claim: str, limit: int = CLAIM_WORDS) -> tuple[str, str]:
    """The leading sentences of ``claim`` that fit in ``limit`` words, and the rest (folded in the report).

    A cut falls between whole sentences (after ". " before a capital letter, an opening quote or bracket, or
    after "。"); only when the first sentence alone is longer than ``limit`` does it fall between clauses, after
    "; " or "；".  Never at ":" (that would leave a dangling "Slide 12:").  The two parts together are the
    claim, nothing dropped.
    """
    if _words(claim) <= limit:
        return claim.strip(), ""
    first = 0  # the end of the shortest whole unit, taken when none fits in ``limit``
    for pattern in (r"(?<=[.?!])\s+(?=[A-Z(\"'‘“])|[。？！]", r";\s+|；"):
        cut = 0
        for m in re.finditer(pattern, claim):
            if m.end() >= len(claim.rstrip()):
                break
            first = min(first or m.end(), m.end())
            if _words(claim[:m.end()]) > limit:
                break
            cut = m.end()
        if cut:
            return claim[:cut].strip(), claim[cut:].strip()
    return (claim[:first].strip(), claim[first:].strip()) if first else (claim.strip(), "")


def shown_claim(r: LabResult) -> tuple[str, str]:
    """What the report shows of ``r``: the visible claim (its summary, or the leading sentences of its claim)
    and the folded text (the whole claim when there is a summary, else the rest of it).
    """
    if r.summary:
        return r.summary.strip(), r.claim.strip()
    return split_claim(r.claim)


def mathml(latex: str) -> str:
    """A LaTeX formula as display MathML, which browsers render without scripts or fonts from a network."""
    return latex_to_mathml(latex, display="block")


def _inline(text: str) -> str:
    """Escaped HTML of ``text`` with each `backticked` span set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _td(v: Any) -> str:
    """A table cell: code as code, text with its `backticked` spans as code, numbers as :func:`_cell` writes them."""
    if isinstance(v, Code):
        return f"<td><code>{html.escape(v)}</code></td>"
    return f"<td>{_inline(v) if isinstance(v, str) else html.escape(_cell(v))}</td>"


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


_STYLE = ("body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;max-width:1640px;margin:2em auto;"
          "padding:0 1em;line-height:1.45}table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}caption{text-align:left;"
          "font-weight:bold;padding:4px 0}"
          "img{max-width:none;border:1px solid #eee;margin:6px 0;display:block}.fig{overflow-x:auto}"
          ".meta{color:#444;font-size:.9em}.note{background:#fff4d6;border-left:4px solid #b07a00;padding:.5em 1em}"
          ".claim{background:#f4f7fb;border-left:4px solid #4a78b5;padding:.5em 1em}"
          "math{font-size:1.15em;margin:.4em 0}nav li{margin:2px 0}p,details{max-width:62em}")


def _meta_value(v: Any) -> str:
    """A value of the report's header: a command line is code."""
    return f"<code>{html.escape(str(v))}</code>" if isinstance(v, Code) else html.escape(str(v))


def write_html(results: list[LabResult], path: Path, note: str | None = None,
               meta: dict[str, Any] | None = None) -> Path:
    """One self-contained page: a table of contents by slide, then each lab's claim, formulas, tables
    and figures (embedded as data: URIs, so the single file can be mailed and opened offline).
    """
    lang = tr("en", "zh-Hans")
    heading = tr("The lecture, executed: `fcnet lab` report", "全连接神经网络课程的可运行实验：`fcnet lab` 报告")
    parts = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
             f"<title>{html.escape(heading.replace('`', ''))}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{_inline(heading)}</h1>",
             *([f"<p class='note' role='note'>{_inline(note)}</p>"] if note else []),
             *([f"<p class='meta'>{' · '.join(html.escape(f'{k}: ') + _meta_value(v) for k, v in meta.items())}</p>"]
               if meta else []),
             f"<nav><h2>{tr('Contents by slide', '按幻灯片页码的目录')}</h2><ol>"]
    for r in sorted(results, key=lambda r: int(m.group()) if (m := re.search(r"\d+", r.slides)) else 0):
        parts.append(f"<li><a href='#{r.name}'>{tr('Slides', '第')} {html.escape(r.slides)}"
                     f"{tr('', ' 页')}: {html.escape(r.title)}</a></li>")
    parts.append("</ol></nav>")
    for r in results:
        parts.append(f"<section id='{r.name}'><h2>{html.escape(r.title)} — {tr('slides', '第')} "
                     f"{html.escape(r.slides)}{tr('', ' 页')}</h2>")
        head, rest = shown_claim(r)
        parts.append(f"<p class='claim'>{_inline(head)}</p>")
        if rest:
            label = (tr("The full claims, slide by slide, with their setups", "逐页的全部结论及其实验设置")
                     if r.summary else tr("The rest of the claims and their setups", "其余结论及其实验设置"))
            parts.append(f"<details><summary>{label}</summary><p>{_inline(rest)}</p></details>")
        parts += [mathml(math_text(f)) for f in r.formulas]
        for t in r.tables:
            parts.append(f"<table><caption>{_inline(t.caption)}</caption><tr>"
                         + "".join(f"<th>{_inline(h)}</th>" for h in t.headers) + "</tr>")
            for row in t.rows:
                parts.append("<tr>" + "".join(_td(v) for v in row) + "</tr>")
            parts.append("</table>")
        for fig in r.figures:
            # natural size: a figure shrunk to the page would shrink its text below 10 px
            parts.append(f"<div class='fig'><img src='{_png_uri(fig)}' alt='{html.escape(Path(fig).stem)}'></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return atomic_write(path, "\n".join(parts).encode())
