"""Slides 91-123: SGD, momentum, RMSProp and Adam on a valley, a flat point, a local minimum and digits.

Setups (why these):

* Valley (92-95, 102): f(x, y) = ½(0.5 x² + 25 y²) from (−8, 1).  SGD multiplies y by 1 − 25ε
  each step, so for 0.04 < ε < 0.08 it zig-zags between the walls, and ε ≥ 0.08 diverges: the
  lab shows ε = 0.07, a bigger ε = 0.079 (slower: |1 − 25ε| = 0.975) and ε = 0.081 (diverges).
  Momentum in the lecture's form runs at the same ε = 0.07 and 0.079 with the slide's μ = 0.9, so
  only the rule differs; its |y| shrinks by about √μ ≈ 0.95 per step at both.  At ε = 0.07 SGD's
  |y| shrinks by 0.75 per step, faster than that, so the figure's paths compare the two at
  ε = 0.079, where SGD visibly zig-zags, and a log panel shows |y| per step for all four.
  The zig-zag is measured by the sign changes of y in the first 50 steps
  and by the path length Σ|Δy| in the steep direction.
* Flat point and local minimum (104-106): 1-D curves as the slides draw them.
  f(x) = x⁴/4 + x³/3 has f'(x) = x²(x + 1): a flat point (f' = 0, not a minimum) at 0 and the
  minimum at −1; from x = 1 SGD's steps shrink like 1/t and never cross.  f'(x) =
  (x + 2)(x² − 0.09) has a shallow local minimum at 0.3 and the global one at −2.  All rules run
  at the same ε.
* Adam's bias correction (121): the step |Δθ|/ε on the valley's flat coordinate for the first
  100 steps, with and without ṽ = v/(1 − μᵗ), r̃ = r/(1 − ρᵗ); RMSProp (ρ = 0.999, no correction)
  shows the same cold start, ε/√(1 − ρ) ≈ 31.6ε on step 1.
* Digits: one hidden layer of 64, 10 epochs (seconds).  SGD and momentum share ε = 0.05;
  RMSProp and Adam share ε = 0.001 (their step does not scale with the gradient's size, so an ε fit
  for SGD would move every weight by about 0.05 per step).  The lab measures |Δθ|/ε per step:
  Adam's is at most about ε, RMSProp's (ρ = 0.999, no bias correction) is tens of ε at first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import fcnet
import fcnet.train.callbacks
from fcnet import nn, optim
from fcnet.lab.common import image_data, slide_title, tr, train
from fcnet.lab.report import LabResult, Table
from fcnet.train.recipe import blas_threads
from fcnet.viz.plots import save_figure

SLIDES = "91-123"
START = (-8.0, 1.0)
EPS_VALLEY, EPS_BIG, EPS_DIVERGE, MU = 0.07, 0.079, 0.081, 0.9
TOL = 1e-3
EPS_FLAT = 0.1  # the flat point and the local minimum: every rule at this ε
EPS_LOCAL = 0.05
ZIGZAG_STEPS = 50
DIGITS_EPOCHS = 10  # --full: 30
ABS_Y_STEPS = 100  # |y| per step, drawn on a log scale
LOCAL_YLIM = (-1.4, 0.6)  # the local-minimum panel: low enough to see the dip at x = 0.3


FLAT_START, LOCAL_START = 1.0, 2.0  # the starts the figure uses: momentum arrives fast enough to pass
FLAT_STALL, LOCAL_STALL = 0.5, 1.0  # nearer starts where momentum stalls like SGD
TUNE_EPS = (0.01, 0.03, 0.07, 0.1, 0.3, 1.0, 3.0)  # slides 108-111 at each rule's own best ε on the valley
TUNE_STEPS = 1000
RHO_114 = (0.0, 0.9, 0.999)  # slide 114: ρ ∈ [0, 1), "ρ = 0 only the current gradient", suggested 0.999

NAMES_ZH = {"sgd": "梯度下降", "momentum": "动量法", "rmsprop": "RMSProp", "adam": "Adam",
            "adagrad": "AdaGrad (自适应梯度法)", "adam (no correction)": "Adam (无修正偏差)"}


FORMULAS = [
    r"\text{SGD (99-103):}\quad \theta \leftarrow \theta - \epsilon g",
    r"\text{momentum (99-103):}\quad v \leftarrow \mu v + (1-\mu) g,\quad \theta \leftarrow \theta - \epsilon v",
    r"\text{AdaGrad (108-111 give the idea; the rule is not printed; }\delta"
    r"\text{ inside the root as in its Adam, 117; torch: outside):}"
    r"\quad r \leftarrow r + g\odot g,\quad "
    r"\theta \leftarrow \theta - \frac{\epsilon}{\sqrt{r+\delta}} g",
    r"\text{RMSProp (112-114):}\quad r \leftarrow \rho r + (1-\rho) g\odot g,\quad "
    r"\theta \leftarrow \theta - \frac{\epsilon}{\sqrt{r}+\delta} g",
    r"\text{Adam (117-122):}\quad v \leftarrow \mu v + (1-\mu) g,\quad r \leftarrow \rho r + (1-\rho) g\odot g,"
    r"\quad \tilde v = \frac{v}{1-\mu^t},\quad \tilde r = \frac{r}{1-\rho^t},\quad "
    r"\theta \leftarrow \theta - \frac{\epsilon}{\sqrt{\tilde r+\delta}} \tilde v",
]


def show(name: str) -> str:
    """A rule's name in the chosen language."""
    return tr(name, NAMES_ZH.get(name, name))


