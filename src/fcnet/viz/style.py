"""One look for every lab figure: size and resolution a projector shows well, and a CJK font for ``--lang zh``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
from typing import Any

from cycler import cycler
from matplotlib import font_manager

__all__ = ["CJK_FAMILIES", "CLASS_COLOURS", "DPI", "MAX_HEIGHT_PX", "MAX_WIDTH_PX", "MIN_FONT_PX", "apply_style",
           "class_cmap", "find_cjk_font", "use_cjk_font"]

DPI = 110
MAX_WIDTH_PX = 1600  # a projector's width; save_figure shrinks anything wider
MAX_HEIGHT_PX = 1200  # a figure taller than a screen cannot be read whole
MIN_FONT_PX = 10  # the smallest text, in CSS pixels, as the report shows figures (at their natural size)
# Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies
CLASS_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def class_cmap(n: int) -> Any:
    """A colour map of ``n`` colour-blind-safe class colours (for scatter plots and decision regions)."""
    from matplotlib.colors import ListedColormap

    return ListedColormap(list(CLASS_COLOURS[:n]), name=f"fcnet_classes_{n}")
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC",
                "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


def _known() -> set[str]:
    return {f.name for f in font_manager.fontManager.ttflist}


def find_cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None.

    Matplotlib's font cache may predate a font package installed later (Debian ``fonts-noto-cjk``), so
    files whose name says CJK are registered with the font manager before giving up.
    """
    for fam in CJK_FAMILIES:
        if fam in _known():
            return fam
    for path in font_manager.findSystemFonts():
        if "cjk" in path.lower() or "han" in path.lower():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    known = _known()
    return next((fam for fam in CJK_FAMILIES if fam in known), None)


def use_cjk_font(family: str) -> None:
    """Put ``family`` first so Chinese titles and labels render; DejaVu Sans fills in glyphs it lacks (ⁿ, ₁)."""
    matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack U+2212


def apply_style() -> None:
    """Font sizes readable from the back of a room; layout that keeps titles and ticks apart."""
    matplotlib.rcParams.update({
        "figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 10, "axes.titlesize": 10.5,
        "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 8.5,
        "figure.titlesize": 12, "figure.constrained_layout.use": True,
        "axes.prop_cycle": cycler(color=list(CLASS_COLOURS)),
    })
