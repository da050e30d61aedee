"""One playground session: a net from ``fcnet.train.recipe.build`` trained step by step on a toy.

``advance(seconds)`` runs mini-batch steps for a while and returns a *frame*: everything the page
draws (boundary, per-unit heatmaps, weights, losses, gradient norms, activation histograms).
It runs in a worker thread; one session belongs to one page (one WebSocket).
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import numpy as np

import fcnet
from fcnet.nn.layers import BatchNorm1d, Dropout, Linear
from fcnet.nn.losses import MSELoss, regularization
from fcnet.playground.setup import features, make_data
from fcnet.train import options, recipe

__all__ = ["GRID", "UNIT_GRID", "Session"]

GRID = 100  # boundary heatmap: GRID × GRID cells over [-EXTENT, EXTENT]²
UNIT_GRID = 20  # per-unit heatmaps
EXTENT = 3.0
HIST_BINS = 20
CHUNK = 2048  # rows per forward block in the views
MAX_CURVE = 600  # loss-curve points kept (halved by dropping every other point when full)


def _grid(n: int) -> np.ndarray:
    """Cell centres (n·n, 2), row by row from the top (x₂ = +EXTENT) as a canvas draws them."""
    c = (np.arange(n) + 0.5) / n * 2 * EXTENT - EXTENT
    x1, x2 = np.meshgrid(c, c[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


class Session:
    """Data, model, optimizer and loss of one setup (see ``fcnet.playground.setup.validate``)."""

    def __init__(self, setup: dict[str, Any]) -> None:
        self.setup = setup
        self.data = make_data(setup)
        self.x_train = features(self.data["points_train"], setup["features"])
        self.x_test = features(self.data["points_test"], setup["features"])
        self.y_train, self.y_test = self.data["y_train"], self.data["y_test"]
        self.grid = features(_grid(GRID), setup["features"])
        self.unit_grid = features(_grid(UNIT_GRID), setup["features"])
        self.regression = setup["loss"] == "mse"
        train_opts = {k: setup[k] for k in setup if k in options.OPTIONS}
        if self.regression:
            train_opts["loss"] = "cross-entropy"  # replaced below: one output and the squared error
        opts = options.resolve({**train_opts, "monitor": False, "epochs": 1})
        self.model, self.optimizer, self.loss_fn, _ = recipe.build(opts, self.x_train.shape[1], self.data["classes"], 1)
        if self.regression:
            self.loss_fn = MSELoss()
        # recipe.build draws from fcnet's shared default generator; sessions run side by side in
        # threads, so each draws its weights again, and its dropout masks, from its own seeded one
        gen = np.random.default_rng([setup["seed"], 3])
        for m in self.model:
            if isinstance(m, Linear):
                m.reset_parameters(std=setup["init_std"], rng=gen)
            elif isinstance(m, Dropout):
                m.rng = gen
        self.l2, self.l1 = setup["l2"], setup["l1"]
        self.rng = np.random.default_rng([setup["seed"], 2])
        self.order = self.rng.permutation(len(self.y_train))
        self.cursor = 0
        self.steps = 0
        self.diverged = False
        self.curve: list[list[Any]] = []  # [step, train loss, test loss] (None where not finite), JSON-ready
        self.frame_seconds = 0.0
        self.xbuf = np.empty((setup["batch_size"], self.x_train.shape[1]), dtype=np.float32)
        self.initial = self.layer_stats()  # the step-0 view: what the initialisation presets are judged on

    def layer_stats(self) -> dict[str, Any]:
        """Per hidden layer on the training points: std of a, share of |a| > 0.99, histogram; ‖∂L/∂W‖ per layer.

        The gradient is the full training set's, L = (1/N) Σ L_i, computed without an update.
        """
        outs = self._forward(self.x_train)
        acts = [outs[i] for i in self._activations()]
        self.model.eval()  # no dropout mask drawn, no batch-norm running statistics changed
        self.optimizer.zero_grad()
        with np.errstate(all="ignore"):
            self.loss_fn(self.model(fcnet.Tensor(self.x_train)), self.y_train).backward()
        grads = [_finite(float(np.linalg.norm(m.weight.grad))) for m in self._linears()]
        self.optimizer.zero_grad()
        return {"step": self.steps, "std": [float(a.std()) for a in acts],
                "saturated": [float((np.abs(a) > 0.99).mean()) for a in acts], "grad_norms": grads,
                "histograms": [_histogram(a, self.setup["activation"]) for a in acts]}

    def _linears(self) -> list[Linear]:
        return [m for m in self.model if isinstance(m, Linear)]

    def _activations(self) -> list[int]:
        """Indices (in the Sequential) of the hidden layers' activation modules."""
        return [i for i, m in enumerate(self.model) if not isinstance(m, Linear | BatchNorm1d | Dropout)]

    # --- training --------------------------------------------------------------------------
    def step(self) -> float:
        """One mini-batch step: L = (1/B) Σ L_i + λ R(W), then the optimizer's update; returns L."""
        b = self.setup["batch_size"]
        if self.cursor + b > len(self.order):  # a new epoch: a new order, no short last batch
            self.order = self.rng.permutation(len(self.y_train))
            self.cursor = 0
        idx = self.order[self.cursor:self.cursor + b]
        self.cursor += b
        self.x_train.take(idx, axis=0, out=self.xbuf, mode="clip")  # a permutation is in range: no hidden buffer
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(fcnet.Tensor(self.xbuf)), self.y_train[idx])
        if self.l2 or self.l1:
            loss = loss + regularization(self.model, self.l2, self.l1)
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        return float(loss.data)

    def advance(self, seconds: float, max_steps: int | None = None) -> dict[str, Any]:
        """Train for about ``seconds`` and at most ``max_steps`` steps (exactly that many when ``seconds`` is 0;
        at least one step) and return the frame after it.
        """
        t0 = time.perf_counter()
        done = 0
        with np.errstate(all="ignore"):  # a diverging net is one of the lessons (slide 167), not a warning
            while not self.diverged and (max_steps is None or done < max_steps):
                value = self.step()
                done += 1
                if not math.isfinite(value):
                    self.diverged = True
                if (max_steps is None or seconds > 0) and time.perf_counter() - t0 >= seconds:
                    break
            return self.frame()

    # --- views -----------------------------------------------------------------------------
    def _forward(self, x: np.ndarray, last_only: bool = False) -> list[np.ndarray]:
        """The outputs of every module on ``x`` in evaluation mode (no graph kept); only the last one if asked."""
        self.model.eval()
        parts: list[list[np.ndarray]] = []
        with fcnet.no_grad():
            # in blocks of CHUNK rows: BLAS stays on one thread for these narrow products, which is
            # several times faster than its threads on a busy machine (and sessions run side by side)
            for start in range(0, max(len(x), 1), CHUNK):
                h = fcnet.Tensor(x[start:start + CHUNK])
                outs = []
                for m in self.model:
                    h = m(h)
                    if not last_only:
                        outs.append(np.asarray(h.data))
                parts.append(outs if not last_only else [np.asarray(h.data)])
        if len(parts) == 1:
            return parts[0]
        return [np.concatenate(layer) for layer in zip(*parts, strict=True)]

    def _scores_loss(self, outs: list[np.ndarray], y: np.ndarray) -> float:
        """The data loss of the last module's output (no graph kept)."""
        with fcnet.no_grad():
            return float(self.loss_fn(fcnet.Tensor(outs[-1]), y).data)

    def frame(self) -> dict[str, Any]:
        """Everything the page draws, as JSON-ready values (heatmaps as base64 bytes).

        One forward pass each over the training points, the test points and the two grids;
        ``frame_seconds`` keeps how long it took.
        """
        t0 = time.perf_counter()
        acts = self._activations()
        train_outs = self._forward(self.x_train)
        train_loss = self._scores_loss(train_outs, self.y_train)
        if len(self.y_test):
            test_outs = self._forward(self.x_test, last_only=True)
            test_loss = self._scores_loss(test_outs, self.y_test)
        else:
            test_outs, test_loss = None, float("nan")
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
            self.diverged = True
        self._record(train_loss, test_loss)
        scores = self._forward(self.grid, last_only=True)[-1]
        unit_outs = self._forward(self.unit_grid)
        c = self.data["classes"]
        if self.regression:  # the predicted value, [-1, 1] → 0..255 as the unit maps
            boundary = _finite_array(np.clip(scores[:, 0], -1.0, 1.0) + 1.0) * 127.5
            acc = None
        else:
            cls, conf = _top_class(scores)
            # confidence 1/C (a guess) → 0, certainty → 255
            shade = _finite_array(np.clip((conf - 1.0 / c) / (1.0 - 1.0 / c), 0.0, 1.0)) * 255
            boundary = np.stack([cls, shade], axis=1)
            acc = float((test_outs[-1].argmax(axis=1) == self.y_test).mean()) if test_outs is not None else 0.0
        units = []
        for i in acts:
            a = _finite_array(unit_outs[i], big=1e30)  # a diverged net is still drawn
            scale = np.maximum(np.abs(a).max(axis=0), 1e-6)
            units.append([_b64((a[:, j] / scale[j] + 1.0) * 127.5) for j in range(a.shape[1])])
        inputs = []
        for j in range(self.unit_grid.shape[1]):
            v = self.unit_grid[:, j]
            inputs.append(_b64((v / max(np.abs(v).max(), 1e-6) + 1.0) * 127.5))
        hists = [_histogram(train_outs[i], self.setup["activation"]) for i in acts]
        grads = [_finite(float(np.linalg.norm(m.weight.grad))) if m.weight.grad is not None else 0.0
                 for m in self._linears()]
        # float64 first: rounding a huge finite float32 weight (x 1e4) would overflow to inf
        weights = [np.clip(_finite_array(np.asarray(m.weight.data, dtype=np.float64)), -1e30, 1e30)
                   .round(3).tolist() for m in self._linears()]
        self.frame_seconds = time.perf_counter() - t0
        return {
            "type": "frame", "step": self.steps, "epoch": self.steps * self.setup["batch_size"] / len(self.y_train),
            "train_loss": _finite(train_loss), "test_loss": _finite(test_loss), "test_accuracy": acc,
            "diverged": self.diverged, "grid": GRID, "unit_grid": UNIT_GRID, "classes": c,
            "regression": self.regression,
            "boundary": _b64(boundary), "inputs": inputs, "units": units, "weights": weights,
            "grad_norms": grads, "histograms": hists,
            "curve": list(self.curve), "initial": self.initial,
        }

    def points(self) -> dict[str, Any]:
        """The train and test points (standardised coordinates) and their labels, sent once per setup."""
        d = self.data
        ys = [np.round(d[k].ravel(), 3).tolist() for k in ("y_train", "y_test")]
        return {"type": "points", "extent": EXTENT, "classes": d["classes"], "regression": self.regression,
                "train": np.round(d["points_train"], 4).tolist(), "train_y": ys[0],
                "test": np.round(d["points_test"], 4).tolist(), "test_y": ys[1],
                "features": self.setup["features"], "hidden": self.setup["hidden"]}

    def _record(self, train_loss: float, test_loss: float) -> None:
        if self.curve and self.curve[-1][0] == self.steps:
            return
        self.curve.append([self.steps, _finite(train_loss), _finite(test_loss)])
        if len(self.curve) > MAX_CURVE:
            self.curve = self.curve[::2]


