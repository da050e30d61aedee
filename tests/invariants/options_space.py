"""Hypothesis strategies drawn FROM ``fcnet.train.options.OPTIONS``: a new option row is drawn automatically.

Every row gets a strategy from its kind, choices, interval and optionality.  ``TINY`` only shrinks
the sizes (widths, epochs, batches) so a whole run takes milliseconds; ``HARNESS`` lists the rows
that say where a run reads and writes (fixed by each test, not drawn).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from fcnet.train.options import OPTIONS, Option

# where a run reads and writes, and how: fixed by the harness
HARNESS = {"data", "data_dir", "subset", "device", "name", "out", "tensorboard", "threads"}

# sizes kept tiny (the option's own interval still applies); lr kept where runs seldom diverge
TINY: dict[str, Any] = {
    "hidden": st.lists(st.integers(1, 6), min_size=0, max_size=2),
    "epochs": st.integers(1, 4),
    # 53 and 59 leave a last batch of one sample (54 or 60 training samples): drawn on purpose
    "batch_size": st.sampled_from([1, 7, 13, 53, 59, 64]),
    "step_size": st.integers(1, 3),
    "early_stopping": st.integers(0, 2),
    "checkpoint_every": st.integers(1, 3),
    "warmup": st.sampled_from([0.0, 0.5, 1.0, 1.5]),
    "lr": st.sampled_from([1e-3, 1e-2, 0.05, 0.1]),
    "val_split": st.sampled_from([0.0, 0.1, 0.25]),
    "seed": st.integers(0, 2**32 - 1),
}
# a time-budgeted run stops where the clock says, so it is not bit-reproducible (README, "--time-budget"):
# the bit-exact invariants draw every other option; tests/unit/test_time_budget.py covers this one
NOT_BIT_EXACT = {"time_budget"}
_CAPS = {"float": 10.0, "int": 8}  # the upper end of an interval that has none


def for_option(opt: Option) -> st.SearchStrategy[Any]:
    """A strategy for one option row (TINY where its sizes matter)."""
    if opt.name in TINY:
        base = TINY[opt.name]
    elif opt.choices:
        base = st.sampled_from(opt.choices)
    elif opt.kind == "bool":
        base = st.booleans()
    elif opt.kind in ("int", "ints"):
        iv = opt.interval
        lo = int(iv.low) if iv and iv.low is not None else 0
        lo += 1 if iv and iv.low is not None and iv.closed in ("right", "neither") else 0
        hi = int(iv.high) if iv and iv.high is not None else lo + _CAPS["int"]
        hi = min(hi, lo + _CAPS["int"])
        base = st.integers(lo, hi) if opt.kind == "int" else st.lists(st.integers(max(lo, 1), hi), max_size=2)
    elif opt.kind == "float":
        iv = opt.interval
        lo = float(iv.low) if iv and iv.low is not None else -_CAPS["float"]
        hi = float(iv.high) if iv and iv.high is not None else lo + _CAPS["float"]
        base = st.floats(lo, hi, exclude_min=bool(iv) and iv.closed in ("right", "neither"),
                         exclude_max=bool(iv) and iv.closed in ("left", "neither") and iv.high is not None,
                         allow_nan=False).map(lambda v: float(f"{v:.4g}"))
        base = base.filter(lambda v, o=opt: v in o.interval if o.interval else math.isfinite(v))
    else:
        base = st.just(opt.default)
    return st.one_of(st.none(), base) if opt.optional else base


@st.composite
def configs(draw: Any, **fixed: Any) -> dict[str, Any]:
    """A whole training configuration: every OPTIONS row not in HARNESS, drawn; ``fixed`` wins."""
    cfg = {name: draw(for_option(opt)) for name, opt in OPTIONS.items()
           if name not in HARNESS and name not in NOT_BIT_EXACT}
    cfg.update(data="digits", subset=60, **fixed)
    if cfg["warmup"] >= cfg["epochs"]:
        cfg["warmup"] = 0.0
    if cfg.get("batchnorm") and cfg["batch_size"] < 2:  # refused by validate(): a batch of one has no variance
        cfg["batch_size"] = 2
    return {k: v for k, v in cfg.items() if v is not None}


def deep() -> bool:
    """Whether the ``deep`` profile (``--hypothesis-profile=deep``) is loaded."""
    return settings.default.max_examples >= 500


def examples(ci: int, many: int) -> int:
    """Examples per invariant: ``ci`` in CI and by default, ``many`` with --hypothesis-profile=deep."""
    return many if deep() else ci


EXAMPLES_RUN: dict[str, int] = {}  # invariant → examples actually run (printed at the end of the session)


def count(name: str) -> None:
    EXAMPLES_RUN[name] = EXAMPLES_RUN.get(name, 0) + 1