def valley_names() -> dict[str, str]:
    """Labels of the valley runs (in the chosen language)."""
    return {"sgd": f"{show('sgd')} ε={EPS_VALLEY}", "sgd_big": f"{show('sgd')} ε={EPS_BIG}",
            "sgd_diverge": f"{show('sgd')} ε={EPS_DIVERGE}", "momentum": f"{show('momentum')} ε={EPS_VALLEY} μ={MU}",
            "momentum_big": f"{show('momentum')} ε={EPS_BIG} μ={MU}"}


class AdamNoCorrection(optim.Adam):
    """Adam without step 5 of slide 117 (ṽ = v, r̃ = r): the cold start of v₀ = r₀ = 0 left in."""

    def prepare(self) -> None:
        self._c1 = self._c2 = 1.0


def valley(p: fcnet.Tensor) -> fcnet.Tensor:
    """f(x, y) = ½(0.5 x² + 25 y²): curvature 0.5 along x, 25 along y (condition number 50)."""
    return 0.5 * (p[0] * p[0] * 0.5 + p[1] * p[1] * 25.0)


def valley_np(q: np.ndarray) -> np.ndarray:
    """The valley on an array of points (..., 2)."""
    return 0.5 * (0.5 * q[..., 0] ** 2 + 25.0 * q[..., 1] ** 2)


def flat_point(p: fcnet.Tensor) -> fcnet.Tensor:
    """f(x) = x⁴/4 + x³/3, f'(x) = x²(x + 1): flat at 0, minimum at −1."""
    return p[0] ** 4 * 0.25 + p[0] ** 3 * (1.0 / 3.0)


def local_min(p: fcnet.Tensor) -> fcnet.Tensor:
    """f'(x) = (x + 2)(x² − 0.09): local minimum at 0.3, barrier at −0.3, global minimum at −2."""
    return p[0] ** 4 * 0.25 + p[0] ** 3 * (2.0 / 3.0) - p[0] ** 2 * 0.045 - p[0] * 0.18


