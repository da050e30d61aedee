"""A search's results table: ``results.jsonl`` (append-only, fsynced) and ``results.csv``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fcnet.search.study import _died, _finished

__all__ = ["ResultsWriter"]


class ResultsWriter:
    """results.jsonl (one line per finished trial, append-only) and results.csv (rewritten)."""

    def __init__(self, out: Path, names: list[str]) -> None:
        self.out, self.names = out, names
        self.jsonl = out / "results.jsonl"
        self.written: set[int] = set()
        if self.jsonl.exists():
            for line in self.jsonl.read_text().splitlines():
                if line.strip():
                    self.written.add(json.loads(line)["plan"])
        self.rows: dict[int, dict[str, Any]] = {}

    @staticmethod
    def row(t: Any) -> dict[str, Any]:
        """One finished trial as a flat record."""
        return {"plan": t.user_attrs["plan"], "stage": t.user_attrs.get("stage", 0),
                "epochs": t.user_attrs.get("epochs"), "state": t.state.name.lower(),
                "val_accuracy": t.value, "test_accuracy": t.user_attrs.get("test_accuracy"),
                "error": t.user_attrs.get("error", "") or ("worker died" if _died(t) else ""),
                "user_error": t.user_attrs.get("user_error", False),
                "seconds": t.user_attrs.get("seconds"), "trial": t.number, "trial_id": t._trial_id, **t.params}

    def update(self, by_plan: dict[int, Any], attempts: dict[int, list[Any]]) -> None:
        """Append newly finished trials, rewrite the CSV."""
        from fcnet.train.io import atomic_write

        new = False
        for p, t in sorted(by_plan.items()):
            if not _finished(t, attempts.get(p)):
                continue
            r = self.row(t)
            if self.rows.get(p) != r:
                self.rows[p] = r
                new = True
            if p not in self.written:
                with self.jsonl.open("a") as fh:
                    fh.write(json.dumps(r, default=str) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                self.written.add(p)
        if new:
            cols = ["plan", "stage", "epochs", "state", "val_accuracy", "test_accuracy", *self.names,
                    "seconds", "trial", "error"]
            lines = [",".join(cols)]
            for _, r in sorted(self.rows.items()):
                lines.append(",".join(_csv(r.get(c, "")) for c in cols))
            atomic_write(self.out / "results.csv", ("\n".join(lines) + "\n").encode())

    def best_value(self) -> float | None:
        vals = [r["val_accuracy"] for r in self.rows.values() if r["state"] == "complete"]
        return max(vals) if vals else None

    def best(self) -> dict[str, Any] | None:
        done = [r for r in self.rows.values() if r["state"] == "complete" and r["val_accuracy"] is not None]
        if not done:
            return None
        # the longest-trained stage wins ties; then the lowest plan index
        return max(done, key=lambda r: (r["val_accuracy"], r["epochs"] or 0, -r["plan"]))


def _csv(v: Any) -> str:
    s = "" if v is None else (repr(v) if isinstance(v, float) else str(v))  # full precision: scores compare exactly
    return '"' + s.replace('"', "'") + '"' if ("," in s or "\n" in s) else s
