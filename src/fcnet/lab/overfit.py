"""Slides 142-162: overfitting and underfitting, more data, model size, L2, dropout; plus early stopping.

Early stopping is not in the lecture: fcnet adds it, motivated by slide 146's validation curve.

Setup (why this one): the validation set is 400 images carved (seeded) from digits' training
set, never the test set; the training sets are drawn from the rest.  On clean 8×8 digits a
256-256 net hardly overfits in the sense of slide 146 (measured with Adam, ε = 0.003: validation
error 0.130 at its minimum, 0.135 after 150 epochs on 100 images): the classes are nearly separable.  So 20% of the
training labels (never the validation labels) are replaced by random classes, seeded: that
is what a big net can only memorise, "记住了训练集数据" (slide 143), and late in training it
does, so the validation error turns up while the training error keeps falling.  Adam with
ε = 0.0005, m = 32, 60 epochs on 200 images (100 and 400 for slide 147's "more data"), keep
each run at a second or two.  The gap is validation error − training error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import fcnet
import fcnet.functional as F
from fcnet import nn, optim
from fcnet.lab.common import accuracy, image_data, slide_title, tr, train
from fcnet.lab.report import LabResult, Table
from fcnet.train.callbacks import Callback, EarlyStopping
from fcnet.train.recipe import blas_threads
from fcnet.viz.plots import save_figure

SLIDES = "142-162"
N_VAL, N_TRAIN, NOISE, EPOCHS, LR = 400, 200, 0.2, 60, 5e-4
BIG = [256, 256]
L2, DROPOUT, STRONG_L2, PATIENCE = 0.03, 0.5, 0.3, 10
SLIDE_158 = [0.2, 0.5, 1.3, 0.8, 1.1]
SLIDE_158_MASK = [0, 1, 1, 0, 1]
L1 = 0.003  # slides 151, 154 name L1 beside L2 and give no formula for it: R(W) = Σ|W|, the standard one
NEAR_ZERO = 1e-3  # |w| below this counts as switched off (L1's sparsity)
DROP_EXAMPLE_P = 0.4  # not on slide 158: the lab's choice, 2 of its 5 elements


def carve(seed: int) -> dict[str, np.ndarray]:
    """A validation set carved from the training images, and a pool to draw training sets from."""
    ds = image_data("digits", seed=seed)
    perm = np.random.default_rng(seed).permutation(len(ds.y_train))
    val, pool = perm[:N_VAL], perm[N_VAL:]
    y = ds.y_train.copy()
    rng = np.random.default_rng(seed + 1)
    noisy = rng.random(len(y)) < NOISE
    noisy[val] = False  # validation labels stay true
    y[noisy] = rng.integers(0, ds.num_classes, int(noisy.sum()))
    return {"x_val": ds.xs_train[val], "y_val": ds.y_train[val], "x_pool": ds.xs_train[pool], "y_pool": y[pool],
            "x_test": ds.xs_test, "y_test": ds.y_test}


class EvalTrainError(Callback):
    """The training error measured after each epoch in evaluation mode (dropout off), as the tables measure it.

    The trainer's own per-epoch accuracy is taken on the mini-batches while training, dropout on.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y, self.errors = x, y, []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        self.errors.append(1.0 - accuracy(trainer.model, self.x, self.y))


def fit(d: dict[str, np.ndarray], n: int, hidden: list[int], seed: int, epochs: int, l2: float = 0.0,
        dropout: float = 0.0, early: bool = False, l1: float = 0.0) -> dict[str, Any]:
    """Train on the first ``n`` pool images; per-epoch train/validation loss and error, final weights.

    The test error is measured once, after training, on digits' own test split: no choice (early
    stopping's epoch included) ever looks at it.
    """
    x, y = d["x_pool"][:n], d["y_pool"][:n]
    net = nn.FullyConnectedNet(x.shape[1], hidden, 10, dropout=dropout, rng=np.random.default_rng(seed))
    stop = EarlyStopping("val_accuracy", patience=PATIENCE, restore_best=True) if early else None
    record = EvalTrainError(x, y)
    rows = train(net, x, y, epochs=epochs, lr=LR, l2=l2, l1=l1, batch_size=32, seed=seed, val=(d["x_val"], d["y_val"]),
                 callbacks=[record, stop] if stop else [record])
    train_err = 1.0 - accuracy(net, x, y)
    val_err = 1.0 - accuracy(net, d["x_val"], d["y_val"])
    weights = [m.weight.numpy() for m in net.modules() if isinstance(m, nn.Linear)]
    test_err = 1.0 - accuracy(net, d["x_test"], d["y_test"])
    return {"train_err": train_err, "val_err": val_err, "gap": val_err - train_err, "epochs": len(rows),
            "test_err": test_err, "test_gap": test_err - train_err,
            "stopped_at": stop.best_epoch if stop else None,
            "curve_train_err": record.errors,
            "curve_train_err_while_training": [1.0 - r["accuracy"] for r in rows],
            "curve_val_err": [1.0 - r["val_accuracy"] for r in rows],
            "curve_train_loss": [r["loss"] for r in rows], "curve_val_loss": [r["val_loss"] for r in rows],
            "spread": spread(weights)}


