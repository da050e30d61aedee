"""Print how many examples each invariant ran (the CI log records the coverage)."""

from __future__ import annotations

from typing import Any

from tests.invariants.options_space import EXAMPLES_RUN


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if EXAMPLES_RUN:
        terminalreporter.write_sep("-", "invariants: examples run")
        for name, n in sorted(EXAMPLES_RUN.items()):
            terminalreporter.write_line(f"{name}: {n} examples")
