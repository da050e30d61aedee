"""Shared test helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def fcnet_cmd() -> list[str]:
    """The command that runs fcnet's CLI with this interpreter."""
    return [sys.executable, "-m", "fcnet"]