def spread(weights: list[np.ndarray]) -> dict[str, float]:
    """The largest weight |w| over all layers: what L2 (slide 153, "punishes large weights") acts on.

    How evenly the net spreads a unit's weights is not reported: the participation ratio
    (Σ w²)² / (D Σ w⁴) of layer 1 falls with L2 (measured 0.35 → 0.19 with λ = 0.03, the same
    counting only the pixels that vary in the training images) and dropout leaves it unchanged,
    because on digits L2 removes the weights of the less useful pixels rather than evening them
    out.  Slides 153 and 162's spread is shown where it holds exactly, in ``spread_toy``.
    """
    return {"max_abs": float(max(np.abs(w).max() for w in weights)),
            "near_zero": float(np.mean(np.concatenate([np.abs(w).ravel() for w in weights]) < NEAR_ZERO))}


def participating(d: dict[str, np.ndarray], seed: int, batch_sizes: tuple[int, ...] = (1, 32),
                  trials: int = 20) -> dict[int, dict[str, float]]:
    """Slides 159-160, explanation 1: the share of hidden-to-hidden weights that get a gradient in one update.

    A weight W₂[j, i] between two hidden layers takes part when unit i (its input) and unit j (its output)
    both survive: (1 − p)² = ¼ of them for p = ½ and one sample.  ReLU already switches some units off,
    so the share is compared with the same net without dropout.  A mini-batch of m samples draws m masks,
    and the weights the update touches are their union.
    """
    rng = np.random.default_rng(seed)
    out: dict[int, dict[str, float]] = {}
    for m in batch_sizes:
        res = {}
        for name, p in (("none", 0.0), ("dropout", DROPOUT)):
            net = nn.FullyConnectedNet(d["x_pool"].shape[1], BIG, 10, dropout=p, rng=seed)
            for k, layer in enumerate(layer for layer in net if isinstance(layer, nn.Dropout)):
                layer.rng = fcnet.backend.get_generator(seed + 1 + k)
            w2 = [layer for layer in net if isinstance(layer, nn.Linear)][1].weight
            shares = []
            for _ in range(trials):
                idx = rng.choice(len(d["y_pool"]), m, replace=False)
                net.zero_grad()
                F.cross_entropy(net(fcnet.tensor(d["x_pool"][idx])), fcnet.tensor(d["y_pool"][idx])).backward()
                shares.append(float(np.mean(w2.grad != 0)))
            res[name] = float(np.mean(shares))
        res["ratio"] = res["dropout"] / res["none"]
        out[m] = res
    return out