def _finite_array(a: np.ndarray, big: float | None = None) -> np.ndarray:
    """``a`` itself when all finite (the usual case, checked in one pass); else NaN → 0 and ±inf → ±big."""
    if np.isfinite(a).all():
        return a
    return np.nan_to_num(a, nan=0.0, posinf=big, neginf=None if big is None else -big)


def _top_class(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """argmax_j s_j and its softmax probability 1 / Σ_j e^(s_j - max s) per row.

    Column by column: a reduction along a row of 2 to 4 classes is many times slower in NumPy.
    """
    top = s[:, 0].copy()
    cls = np.zeros(len(s), dtype=np.int64)
    for j in range(1, s.shape[1]):
        better = s[:, j] > top
        cls[better] = j
        np.maximum(top, s[:, j], out=top)
    total = np.zeros(len(s), dtype=np.float64)
    for j in range(s.shape[1]):
        total += np.exp(s[:, j] - top)
    return cls, 1.0 / total


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _histogram(a: np.ndarray, activation: str) -> dict[str, Any]:
    """Counts of a layer's outputs in HIST_BINS bins: over (0, 1) for sigmoid, (-1, 1) for tanh, else min..max."""
    a = a.ravel()
    a = a[np.isfinite(a)]
    if activation == "sigmoid":
        lo, hi = 0.0, 1.0
    elif activation == "tanh":
        lo, hi = -1.0, 1.0
    else:
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
        if hi - lo < 1e-6:
            hi = lo + 1e-6
    idx = np.clip(((a - lo) * (HIST_BINS / (hi - lo))).astype(np.int64), 0, HIST_BINS - 1)  # as np.histogram, faster
    counts = np.bincount(idx[(a >= lo) & (a <= hi)], minlength=HIST_BINS)
    return {"lo": lo, "hi": hi, "counts": counts.tolist()}

