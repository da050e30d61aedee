"""A lab's result (tables, figures, numbers) and the HTML report of ``fcnet lab all``."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fcnet.train.io import atomic_write

__all__ = ["LabResult", "Table", "format_table", "write_html"]


@dataclass
class Table:
    """A captioned table of rows."""

    caption: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class LabResult:
    """What a lab shows: tables to print, PNG figures, and the numbers its claim rests on."""

    name: str
    slides: str
    title: str
    claim: str
    tables: list[Table] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.4g}"
        return f"{v:.4f}"
    return str(v)


def format_table(t: Table) -> str:
    """Plain-text table."""
    cells = [t.headers] + [[_cell(v) for v in r] for r in t.rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(t.headers))]
    lines = [t.caption, "  ".join(h.ljust(w) for h, w in zip(t.headers, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells[1:]]
    return "\n".join(lines)


def format_result(r: LabResult) -> str:
    """The lab's text output: heading, claim, tables, figure paths."""
    out = [f"== {r.title} (slides {r.slides}) ==", r.claim, ""]
    for t in r.tables:
        out += [format_table(t), ""]
    out += [f"figure: {p}" for p in r.figures]
    return "\n".join(out)


def write_html(results: list[LabResult], path: Path) -> Path:
    """One page with every lab's claim, tables and figures (relative image links)."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>fcnet lab report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;}table{border-collapse:"
             "collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "img{max-width:100%;border:1px solid #eee;margin:4px}</style></head><body>",
             "<h1>The lecture, executed: fcnet lab report</h1>"]
    for r in results:
        parts.append(f"<h2 id='{r.name}'>{html.escape(r.title)} — slides {html.escape(r.slides)}</h2>")
        parts.append(f"<p>{html.escape(r.claim)}</p><p><small>{r.seconds:.1f} s</small></p>")
        for t in r.tables:
            parts.append(f"<table><caption>{html.escape(t.caption)}</caption><tr>"
                         + "".join(f"<th>{html.escape(h)}</th>" for h in t.headers) + "</tr>")
            for row in t.rows:
                parts.append("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>")
            parts.append("</table>")
        for fig in r.figures:
            rel = Path(fig).resolve().relative_to(path.parent.resolve())
            parts.append(f"<img src='{html.escape(str(rel))}' alt='{html.escape(Path(fig).stem)}'>")
    parts.append("</body></html>")
    return atomic_write(path, "\n".join(parts).encode())
