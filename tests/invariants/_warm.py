"""Imported once by the kill harness's fork server: one tiny run, so every run forked from it starts warm.

The data set is loaded, the plotting and the kernels' first compilation are done here, not again in
each killed process (they cost a second or more per process).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile

from fcnet.cli import main as cli_main

os.environ["FCNET_OFFLINE"] = "1"
with tempfile.TemporaryDirectory() as _d, contextlib.redirect_stdout(io.StringIO()), \
        contextlib.redirect_stderr(io.StringIO()):
    cli_main.main(["train", "--data", "digits", "--subset", "60", "--hidden", "4", "--epochs", "2",
                   "--quiet", "--out", os.path.join(_d, "run")])