def trajectory(make: Callable[[list[fcnet.Tensor]], optim.Optimizer], f: Callable, start: tuple[float, ...],
               steps: int) -> np.ndarray:
    """Points θ₀, θ₁, … visited by the optimizer ``make([θ])`` on ``f`` (stops if it leaves |θ| < 1e6)."""
    p = fcnet.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = make([p])
    pts = [p.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
        pts.append(p.numpy().copy())
        if not np.all(np.isfinite(pts[-1])) or np.abs(pts[-1]).max() > 1e6:
            break
    return np.array(pts)


def steps_to(values: np.ndarray, tol: float) -> int | None:
    """First step whose f is below ``tol`` (None if never)."""
    hit = np.nonzero(values < tol)[0]
    return int(hit[0]) if len(hit) else None


RULES: dict[str, Callable[[float], Callable[[list[fcnet.Tensor]], optim.Optimizer]]] = {
    "sgd": lambda lr: lambda ps: optim.SGD(ps, lr=lr),
    "momentum": lambda lr: lambda ps: optim.Momentum(ps, lr=lr, momentum=MU),
    "adagrad": lambda lr: lambda ps: optim.Adagrad(ps, lr=lr),
    "rmsprop": lambda lr: lambda ps: optim.RMSProp(ps, lr=lr),
    "adam": lambda lr: lambda ps: optim.Adam(ps, lr=lr),
    "adam (no correction)": lambda lr: lambda ps: AdamNoCorrection(ps, lr=lr),
}


def _valley_runs() -> dict[str, Any]:
    names = valley_names()
    runs = {names["sgd"]: trajectory(RULES["sgd"](EPS_VALLEY), valley, START, 400),
            names["sgd_big"]: trajectory(RULES["sgd"](EPS_BIG), valley, START, 400),
            names["sgd_diverge"]: trajectory(RULES["sgd"](EPS_DIVERGE), valley, START, 400),
            names["momentum"]: trajectory(RULES["momentum"](EPS_VALLEY), valley, START, 400),
            names["momentum_big"]: trajectory(RULES["momentum"](EPS_BIG), valley, START, 400)}
    stats = {}
    for name, path in runs.items():
        y = path[: ZIGZAG_STEPS + 1, 1]
        diverged = bool(np.abs(path).max() > 1e3)
        stats[name] = {"steps": None if diverged else steps_to(valley_np(path), TOL), "diverged": diverged,
                       "sign_changes": int((np.diff(np.sign(y)) != 0).sum()),
                       "path_y": float(np.abs(np.diff(path[:, 1])).sum()) if not diverged else float("inf"),
                       "abs_y": [float(v) for v in np.abs(path[:ABS_Y_STEPS + 1, 1])]}
    return {"runs": runs, "stats": stats}


def _mu_zero() -> dict[str, float]:
    """Slide 103: μ = 0 is SGD; the lecture's form at ε equals PyTorch's form at ε(1 − μ)."""
    sgd = trajectory(RULES["sgd"](EPS_VALLEY), valley, START, 100)
    lec0 = trajectory(lambda ps: optim.Momentum(ps, lr=EPS_VALLEY, momentum=0.0), valley, START, 100)
    pt0 = trajectory(lambda ps: optim.Momentum(ps, lr=EPS_VALLEY, momentum=0.0, form="pytorch"), valley, START, 100)
    lec = trajectory(RULES["momentum"](EPS_VALLEY), valley, START, 100)
    pt = trajectory(lambda ps: optim.Momentum(ps, lr=EPS_VALLEY * (1 - MU), momentum=MU, form="pytorch"),
                    valley, START, 100)
    pt_same = trajectory(lambda ps: optim.Momentum(ps, lr=EPS_VALLEY, momentum=MU, form="pytorch"),
                         valley, START, 100)
    return {"lecture_mu0_vs_sgd": float(np.abs(lec0 - sgd).max()),
            "pytorch_mu0_vs_sgd": float(np.abs(pt0 - sgd).max()),
            "lecture_vs_pytorch_scaled": float(np.abs(lec - pt[: len(lec)]).max()),
            "lecture_vs_pytorch_same_eps": float(np.abs(lec[: len(pt_same)] - pt_same[: len(lec)]).max())}


def _escapes() -> dict[str, dict[str, Any]]:
    """Slides 104-106 from the figure's starts (``flat``, ``local``) and from nearer starts (``*_stall``)."""
    out: dict[str, dict[str, Any]] = {}
    for key, f, eps, start, past in [("flat", flat_point, EPS_FLAT, FLAT_START, -0.5),
                                     ("local", local_min, EPS_LOCAL, LOCAL_START, -1.5),
                                     ("flat_stall", flat_point, EPS_FLAT, FLAT_STALL, -0.5),
                                     ("local_stall", local_min, EPS_LOCAL, LOCAL_STALL, -1.5)]:
        out[key] = {}
        for name in ("sgd", "momentum", "adam"):
            path = trajectory(RULES[name](eps), f, (start,), 300)
            hit = np.nonzero(path[:, 0] < past)[0]
            out[key][name] = {"steps": int(hit[0]) if len(hit) else None, "final": float(path[-1, 0]),
                              "path": path, "start": start}
    return out


def _cold_start(steps: int = 100) -> dict[str, np.ndarray]:
    """|Δθ|/ε of the valley's flat coordinate x per step (its gradient keeps one sign)."""
    eps = 0.01
    out = {}
    for name in ("adam", "adam (no correction)", "rmsprop"):
        path = trajectory(RULES[name](eps), valley, START, steps)
        out[name] = np.abs(np.diff(path[:, 0])) / eps
    return out


def _rmsprop_rates(steps: int = 20) -> dict[str, tuple[float, float]]:
    """Slides 108-111: the per-coordinate step Δθᵢ / gᵢ after ``steps`` steps (ε/(√rᵢ + δ) for RMSProp,
    ε/√(rᵢ + δ) for AdaGrad).
    """
    eps = 0.01
    out = {}
    for name in ("sgd", "adagrad", "rmsprop"):
        path = trajectory(RULES[name](eps), valley, START, steps)
        g = np.array([0.5 * path[-2, 0], 25.0 * path[-2, 1]])
        rate = -(path[-1] - path[-2]) / g
        out[name] = (float(rate[0]), float(rate[1]))
    return out


def _tuned(rules: tuple[str, ...] = ("sgd", "adagrad", "rmsprop")) -> dict[str, dict[float, int | None]]:
    """Steps to f < TOL on the valley for each rule and ε in TUNE_EPS (None: not within TUNE_STEPS, or diverged)."""
    return {name: {eps: steps_to(valley_np(trajectory(RULES[name](eps), valley, START, TUNE_STEPS)), TOL)
                   for eps in TUNE_EPS} for name in rules}


def _rho(steps: int = 20) -> dict[float, dict[str, float]]:
    """Slide 114: RMSProp's step |Δθᵢ|/ε per coordinate for each ρ, and how far it is from ρ = 0's g/(|g| + δ).

    With ρ = 0, r = g² and the step is ε g/(|g| + δ): only the current gradient's size (its sign, in
    effect) sets it, so |Δθᵢ| ≈ ε on every coordinate and every step.
    """
    eps = 0.01
    out = {}
    for rho in RHO_114:
        path = trajectory(lambda ps, rho=rho: optim.RMSProp(ps, lr=eps, rho=rho), valley, START, steps)
        step = np.abs(np.diff(path, axis=0)) / eps  # (steps, 2)
        g = np.stack([0.5 * path[:-1, 0], 25.0 * path[:-1, 1]], axis=1)
        current_only = np.abs(g) / (np.abs(g) + 1e-5)  # ρ = 0: |Δθ|/ε = |g|/(|g| + δ)
        out[rho] = {"x": float(step[-1, 0]), "y": float(step[-1, 1]),
                    "max_dev_from_current_only": float(np.abs(step - current_only).max())}
    return out


class StepSizes(fcnet.train.callbacks.Callback):
    """The mean over all weights of |Δθ|/ε after each optimizer step: how far a rule moves a weight, in ε."""

    def __init__(self, lr: float) -> None:
        self.lr, self.steps, self._last = lr, [], None

    def _snapshot(self, trainer: Any) -> list[np.ndarray]:
        return [p.numpy().copy() for p in trainer.model.parameters()]

    def on_train_begin(self, trainer: Any) -> None:
        """Remember the weights before the first step."""
        self._last = self._snapshot(trainer)

    def on_batch_end(self, trainer: Any, step: int) -> None:
        """Record mean |Δθ|/ε of this step."""
        now = self._snapshot(trainer)
        moved = np.concatenate([np.abs(a - b).ravel() for a, b in zip(now, self._last, strict=True)])
        self.steps.append(float(moved.mean() / self.lr))
        self._last = now


def _digits(seed: int, epochs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Training loss per epoch and mean |Δθ|/ε per step, for each rule at its ε."""
    ds = image_data("digits", seed=seed)
    curves, steps = {}, {}
    for name, lr, opt in [("sgd", 0.05, "sgd"), ("momentum", 0.05, "momentum"), ("rmsprop", 1e-3, "rmsprop"),
                          ("adam", 1e-3, "adam")]:
        net = nn.FullyConnectedNet(ds.num_features, [64], 10, rng=np.random.default_rng(seed))
        sizes = StepSizes(lr)
        rows = train(net, ds.xs_train, ds.y_train, epochs=epochs, lr=lr, opt=opt, batch_size=64, seed=seed,
                     callbacks=[sizes])
        curves[f"{show(name)} ε={lr:g}"] = [r["loss"] for r in rows]
        steps[f"{show(name)} ε={lr:g}"] = sizes.steps
    return curves, steps


def _figure_valley(out: Path, valley_res: dict[str, Any], esc: dict[str, Any]) -> Path:
    fig = plt.figure(figsize=(14, 8.6), constrained_layout=True)
    grid = fig.add_gridspec(2, 2, width_ratios=[1.6, 1])
    names = valley_names()
    colours = {names["sgd"]: "#0072B2", names["sgd_big"]: "#E69F00", names["sgd_diverge"]: "#D55E00",
               names["momentum"]: "#56B4E9", names["momentum_big"]: "#009E73"}
    ax = fig.add_subplot(grid[0, 0])
    g0, g1 = np.meshgrid(np.linspace(-9, 2, 200), np.linspace(-1.6, 1.6, 200))
    ax.contour(g0, g1, valley_np(np.stack([g0, g1], -1)), levels=15, cmap="Greys", linewidths=0.6)
    for key in ("sgd_big", "sgd_diverge", "momentum_big"):  # the same ε: only the rule differs
        name = names[key]
        path = valley_res["runs"][name]
        p = path[:40]
        faint = key == "sgd_diverge"
        ax.plot(p[:, 0], np.clip(p[:, 1], -1.6, 1.6), ".-", ms=3, lw=0.6 if faint else 1.2, color=colours[name],
                alpha=0.5 if faint else 1.0, label=name + (tr(" (diverges)", " (发散)") if faint else ""))
    ax.set_xlim(-9, 2)
    ax.set_ylim(-1.6, 1.6)
    ax.set_xlabel("x " + tr("(flat direction)", "(平坦方向)"))
    ax.set_ylabel("y " + tr("(steep direction)", "(震荡方向)"))
    ax.set_title(slide_title("94-102", f"at ε = {EPS_BIG} SGD zig-zags; momentum at the same ε damps it "
                             "(first 40 steps)",
                             f"ε = {EPS_BIG} 时梯度下降在山壁间震荡, 同一 ε 的动量法减少震荡 (前40步)"),
                 fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax = fig.add_subplot(grid[0, 1])
    for key in ("sgd", "sgd_big", "momentum", "momentum_big"):
        name = names[key]
        ay = np.maximum(valley_res["stats"][name]["abs_y"], 1e-16)
        ax.semilogy(range(len(ay)), ay, lw=1.4 if key.endswith("big") else 1.0, color=colours[name], label=name,
                    ls="-" if key.startswith("sgd") else "--")
    ax.set_xlabel(tr("step t", "步数 t"))
    ax.set_ylabel(tr("|y| (steep direction)", "|y| (震荡方向)"))
    ax.set_title(slide_title("94-102", "|y| per step: SGD ×|1 − 25ε|, momentum ≈ ×√μ",
                             "每步的 |y|: 梯度下降 ×|1 − 25ε|, 动量法 ≈ ×√μ"), fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")
    for col, key, fx, xs, title in [
        (0, "flat", flat_point, np.linspace(-1.6, 1.3, 300),
         slide_title("104-106", f"flat point (f'=0), ε={EPS_FLAT}, from x = {FLAT_START:g}",
                     f"鞍点 (f'=0), ε={EPS_FLAT}, 起点 x = {FLAT_START:g}")),
        (1, "local", local_min, np.linspace(-2.6, 2.1, 300),
         slide_title("104-106", f"local minimum at x = 0.3, ε={EPS_LOCAL}, from x = {LOCAL_START:g}",
                     f"x = 0.3 处的局部最小值, ε={EPS_LOCAL}, 起点 x = {LOCAL_START:g}"))]:
        ax = fig.add_subplot(grid[1, col])
        ax.plot(xs, [fx(fcnet.tensor(np.array([v]))).item() for v in xs], color="0.6", lw=1)
        for name, c in zip(("sgd", "momentum", "adam"), ("#0072B2", "#009E73", "#CC79A7"), strict=True):
            r = esc[key][name]
            px = r["path"][:, 0]
            vals = np.array([fx(fcnet.tensor(np.array([v]))).item() for v in px])
            steps = r["steps"] if r["steps"] is not None else tr("never", "未通过")
            ax.plot(px, vals, ".", ms=3, color=c, label=f"{show(name)}: {steps}")
        if key == "local":
            ax.set_ylim(*LOCAL_YLIM)
            ax.annotate(tr("local minimum", "局部最小值"), (0.3, local_min(fcnet.tensor(np.array([0.3]))).item()),
                        textcoords="offset points", xytext=(-10, -40), fontsize=9,
                        arrowprops={"arrowstyle": "->", "color": "0.3"})
            f_start = local_min(fcnet.tensor(np.array([2.0]))).item()
            ax.annotate(tr(f"start x = 2 (f = {f_start:.1f}) ↑", f"起点 x = 2 (f = {f_start:.1f}) ↑"),
                        (1.45, LOCAL_YLIM[1]),
                        textcoords="offset points", xytext=(-40, -14), fontsize=8)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="lower right" if key == "local" else "upper center",
                  title=tr("steps to pass", "通过所需步数"), title_fontsize=8)
    return save_figure(fig, out / "optimizers.png")


def _figure_adaptive(out: Path, cold: dict[str, np.ndarray], curves: dict[str, list[float]]) -> Path:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.2))
    for name, s in cold.items():
        a1.semilogy(range(1, len(s) + 1), s, "-", label=show(name))
    a1.axhline(1.0, color="0.5", ls=":", lw=1)
    a1.set_xlabel(tr("step t", "步数 t"))
    a1.set_ylabel(tr("|Δx| / ε (flat coordinate)", "|Δx| / ε (平坦方向)"))
    a1.set_title(slide_title("117-121", "bias correction removes the cold start", "修正偏差缓解冷启动问题"),
                 fontsize=10)
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3, which="both")
    for name, c in curves.items():
        a2.semilogy(range(1, len(c) + 1), c, "o-", ms=3, label=name)
    a2.set_xlabel(tr("epoch", "轮次"))
    a2.set_ylabel(tr("training loss", "训练损失"))
    a2.set_title(slide_title("91-123", "the four rules on digits (64 hidden units)",
                             "四种算法在 digits 上 (64个隐层神经元)"), fontsize=10)
    a2.legend(fontsize=8)
    a2.grid(alpha=0.3, which="both")
    return save_figure(fig, out / "optimizers_adaptive.png")


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Valley, μ = 0, flat point, local minimum, per-coordinate steps, bias correction and digits."""
    with blas_threads(1):  # small matrices: one BLAS thread is fastest and does not fight other processes
        return _run(out, seed, full)


def _run(out: Path, seed: int, full: bool) -> LabResult:
    val = _valley_runs()
    mu0 = _mu_zero()
    esc = _escapes()
    cold = _cold_start()
    rates = _rmsprop_rates()
    tuned = _tuned()
    best_eps = {k: min((e for e, n in v.items() if n is not None), key=lambda e: v[e], default=None)
                for k, v in tuned.items()}
    best_steps = {k: (tuned[k][e] if e is not None else None) for k, e in best_eps.items()}
    flat_vs_sgd = rates["adagrad"][0] / rates["sgd"][0]
    rhos = _rho()
    curves, step_sizes = _digits(seed, 30 if full else DIGITS_EPOCHS)
    figs = [_figure_valley(out, val, esc), _figure_adaptive(out, cold, curves)]

    def exact(v: float) -> Any:
        return tr("0 (exactly)", "0 (精确相等)") if v == 0.0 else v

    def never(v: int | None) -> Any:
        return v if v is not None else tr("never", "未达到")

    st = val["stats"]
    t_valley = Table(
        tr(f"Slides 94-102: valley from {START}; y sign changes in the first {ZIGZAG_STEPS} steps, path "
           f"length Σ|Δy|, steps to f < {TOL}", f"第94-102页: 从 {START} 出发; 前{ZIGZAG_STEPS}步 y 的变号次数, "
           f"震荡方向路程 Σ|Δy|, 到 f < {TOL} 的步数"),
        [tr("rule", "算法"), tr("y sign changes", "y 变号次数"), "Σ|Δy|", tr("steps", "步数")],
        [[k, v["sign_changes"], v["path_y"], tr("diverged", "发散") if v["diverged"] else never(v["steps"])]
         for k, v in st.items()])
    t_mu0 = Table(
        tr("Slide 103: μ = 0 is SGD (max |θ difference| over 100 valley steps)",
           "第103页: μ = 0 时等价于梯度下降算法 (100步中参数的最大差)"),
        [tr("compared", "比较"), tr("max difference", "最大差")],
        [[tr("lecture form v = μv + (1−μ)g, μ = 0  vs  SGD", "课件形式 v = μv + (1−μ)g, μ = 0 与梯度下降"),
          exact(mu0["lecture_mu0_vs_sgd"])],
         [tr("PyTorch form v = μv + g, μ = 0  vs  SGD", "PyTorch 形式 v = μv + g, μ = 0 与梯度下降"),
          exact(mu0["pytorch_mu0_vs_sgd"])],
         [tr(f"lecture form at ε  vs  PyTorch form at ε(1−μ), μ = {MU}",
             f"课件形式 (ε) 与 PyTorch 形式 (ε(1−μ)), μ = {MU}"), exact(mu0["lecture_vs_pytorch_scaled"])],
         [tr(f"lecture form vs PyTorch form, both at ε, μ = {MU}", f"课件形式与 PyTorch 形式, 同一 ε, μ = {MU}"),
          mu0["lecture_vs_pytorch_same_eps"]]])
    curve_name = {"flat": tr("flat point", "鞍点"), "local": tr("local minimum", "局部最小值"),
                  "flat_stall": tr("flat point", "鞍点"), "local_stall": tr("local minimum", "局部最小值")}
    t_esc = Table(
        tr(f"Slides 104-106: steps to pass a flat point (x < −0.5, ε = {EPS_FLAT}) and a local minimum "
           f"(x < −1.5, ε = {EPS_LOCAL}), from the figure's starts and from nearer ones where momentum arrives "
           "too slowly", f"第104-106页: 通过鞍点 (x < −0.5, ε = {EPS_FLAT}) 与局部最小值 (x < −1.5, ε = {EPS_LOCAL}) "
           "所需步数, 从图中的起点以及更近的起点 (动量积累不足) 出发"),
        [tr("curve", "曲线"), tr("start x₀", "起点 x₀")]
        + [f"{show(k)}: {tr('steps', '步数')}" for k in ("sgd", "momentum", "adam")]
        + [f"{show(k)}: {tr('final x', '最终 x')}" for k in ("sgd", "momentum", "adam")],
        [[curve_name[c], esc[c]["sgd"]["start"]] + [never(esc[c][k]["steps"]) for k in ("sgd", "momentum", "adam")]
         + [esc[c][k]["final"] for k in ("sgd", "momentum", "adam")]
         for c in ("flat", "flat_stall", "local", "local_stall")])
    t_rates = Table(
        tr("Slides 108-111: step per unit gradient Δθᵢ/gᵢ after 20 steps on the valley (ε = 0.01). AdaGrad is not in "
           "the lecture (no pseudocode): r ← r + g², δ inside the root as the lecture writes Adam (slide 117); "
           "`torch.optim.Adagrad` puts δ outside, as the lecture writes RMSProp (slide 112). At the same ε AdaGrad's "
           f"flat step is {flat_vs_sgd:.3g} × SGD's: smaller, not larger",
           "第108-111页: 谷底上20步后每个方向的步长/梯度 Δθᵢ/gᵢ (ε = 0.01)。AdaGrad 不在课件中 (没有伪代码): "
           "r ← r + g², δ 在根号内, 同课件的 Adam (第117页); `torch.optim.Adagrad` 把 δ 放在根号外, 同课件的 RMSProp "
           f"(第112页)。同一 ε 下 AdaGrad 平坦方向的步长是梯度下降的 {flat_vs_sgd:.3g} 倍: 更小, 而不是更大"),
        [tr("rule", "算法"), tr("flat x", "平坦方向 x"), tr("steep y", "震荡方向 y"), tr("flat / steep", "平坦/震荡")],
        [[show(k), v[0], v[1], v[0] / v[1]] for k, v in rates.items()])
    t_tuned = Table(
        tr(f"Slides 108-111 at each rule's own ε: steps to f < {TOL} on the valley from {START} (— : not within "
           f"{TUNE_STEPS} steps, or diverged)",
           f"第108-111页, 每个算法各自的 ε: 从 {START} 到 f < {TOL} 的步数 (—: {TUNE_STEPS} 步内未达到或发散)"),
        [tr("rule", "算法")] + [f"ε = {e:g}" for e in TUNE_EPS] + [tr("best ε", "最佳 ε"), tr("steps", "步数")],
        [[show(k)] + [n if n is not None else "—" for n in v.values()]
         + [best_eps[k] if best_eps[k] is not None else "—", best_steps[k] if best_steps[k] is not None else "—"]
         for k, v in tuned.items()])
    t_rho = Table(
        tr("Slide 114: RMSProp with ρ ∈ [0, 1) on the valley (ε = 0.01): |Δθᵢ|/ε at step 20, and the largest "
           "difference over 20 steps from g/(|g| + δ), the step that uses only the current gradient",
           "第114页: RMSProp 在谷底上取不同 ρ (ε = 0.01): 第20步的 |Δθᵢ|/ε, 以及20步中与只用当前梯度的步长 "
           "g/(|g| + δ) 的最大差"),
        ["ρ", tr("flat x", "平坦方向 x"), tr("steep y", "震荡方向 y"),
         tr("max |difference| from g/(|g| + δ)", "与 g/(|g| + δ) 的最大差")],
        [[rho, v["x"], v["y"], exact(v["max_dev_from_current_only"])] for rho, v in rhos.items()])
    t_cold = Table(
        tr("Slide 121: |Δx|/ε at step t (valley, ε = 0.01)", "第121页: 第 t 步的 |Δx|/ε (谷底, ε = 0.01)"),
        [tr("rule", "算法")] + [f"t={t}" for t in (1, 2, 5, 10, 20, 50, 100)],
        [[show(k)] + [float(s[t - 1]) for t in (1, 2, 5, 10, 20, 50, 100)] for k, s in cold.items()])
    names = list(curves)
    gap = abs(curves[names[0]][-1] - curves[names[1]][-1]) / curves[names[0]][-1]
    per_epoch = len(next(iter(step_sizes.values()))) // len(next(iter(curves.values())))
    first = {k: v[0] for k, v in step_sizes.items()}
    late = {k: float(np.mean(v[-per_epoch:])) for k, v in step_sizes.items()}
    k_rms, k_adam = names[2], names[3]
    t_digits = Table(
        tr("digits, 64-64-10, training loss per epoch; SGD and momentum at ε = 0.05, RMSProp and Adam at ε = 0.001; "
           "'step/ε' = mean over all weights of |Δθ|/ε, measured. Neither takes 'about ε per weight': Adam's "
           f"bias-corrected step is {first[k_adam]:.2g}ε on step 1 and {late[k_adam]:.2g}ε in the last epoch; "
           f"RMSProp's (ρ = 0.999, no correction) is {first[k_rms]:.3g}ε on step 1 (slide 121's cold start) and "
           f"{late[k_rms]:.2g}ε in the last epoch. The losses compare these ε and step sizes, not the rules",
           "digits, 64-64-10, 每轮训练损失; 梯度下降与动量法 ε = 0.05, RMSProp 与 Adam ε = 0.001; "
           "“步长/ε” = 所有权重 |Δθ|/ε 的平均 (实测)。两者都不是“每个权重约 ε”: Adam 修正偏差后第1步为 "
           f"{first[k_adam]:.2g}ε, 最后一轮为 {late[k_adam]:.2g}ε; RMSProp (ρ = 0.999, 无修正) 第1步为 "
           f"{first[k_rms]:.3g}ε (第121页的冷启动), 最后一轮为 {late[k_rms]:.2g}ε。损失比较的是这些 ε 与步长, "
           "而不是算法本身"),
        [tr("rule", "算法"), tr("epoch 1", "第1轮"), tr("final", "最终"), tr("step/ε, step 1", "步长/ε, 第1步"),
         tr("step/ε, last epoch", "步长/ε, 最后一轮")],
        [[k, v[0], v[-1], first[k], late[k]] for k, v in curves.items()])
    names_v = valley_names()
    sgd07, sgd079 = st[names_v["sgd"]], st[names_v["sgd_big"]]
    mom07, mom079 = st[names_v["momentum"]], st[names_v["momentum_big"]]
    claim = tr(
        "Slides 94-95: SGD 'oscillates between the walls and advances slowly toward the bottom'; 'only "
        "increasing the step does not speed it up' (a bigger ε is slower, slightly more diverges). Slide 102: "
        "with momentum 'the oscillating directions cancel, the flat direction is reinforced': at the same ε "
        f"momentum's y changes sign far less often (first {ZIGZAG_STEPS} steps: {mom07['sign_changes']} vs "
        f"{sgd07['sign_changes']} at ε = {EPS_VALLEY}, {mom079['sign_changes']} vs {sgd079['sign_changes']} at "
        f"ε = {EPS_BIG}), travels less in y and reaches the bottom sooner. Where SGD visibly zig-zags "
        f"(ε = {EPS_BIG}, |y| shrinks by |1 − 25ε| = {abs(1 - 25 * EPS_BIG):.3g} per step) momentum at the same "
        f"ε shrinks |y| by about √μ ≈ {MU ** 0.5:.2f} per step; at ε = {EPS_VALLEY} SGD's |y| shrinks faster "
        f"(×{abs(1 - 25 * EPS_VALLEY):.2f} per step) and what it loses to momentum is the flat direction. Slide 103: "
        "'μ = 0 is equivalent to gradient descent' (difference exactly 0). Slides 105-106: 'at local minima "
        "and saddle points the gradient is 0 and gradient descent cannot pass; momentum can rush out' (the saddle "
        "point stands as a 1-D flat point here: f' = 0 without a minimum, written 鞍点 in the Chinese text): SGD "
        f"stops at both; from the drawn starts (x = {FLAT_START:g} and x = {LOCAL_START:g}, where momentum arrives "
        f"with speed) momentum passes both, Adam passes the flat point but, its step being about ε, not "
        f"the local minimum at this ε. From nearer starts (x = {FLAT_STALL:g} on the flat curve, x = {LOCAL_STALL:g} "
        "on the local-minimum curve) momentum gathers too little speed and stalls like SGD, while Adam still passes "
        "the flat point. Slides 108-111: AdaGrad (r ← r + g²; the lecture prints no AdaGrad pseudocode, δ is placed "
        "inside the root as in its Adam) and RMSProp take a smaller step per unit gradient in the steep direction "
        "than in the flat one; but at the same ε AdaGrad's flat step is "
        f"{flat_vs_sgd:.2g} × SGD's" + (f", and at SGD's best ε ({best_eps['sgd']:g}) it does not reach the bottom "
                                        f"within {TUNE_STEPS} steps" if tuned["adagrad"][best_eps["sgd"]] is None
                                        else "") + ". Tuned, each at its best ε"
        + (" (the largest tried is best for the adaptive rules)" if best_eps["adagrad"] == TUNE_EPS[-1] else "")
        + f", AdaGrad (ε = {best_eps['adagrad']:g}) needs {best_steps['adagrad']} steps, SGD (ε = {best_eps['sgd']:g}) "
        f"{best_steps['sgd']}, RMSProp (ε = {best_eps['rmsprop']:g}) {best_steps['rmsprop']}. Slide 114: with "
        "ρ = 0 RMSProp's step is ε g/(|g| + δ), set by the current gradient alone. Slide 121: 'bias"
        "  correction greatly relieves the cold start': without it Adam's "
        "first steps are several times ε (RMSProp's first step ε/√(1−ρ) ≈ 31.6ε is the same problem, not a "
        "win); with it they are about ε. On digits SGD and the lecture's momentum end close at the same ε "
        f"(relative difference {gap:.3g}): in the averaged form v = μv + (1−μ)g the steady-state step is εg, "
        "the same as SGD's; PyTorch's form v = μv + g takes ε/(1−μ) times larger steps.",
        "第94-95页: 梯度下降“山壁间震荡, 往谷低方向的行进较慢”; “仅增大步长并不能加快算法收敛速度” (更大的 ε "
        "更慢, 再大一点就发散)。第102页: 动量法“累加过程中震荡方向相互抵消, 平坦方向得到加强”: 同一 ε 下, 动量法的 "
        f"y 变号次数少得多 (前{ZIGZAG_STEPS}步: ε = {EPS_VALLEY} 时 {mom07['sign_changes']} 对 "
        f"{sgd07['sign_changes']}, ε = {EPS_BIG} 时 {mom079['sign_changes']} 对 {sgd079['sign_changes']}), "
        f"y 方向路程更短, 更早到达谷底。在梯度下降明显震荡的 ε = {EPS_BIG} (|y| 每步乘以 |1 − 25ε| = "
        f"{abs(1 - 25 * EPS_BIG):.3g}), 同一 ε 的动量法每步约乘以 √μ ≈ {MU ** 0.5:.2f}; ε = {EPS_VALLEY} 时梯度下降的 "
        f"|y| 衰减更快 (每步 ×{abs(1 - 25 * EPS_VALLEY):.2f}), 它输给动量法的是平坦方向。"
        "第103页: “μ = 0 时等价于梯度下降算法” (差值恰为 0)。"
        "第105-106页: “局部最小处与鞍点处梯度为0, 算法无法通过”, 动量法“可以冲出局部最小点以及鞍点” "
        "(此处鞍点画成一维曲线上的平坦点: f′ = 0 但不是极小值): 梯度下降停在两处, "
        f"从图中的起点 (x = {FLAT_START:g} 与 x = {LOCAL_START:g}, 动量法到达时已有速度) 出发, 动量法都能通过, Adam "
        "通过鞍点, 但其步长约为 ε, 在此 ε 下未能越过局部最小值。"
        f"从更近的起点 (鞍点曲线 x = {FLAT_STALL:g}, 局部最小值曲线 x = {LOCAL_STALL:g}) 出发, 动量积累不足, "
        "动量法像梯度下降一样停住, 而 Adam 仍能通过鞍点。第108-111页: "
        "AdaGrad (r ← r + g²; 课件没有给出 AdaGrad 的伪代码, δ 按课件 Adam 的写法放在根号内) 与 "
        "RMSProp 在震荡方向上每单位梯度的步长比平坦方向小; 但同一 ε 下 AdaGrad 平坦方向的步长是梯度下降的 "
        f"{flat_vs_sgd:.2g} 倍" + (f", 用梯度下降的最佳 ε ({best_eps['sgd']:g}) 时 {TUNE_STEPS} 步内到不了谷底"
                                  if tuned["adagrad"][best_eps["sgd"]] is None else "") + "。各用最佳 ε 时"
        + (" (自适应算法的最佳 ε 是所试的最大值)" if best_eps["adagrad"] == TUNE_EPS[-1] else "")
        + f", AdaGrad (ε = {best_eps['adagrad']:g}) "
        f"需要 {best_steps['adagrad']} 步, 梯度下降 (ε = {best_eps['sgd']:g}) {best_steps['sgd']} 步, "
        f"RMSProp (ε = {best_eps['rmsprop']:g}) {best_steps['rmsprop']} 步。"
        "第114页: ρ = 0 时 RMSProp 的步长为 ε g/(|g| + δ), 只由当前梯度决定。"
        "第121页: “修正偏差步骤可以极大缓解算法初期的冷启动问题”: 没有修正时 Adam 的最初几步是 ε "
        "的数倍 (RMSProp 第一步 ε/√(1−ρ) ≈ 31.6ε 是同一个问题, 不是优点); 有修正时约为 ε。在 digits 上, 同一 ε 下"
        f"梯度下降与课件形式的动量法结果接近 (相对差 {gap:.3g}): 平均形式 v = μv + (1−μ)g 的稳态步长是 εg, 与梯度下降"
        "相同; PyTorch 形式 v = μv + g 的步长大 1/(1−μ) 倍。")
    numbers = {
        "valley": {k: dict(v) for k, v in st.items()},
        "valley_names": valley_names(),
        "mu_zero": mu0,
        "flat_steps": {k: v["steps"] for k, v in esc["flat"].items()},
        "local_steps": {k: v["steps"] for k, v in esc["local"].items()},
        "local_final": {k: v["final"] for k, v in esc["local"].items()},
        "rmsprop_rates": rates, "tuned_steps": tuned, "tuned_best_eps": best_eps, "tuned_best_steps": best_steps,
        "adagrad_flat_vs_sgd": flat_vs_sgd,
        "rho": rhos,
        "stall_steps": {c: {k: v["steps"] for k, v in esc[c].items()} for c in ("flat_stall", "local_stall")},
        "cold_start": {k: [float(x) for x in v] for k, v in cold.items()},
        "digits_final": {k: v[-1] for k, v in curves.items()},
        "digits_sgd_momentum_gap": gap,
        "digits_step_over_eps": {"first": first, "last_epoch": late},
    }
    summary = tr(
        "Momentum damps SGD's zig-zag at equal ε (slides 94-102); μ = 0 is SGD (103). Momentum passes a flat point "
        "(1-D saddle) and a local minimum from the drawn starts, not from nearer ones (104-106). AdaGrad, "
        f"RMSProp shrink the steep step (108-114), but AdaGrad's flat step is {flat_vs_sgd:.2g} × SGD's at equal ε. "
        "Bias correction removes Adam's cold start (121).",
        "同一 ε 下动量法抑制梯度下降的震荡 (第94-102页); μ = 0 即梯度下降 (第103页)。"
        "动量法从图中的起点能冲过鞍点 (一维平坦点) 与局部最小值, 从更近的起点不能 (第104-106页)。"
        "AdaGrad 与 RMSProp 减小震荡方向的步长 (第108-114页), 但同一 ε 下 AdaGrad 平坦方向的"
        f"步长是梯度下降的 {flat_vs_sgd:.2g} 倍。修正偏差消除 Adam 的冷启动 (第121页)。")
    return LabResult("optimizers", SLIDES, tr("Optimizers", "梯度算法改进"), claim,
                     [t_valley, t_mu0, t_esc, t_rates, t_tuned, t_rho, t_cold, t_digits], figs, numbers,
                     summary=summary, formulas=FORMULAS)
