"""Argument types shared by the subcommands' parsers."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from fcnet.train.options import MAX_INT


def whole_number(what: str, minimum: int, maximum: int = MAX_INT) -> Callable[[str], int]:
    """An argparse ``type`` taking a whole number in [minimum, maximum]; ``what`` (the flag) names it in errors."""

    def conv(text: str) -> int:
        shown = text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} takes a whole number, got {shown!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {v}")
        if v > maximum:
            raise argparse.ArgumentTypeError(f"{what} must be at most {maximum:,}, got {shown}")
        return v

    return conv
