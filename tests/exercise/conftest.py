"""Every exercise test starts and ends in English (``fcnet exercise --lang zh`` sets the language for the process)."""

from __future__ import annotations

import pytest

from fcnet.exercise.grading import set_lang


@pytest.fixture(autouse=True)
def _english():
    set_lang("en")
    yield
    set_lang("en")