def spread_toy(seed: int, steps: int = 400) -> dict[str, list[float]]:
    """Slides 153 and 162 where they apply exactly: four inputs carrying the same feature.

    Score s = w·x with x = (a, a, a, a), target y = a, from w₀ = (1, 0, 0, 0) (which already fits).
    Plain SGD on (s − y)² never changes how w is split (its gradient is along (1, 1, 1, 1));
    adding λ Σ w² moves w to (¼, ¼, ¼, ¼), the smallest Σ w² with the same score; dropout on the
    inputs (inverted, p = 0.5) adds p/(1 − p) Σ w²a² to the expected loss and spreads w the same way.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, (64, 1))
    x, y = np.repeat(a, 4, axis=1), a[:, 0]
    out = {}
    for name, l2, p in [("none", 0.0, 0.0), ("l2", 0.1, 0.0), ("dropout", 0.0, 0.5)]:
        w = fcnet.tensor(np.array([1.0, 0.0, 0.0, 0.0]), requires_grad=True)
        opt = optim.SGD([w], lr=0.05)
        for step in range(steps):
            opt.zero_grad()
            xt = F.dropout(fcnet.tensor(x), p, training=p > 0, rng=seed + step) if p else fcnet.tensor(x)
            err = xt @ w - fcnet.tensor(y)
            loss = (err * err).mean() + l2 * (w * w).sum()
            loss.backward()
            opt.step()
        out[name] = w.numpy().tolist()
    return out


def dropout_example(p: float, seed: int, samples: int = 200_000) -> dict[str, list[float]]:
    """Slide 158's vector and mask, then standard (non-inverted) dropout (scale by 1 − p at test time) and
    fcnet's inverted one (scale by 1/(1 − p) at training time).  The slide gives no p and no test-time rule;
    ``p`` is the lab's choice.
    """
    x = np.array(SLIDE_158)
    mask = np.array(SLIDE_158_MASK, dtype=float)
    rng = np.random.default_rng(seed)
    slide_masks = rng.random((samples, len(x))) >= p
    big = fcnet.tensor(np.tile(x, (samples, 1)))
    inverted = F.dropout(big, p, training=True, rng=seed).numpy()
    return {"x": x.tolist(), "slide_train_example": (x * mask).tolist(),
            "fcnet_train_example": F.dropout(fcnet.tensor(x), p, training=True, mask=mask).numpy().tolist(),
            "standard_train_mean": (x * slide_masks).mean(0).tolist(), "standard_test": (x * (1 - p)).tolist(),
            "fcnet_train_mean": inverted.mean(0).tolist(),
            "fcnet_test": F.dropout(fcnet.tensor(x), p, training=False).numpy().tolist()}


def _figure(out: Path, runs: dict[str, dict[str, Any]], sizes: dict[int, dict[str, Any]],
            models: dict[str, dict[str, Any]]) -> Path:
    fig = plt.figure(figsize=(14, 8.4), constrained_layout=True)
    grid = fig.add_gridspec(2, 4)
    for i, (name, r) in enumerate(runs.items()):
        ax = fig.add_subplot(grid[0, i])
        ep = range(1, len(r["curve_train_err"]) + 1)
        ax.plot(ep, r["curve_train_err"], label=tr("training error (eval mode)", "训练集错误率 (评估模式)"))
        ax.plot(ep, r["curve_val_err"], label=tr("validation error", "验证集错误率"))
        if r["stopped_at"]:
            ax.axvline(r["stopped_at"], color="0.5", ls=":", lw=1,
                       label=tr("weights kept (lowest validation error)", "保留的权重 (验证集错误率最低)"))
        ax.set_xlabel(tr("epoch", "轮次"))
        ax.set_ylabel(tr("error rate", "错误率"))
        ax.set_ylim(0, 0.6)
        ax.set_title(f"{name}\n" + tr(f"gap {r['gap']:.3f}", f"差距 {r['gap']:.3f}"), fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    ax = fig.add_subplot(grid[1, 0:2])
    r = runs[tr("none", "无正则化")]
    ep = range(1, len(r["curve_train_loss"]) + 1)
    ax.plot(ep, r["curve_train_err"], label=tr("training error", "训练集错误率"))
    ax.plot(ep, r["curve_val_err"], label=tr("validation error", "验证集错误率"))
    best = int(np.argmin(r["curve_val_err"]))
    ax.plot(best + 1, r["curve_val_err"][best], "v", color="#D55E00", ms=9,
            label=tr(f"lowest validation error (epoch {best + 1})", f"验证集错误率最低 (第{best + 1}轮)"))
    ax.set_ylim(0, 0.4)
    ax.set_xlabel(tr("epoch", "轮次"))
    ax.set_ylabel(tr("error rate", "错误率"))
    ax.set_title(slide_title("146", "late in training the validation error turns up (no regularisation)",
                             "训练后期验证集错误率转而开始变高 (无正则化)"), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax = fig.add_subplot(grid[1, 2])
    ns = list(sizes)
    ax.plot(ns, [sizes[n]["train_err"] for n in ns], "o-", label=tr("training error", "训练集错误率"))
    ax.plot(ns, [sizes[n]["val_err"] for n in ns], "s-", label=tr("validation error", "验证集错误率"))
    ax.set_xlabel(tr("training images", "训练图像数"))
    ax.set_ylabel(tr("error rate", "错误率"))
    ax.set_title(slide_title("147-148", "more data narrows the gap", "更多训练数据"), fontsize=10)
    ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[1, 3])
    names = list(models)
    ax.plot(range(len(names)), [models[k]["train_err"] for k in names], "o-",
            label=tr("training error", "训练集错误率"))
    ax.plot(range(len(names)), [models[k]["val_err"] for k in names], "s-",
            label=tr("validation error", "验证集错误率"))
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel(tr("hidden units (layers joined by -)", "隐层神经元个数 (多层以 - 连接)"))
    ax.set_ylabel(tr("error rate", "错误率"))
    ax.set_title(slide_title("144-150", "model size: under- and overfitting", "模型大小: 欠拟合与过拟合"), fontsize=10)
    ax.legend(fontsize=8)
    fig.suptitle(slide_title("142-162", f"{N_TRAIN} digits ({NOISE:.0%} random labels), {N_VAL} carved for validation",
                             f"{N_TRAIN}张 digits ({NOISE:.0%}随机标签), 从训练集划出{N_VAL}张作验证集"), fontsize=11)
    return save_figure(fig, out / "overfit.png")


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Train the big net with none / L2 / dropout / early stopping, smaller models, more data; dropout example."""
    epochs = 2 * EPOCHS if full else EPOCHS
    with blas_threads(1):  # small matrices: one BLAS thread is fastest and does not fight other processes
        d = carve(seed)
        runs = {tr("none", "无正则化"): fit(d, N_TRAIN, BIG, seed, epochs),
                tr(f"L2 λ={L2}", f"L2 正则化 λ={L2}"): fit(d, N_TRAIN, BIG, seed, epochs, l2=L2),
                tr(f"dropout p={DROPOUT}", f"随机失活 p={DROPOUT}"):
                    fit(d, N_TRAIN, BIG, seed, epochs, dropout=DROPOUT),
                tr("early stopping (fcnet's addition, after slide 146)", "早停 (fcnet 补充, 依据第146页)"):
                    fit(d, N_TRAIN, BIG, seed, epochs, early=True)}
        none, l2, drop, early = runs.values()
        l1 = fit(d, N_TRAIN, BIG, seed, epochs, l1=L1)
        l1_name = tr(f"L1 λ={L1} (slides 151, 154 name it)", f"L1 正则化 λ={L1} (第151, 154页提到)")
        part = participating(d, seed)
        under = {tr(f"L2 λ={STRONG_L2} (too strong)", f"L2 λ={STRONG_L2} (过强)"):
                 fit(d, N_TRAIN, BIG, seed, epochs, l2=STRONG_L2)}
        models = {"4": fit(d, N_TRAIN, [4], seed, epochs), "32": fit(d, N_TRAIN, [32], seed, epochs),
                  "256-256": none}
        sizes = {100: fit(d, 100, BIG, seed, epochs), N_TRAIN: none, 400: fit(d, 400, BIG, seed, epochs)}
    drop_ex = dropout_example(DROP_EXAMPLE_P, seed)
    toy = spread_toy(seed)
    f = _figure(out, runs, sizes, models)

    def row(name: str, r: dict[str, Any]) -> list[Any]:
        return [name, r["train_err"], r["val_err"], r["gap"], r["test_err"], r["test_gap"], r["epochs"]]

    heads = [tr("setting", "设置"), tr("training error", "训练集错误率"), tr("validation error", "验证集错误率"),
             tr("gap (validation)", "差距 (验证集)"), tr("test error (held out)", "测试集错误率 (留出)"),
             tr("gap (test)", "差距 (测试集)"), tr("epochs run", "训练轮数")]
    vl = none["curve_val_loss"]
    ve = none["curve_val_err"]
    best_epoch = int(np.argmin(ve)) + 1
    t_reg = Table(tr(f"Slides 146-162: {BIG} on {N_TRAIN} images, after training",
                     f"第146-162页: {BIG} 网络, {N_TRAIN} 张训练图像, 训练结束后"), heads,
                  [row(k, v) for k, v in {**runs, l1_name: l1, **under}.items()])
    t_curve = Table(tr("Slide 146: no regularisation, validation curve", "第146页: 无正则化时的验证曲线"),
                    [tr("quantity", "量"), tr("lowest", "最低"), tr("at epoch", "所在轮次"), tr("last", "最后")],
                    [[tr("validation loss", "验证损失"), min(vl), int(np.argmin(vl)) + 1, vl[-1]],
                     [tr("validation error", "验证集错误率"), min(ve), int(np.argmin(ve)) + 1, ve[-1]],
                     [tr("training loss", "训练损失"), min(none["curve_train_loss"]),
                      int(np.argmin(none["curve_train_loss"])) + 1, none["curve_train_loss"][-1]]])
    t_size = Table(tr("Slides 144-150: model size and amount of data", "第144-150页: 模型大小与数据量"), heads,
                   [row(tr(f"hidden {k}, {N_TRAIN} images", f"隐层 {k}, {N_TRAIN} 张"), v) for k, v in models.items()]
                   + [row(tr(f"{BIG}, {n} images", f"{BIG}, {n} 张"), v) for n, v in sizes.items()])
    t_spread = Table(tr("Slide 153: L2 'punishes large weights': the largest weight of the net "
                        "(how evenly weights spread: next table)",
                        "第153页: L2 “对于大数值的权值向量进行严厉惩罚”: 网络中最大的权值 (权重的分散: 见下表)"),
                     [tr("setting", "设置"), "max |w|"],
                     [[k, v["spread"]["max_abs"]] for k, v in runs.items()][:3])
    t_l1 = Table(tr(f"Slides 151, 154 name L1 beside L2 (standard R(W) = Σ|W|): share of the net's weights with "
                    f"|w| < {NEAR_ZERO:g} after training", f"第151, 154页提到 L1 与 L2 (标准形式 R(W) = Σ|W|): 训练后 "
                    f"|w| < {NEAR_ZERO:g} 的权重比例"),
                 [tr("setting", "设置"), tr(f"share of |w| < {NEAR_ZERO:g}", f"|w| < {NEAR_ZERO:g} 的比例"),
                  tr("gap (validation)", "差距 (验证集)"), tr("gap (test)", "差距 (测试集)")],
                 [[k, v["spread"]["near_zero"], v["gap"], v["test_gap"]]
                  for k, v in [*list(runs.items())[:2], (l1_name, l1)]])
    t_part = Table(tr(f"Slides 159-160, explanation 1: share of layer-2 weights (256×256) with a non-zero gradient in "
                      f"one update, dropout p = {DROPOUT} vs none (mean of 20 draws)",
                      f"第159-160页 解释1: 一次更新中梯度非零的第2层权重 (256×256) 的比例, 随机失活 p = {DROPOUT} "
                      "与无随机失活 (20次平均)"),
                   [tr("samples in the update m", "本次更新的样本数 m"), tr("no dropout", "无随机失活"),
                    tr("dropout", "随机失活"),
                    tr("ratio (one sample: (1 − p)² expected)", "比值 (单个样本预期 (1 − p)²)")],
                   [[m, v["none"], v["dropout"], v["ratio"]] for m, v in part.items()])
    toy_names = {"none": tr("none", "无正则化"), "l2": tr("L2 λ=0.1", "L2 λ=0.1"),
                 "dropout": tr("dropout p=0.5 on the inputs", "输入随机失活 p=0.5")}
    t_toy = Table(tr("Slides 153, 162: four inputs carrying the same feature, w₀ = (1, 0, 0, 0), "
                     "400 gradient descent steps",
                     "第153, 162页: 四个输入携带同一特征, w₀ = (1, 0, 0, 0), 梯度下降400步"),
                  [tr("setting", "设置"), "w₁", "w₂", "w₃", "w₄", "max |w| / Σ|w|"],
                  [[toy_names[k], *w, max(abs(v) for v in w) / sum(abs(v) for v in w)] for k, w in toy.items()])
    t_drop = Table(tr(f"Slide 158: [0.2, 0.5, 1.3, 0.8, 1.1] → [0, 0.5, 1.3, 0, 1.1]; the slide gives no p and no "
                      f"test-time rule: p = {DROP_EXAMPLE_P} is chosen by the lab (2 of 5 dropped, as in the example)",
                      f"第158页: [0.2, 0.5, 1.3, 0.8, 1.1] → [0, 0.5, 1.3, 0, 1.1]; 课件没有给出 p 和测试时的做法: "
                      f"p = {DROP_EXAMPLE_P} 由本实验选定 (与例子一样舍弃5个中的2个)"),
                   [tr("element", "元素"), tr("slide: x", "课件: x"),
                    tr("slide: dropped (mask 01101)", "课件: 舍弃后 (掩码 01101)"),
                    tr("standard (non-inverted) dropout: E[training]", "标准 (非反向) 随机失活: E[训练]"),
                    tr("standard (non-inverted) dropout: test (1 − p)x", "标准 (非反向) 随机失活: 测试 (1 − p)x"),
                    tr("fcnet (inverted dropout): training (same mask)", "fcnet (反向随机失活): 训练 (同一掩码)"),
                    tr("fcnet (inverted dropout): E[training]", "fcnet (反向随机失活): E[训练]"),
                    tr("fcnet (inverted dropout): test", "fcnet (反向随机失活): 测试")],
                   [[i + 1, drop_ex["x"][i], drop_ex["slide_train_example"][i], drop_ex["standard_train_mean"][i],
                     drop_ex["standard_test"][i], drop_ex["fcnet_train_example"][i], drop_ex["fcnet_train_mean"][i],
                     drop_ex["fcnet_test"][i]] for i in range(len(SLIDE_158))])
    claim = tr(
        f"Setup: {N_TRAIN} training images, {NOISE:.0%} of their labels replaced by random classes (on clean "
        "digits there is too little to memorise), a validation set carved from the training set, and digits' own "
        "test split held out: no choice looks at it, not even early stopping's epoch, which the validation set picks. "
        "Slide 146: 'early in training, a lower training error goes with a lower validation error; late in "
        "training the validation error stops falling and turns up' (here: validation error lowest at epoch "
        f"{best_epoch}, then rising while the training error keeps falling to 0). Slides 144-145: a model too weak "
        f"(4 hidden units) or constrained too hard (L2 λ = {STRONG_L2:g}) underfits, with high training AND validation "
        "error. Slides 147-148: more data narrows the gap. Slides 149-153: a smaller model, L2 (which 'punishes "
        "large weights and encourages spread-out weight vectors') and dropout (162: 'encourages spread-out "
        "weights') all shrink the gap between training and validation error; so does early stopping, which is "
        "not in the lecture: fcnet adds it, motivated by slide 146's validation curve, and keeps the weights of "
        "the lowest validation error. On the net L2 lowers the largest weight |w|; the even spread the slides describe "
        "shows exactly where inputs carry the same information: from w = (1, 0, 0, 0) plain SGD keeps that "
        "split, L2 and input dropout move w towards (¼, ¼, ¼, ¼). Slide 158 "
        "drops outputs at training time ([0.2, 0.5, 1.3, 0.8, 1.1] → [0, 0.5, 1.3, 0, 1.1]) and says nothing "
        "about test time; standard (non-inverted) dropout scales by 1 − p at test time, fcnet's inverted "
        "dropout scales by 1/(1 − p) at training time instead (p chosen by the lab); in both the expected "
        "training output equals the test output. L2, dropout and early stopping shrink the gap on the held-out "
        "test set too (the 'gap (test)' column); early stopping's validation error comes from the set that chose its "
        f"epoch, so its test error is the fair estimate. L1 (named on slides 151, 154; standard R(W) = Σ|W|, "
        f"λ = {L1}) also shrinks the gap and switches "
        f"{l1['spread']['near_zero']:.0%} of the weights off (|w| < {NEAR_ZERO:g}; L2: "
        f"{l2['spread']['near_zero']:.0%}). Slides 159-160, explanation 1, 'fewer parameters take part in each "
        f"update': for one sample dropout p = {DROPOUT} leaves {part[1]['ratio']:.2f} of the layer-2 weights with a "
        f"gradient relative to no dropout ((1 − p)² = {(1 - DROPOUT) ** 2:.2f}); a mini-batch of 32 draws 32 masks, "
        f"and their union still touches {part[32]['ratio']:.2f} of them.",
        f"设置: {N_TRAIN}张训练图像, 其中{NOISE:.0%}的标签换成随机类别 (干净的 digits 上可供记忆的太少), "
        "验证集从训练集中划出, digits 自带的测试集留出不用: 任何选择都不看它, 包括由验证集选出的早停轮次。"
        "第146页: “训练初期: 训练集上的误差越小, 验证集上的误差也越小; 训练后期: 模型在验证集上的错误率不再降低, "
        f"转而开始变高” (此处: 验证集错误率在第{best_epoch}轮最低, 之后上升, 而训练集错误率继续下降到 0)。"
        "第144-145页: 模型描述能力"
        f"太弱 (4个隐层神经元) 或约束过强 (L2 λ = {STRONG_L2:g}) 时欠拟合, 训练集和验证集错误率都高。"
        "第147-148页: 更多训练数据"
        "缩小差距。第149-153页: 更小的模型、L2 正则化 (“对于大数值的权值向量进行严厉惩罚, 鼓励更加分散的权重向量”)、"
        "随机失活 (第162页: “鼓励权重分散”) 都缩小训练集与验证集错误率之间的差距; 早停也一样, 但它不在课件中: "
        "fcnet 依据第146页的验证曲线补充了它, 保留验证集错误率最低时的权重。"
        "在网络上 L2 降低了最大权值 |w|; 课件所说的分散在输入携带相同信息时最清楚: 从 w = (1, 0, 0, 0) 出发, "
        "普通梯度下降保持这种分配, L2 与输入随机失活使 w 趋向 (¼, ¼, ¼, ¼)。第158页在训练时"
        "舍弃输出 ([0.2, 0.5, 1.3, 0.8, 1.1] → [0, 0.5, 1.3, 0, 1.1]), 没有谈测试时的做法; 标准 (非反向) 随机失活"
        "在测试时乘以 1 − p, fcnet 的反向随机失活改为在训练时除以 1 − p (p 由本实验选定); 两者训练输出的期望都等于"
        "测试输出。L2、随机失活与早停在留出的测试集上同样缩小差距 (“差距 (测试集)”一列); 早停的验证集错误率"
        "来自选出其轮次的同一集合, 公正的估计是它的测试集错误率。"
        f"L1 正则化 (第151, 154页提到; 标准形式 R(W) = Σ|W|, λ = {L1}) 也缩小差距, 并使 "
        f"{l1['spread']['near_zero']:.0%} 的权重接近 0 (|w| < {NEAR_ZERO:g}; L2: {l2['spread']['near_zero']:.0%})。"
        f"第159-160页 解释1 “随机失活使得每次更新梯度时参与计算的网路参数减少了”: 单个样本时, 随机失活 p = {DROPOUT} "
        f"使第2层有梯度的权重为无随机失活时的 {part[1]['ratio']:.2f} ((1 − p)² = {(1 - DROPOUT) ** 2:.2f}); "
        "一个32样本的小批量抽取32个"
        f"掩码, 它们的并集仍覆盖 {part[32]['ratio']:.2f}。")
    numbers = {
        "none": none, "l2": l2, "dropout": drop, "early": early, "under_l2": next(iter(under.values())),
        "models": models, "sizes": sizes, "spread_toy": toy, "best_val_err_epoch": best_epoch,
        "dropout_example": drop_ex, "l1": l1, "participating": part,
    }
    summary = tr(
        f"On {N_TRAIN} digits with {NOISE:.0%} random labels (validation carved out, a test set held out): "
        f"validation error turns up after epoch {best_epoch} (slide 146); too weak or too constrained models "
        "underfit (144-145); more data, a smaller model, L2, L1 and dropout shrink the gap on validation and test "
        "(147-162), as does early stopping (fcnet's addition).",
        f"{N_TRAIN}张 digits, {NOISE:.0%} 随机标签 (划出验证集, 另留测试集): 验证集错误率在第{best_epoch}轮后上升 "
        "(第146页); 太弱或约束太强的模型欠拟合 (第144-145页); 更多数据、更小的模型、L2、L1 和随机失活在验证集与"
        "测试集上都缩小差距 (第147-162页), 早停 (fcnet 补充) 也是。")
    return LabResult("overfit", SLIDES, tr("Overfitting and regularisation", "过拟合与正则化"), claim,
                     [t_curve, t_reg, t_size, t_spread, t_l1, t_part, t_toy, t_drop], [f], numbers,
                     summary=summary, formulas=[r"L(W)=\frac{1}{N}\sum_i L_i(f(x_i,W),y_i)+\lambda R(W)",
                               r"\text{L2 (152-153):}\quad R(W)=\sum_k\sum_l W_{k,l}^2",
                               r"\text{L1 (named on 151, 154; standard form):}\quad R(W)=\sum_k\sum_l |W_{k,l}|"])
