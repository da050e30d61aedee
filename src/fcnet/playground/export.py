""""Export": the page's setup as a ``fcnet train --config`` TOML, its data, and the trained weights.

Everything is written inside one fresh directory under the server's export directory; the page
chooses no path.  The TOML's ``data`` is the exported ``data.npz`` (the toy points already turned
into the chosen features), so ``fcnet train --config config.toml`` trains on what the page showed.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from fcnet.data.dataset import Preprocess
from fcnet.errors import ConfigError
from fcnet.playground.session import Session
from fcnet.playground.setup import TRAIN_KEYS
from fcnet.train import io

__all__ = ["config_toml", "export"]


def config_toml(session: Session, data_path: Path) -> str:
    """The session's training options as TOML for ``fcnet train --config`` (option-table keys only)."""
    setup = session.setup
    opts: dict[str, Any] = {"data": str(data_path)}
    opts.update({k: setup[k] for k in TRAIN_KEYS if setup[k] is not None})
    opts["epochs"] = max(1, math.ceil(session.steps * setup["batch_size"] / len(session.y_train)))
    opts["val_split"] = 0.0  # the page trains on its whole training split
    opts["standardize"] = False  # the points are standardised before the features are computed
    head = (f"# fcnet playground: {setup['dataset']}, {setup['points']} points, noise {setup['noise']}, "
            f"train ratio {setup['train_ratio']}, features {', '.join(setup['features'])}\n")
    return head + tomli_w.dumps(opts)


def export(session: Session, export_dir: str | Path) -> dict[str, Any]:
    """Write config.toml, data.npz and model/ into a new directory under ``export_dir``; return their names.

    Raises ConfigError (one line) for a regression task (``fcnet train`` has no squared-error loss)
    and when the export directory cannot be written.
    """
    if session.regression:
        raise ConfigError("export writes a config for fcnet train, which trains classifiers: the regression "
                          "tasks stay in the page")
    root = Path(export_dir).resolve()
    try:
        return _export(session, root)
    except OSError as exc:
        raise ConfigError(f"cannot write the export under {root} ({exc.strerror or exc}): start fcnet playground "
                          "with --export-dir set to a folder it may write") from None


def _export(session: Session, root: Path) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        out = root / f"playground-{stamp}-{n}"
        try:
            out.mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a thousand exports in one second
        raise RuntimeError(f"no free export directory name under {root}")
    data_path = out / "data.npz"
    tmp = out / ".data.npz.tmp.npz"
    np.savez(tmp, x_train=session.x_train, y_train=session.y_train, x_test=session.x_test, y_test=session.y_test)
    tmp.replace(data_path)
    text = config_toml(session, data_path)
    io.atomic_write(out / "config.toml", text.encode())
    setup = session.setup
    io.save_model(out / "model", session.model, Preprocess(), [str(c) for c in range(session.data["classes"])],
                  {"data": str(data_path), "steps": session.steps,
                   "playground": {k: setup[k] for k in ("dataset", "noise", "points", "train_ratio", "features")}
                   | {"mean": session.data["mean"].tolist(), "std": session.data["std"].tolist()}})
    return {"type": "exported", "directory": out.name, "toml": text, "files": ["config.toml", "data.npz", "model"]}
